"""Simulated time: integer seconds since the epoch (UTC), written as RFC 3339 local time.

Formatting dominates a naive writer at millions of events, so a date prefix is cached per
day and the time of day comes from a precomputed table. Kazakhstan used two zones in
2021-2022: UTC+6 in the east and centre, UTC+5 west of about 60°E; events at a place use
its zone, office events (invoices) the capital's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DAY = 86_400
HOUR = 3_600
EAST, WEST = 6, 5

_TOD = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
TOD_BYTES = [s.encode() for s in _TOD]  # for lines written as bytes (seal pings)
_SUFFIX = {6: "+06:00", 5: "+05:00", 3: "+03:00", 0: "Z"}
_days: dict[int, str] = {}
_day_bytes: dict[int, bytes] = {}
_dates: dict[int, date] = {}


def epoch(d: date) -> int:
    """Seconds since the epoch at 00:00 UTC of `d`."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def to_date(t: int) -> date:
    """The UTC date of `t` (cached per day: called for nearly every event)."""
    day = t // DAY
    d = _dates.get(day)
    if d is None:
        d = _dates[day] = (datetime(1970, 1, 1) + timedelta(days=day)).date()
    return d


def stamp(t: int, zone: int = EAST) -> str:
    """RFC 3339 text of `t` in UTC+`zone` hours."""
    local = t + zone * HOUR
    day = local // DAY
    prefix = _days.get(day)
    if prefix is None:
        prefix = _days[day] = f"{to_date(day * DAY).isoformat()}T"
    return prefix + _TOD[local % DAY] + _SUFFIX[zone]


def day_bytes(day: int) -> bytes:
    """`YYYY-MM-DDT` of a day (days since the epoch), as bytes; cached."""
    prefix = _day_bytes.get(day)
    if prefix is None:
        prefix = _day_bytes[day] = f"{to_date(day * DAY).isoformat()}T".encode()
    return prefix


def zone_of(lon: float) -> int:
    return WEST if lon < 60.0 else EAST


def ddmmyy(t: int, zone: int = EAST) -> str:
    s = stamp(t, zone)
    return s[8:10] + s[5:7] + s[2:4]


def year_month(t: int) -> tuple[int, int]:
    d = to_date(t + EAST * HOUR)
    return d.year, d.month
