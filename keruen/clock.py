"""Time in one place: the ledger's integer microseconds (UTC), RFC 3339 text, the wall clock.

The ledger stores every time as integer microseconds since the epoch, UTC; `micros` and
`time_of` convert exactly (no float seconds, before 1970 too), `iso` prints one for people
and JSON, `parse_time` is the one parser of the time options users type (`--now`, `?now=`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from keruen.errors import InvalidQuery

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def now_us() -> int:
    """The wall clock, as ledger microseconds."""
    return time.time_ns() // 1000


def micros(t: datetime) -> int:
    """A time as integer microseconds since the epoch (UTC), the ledger's time column: exact
    integer arithmetic (no float seconds), before 1970 too; a time without offset is UTC.

    The last answer is kept: judging one event asks for its time several times (the future
    check, each batch's creation time, a new batch's), and the conversion costs about as much
    as a dict insert. One tuple, replaced whole, so threads never see a mixed pair."""
    global _last
    last = _last
    if last[0] is t:
        return last[1]
    us = ((t if t.tzinfo else t.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND
    _last = (t, us)
    return us


_last: tuple[datetime, int] = (_EPOCH, 0)


def time_of(us: int) -> datetime:
    """Ledger microseconds as an aware datetime (UTC), exactly."""
    return _EPOCH + timedelta(microseconds=us)


def iso(us: int) -> str:
    """A ledger time (microseconds, UTC) as RFC 3339 with a `Z`: exact (no float seconds), and
    cheap enough for the thousands of times a trace or a history prints."""
    seconds, fraction = divmod(us, 1_000_000)
    base = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*time.gmtime(seconds)[:6])
    return f"{base}.{fraction:06d}Z" if fraction else f"{base}Z"


def parse_time(text: str, field: str, error: type[InvalidQuery] = InvalidQuery) -> datetime:
    """An RFC 3339 date-time with an offset, as users type it in an option; `error` (naming
    `field` and the reason) when it is not one."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise error(field, f"{text!r} is not an RFC 3339 time") from None
    if len(text) <= 10:
        raise error(field, f"{text!r} is a date; give a time with an offset too")
    if when.tzinfo is None:
        raise error(field, f"{text!r} needs an offset (Z or +05:00)")
    return when
