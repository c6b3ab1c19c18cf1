"""Stored forms back to typed values: the one place the ledger's canonical JSON is decoded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from keruen.model import events as ev

_decoder = msgspec.json.Decoder(ev.AnyEvent)
_raw = msgspec.json.Decoder(dict[str, Any])
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode_event(canonical: str | bytes) -> ev.AnyEvent:
    """A stored event's canonical JSON as its typed struct."""
    return _decoder.decode(canonical)


def decode_object(canonical: str | bytes) -> dict[str, Any]:
    """A stored event's JSON object as it is, fields beyond the contract included."""
    return _raw.decode(canonical)


def time_of(us: int) -> datetime:
    """A ledger time (integer microseconds since the epoch, UTC) as an aware datetime, exactly."""
    return _EPOCH + timedelta(microseconds=us)
