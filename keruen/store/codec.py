"""Stored forms back to typed values: the one place the ledger's canonical JSON is decoded."""

from __future__ import annotations

from typing import Any

import msgspec

from keruen.clock import time_of
from keruen.model import events as ev

__all__ = ["decode_event", "decode_object", "time_of"]

_decoder = msgspec.json.Decoder(ev.AnyEvent)
_raw = msgspec.json.Decoder(dict[str, Any])


def decode_event(canonical: str | bytes) -> ev.AnyEvent:
    """A stored event's canonical JSON as its typed struct."""
    return _decoder.decode(canonical)


def decode_object(canonical: str | bytes) -> dict[str, Any]:
    """A stored event's JSON object as it is, fields beyond the contract included."""
    return _raw.decode(canonical)
