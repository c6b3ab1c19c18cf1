"""Reading the body of POST /v1/events into event lines. Pure, no I/O.

A JSON object is one event; a JSON array or a JSON Lines body (`application/x-ndjson`) is a
batch. Array elements are cut out as raw bytes (`msgspec.Raw`), never decoded and re-encoded,
so what the ledger parses and hashes is exactly what the client sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from keruen.api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

JSON_LINES = frozenset(
    {
        "application/x-ndjson",
        "application/jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
        "application/json-lines",
    }
)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


class _Id(msgspec.Struct):
    """Decoded like the event structs are, so duplicate keys resolve the same way."""

    id: str | None = None


_ids = msgspec.json.Decoder(_Id)


@dataclass(frozen=True, slots=True)
class Body:
    single: bool
    lines: list[bytes]


def media_type(content_type: str | None) -> str:
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


def read(content_type: str | None, body: bytes, max_events: int) -> Body:
    """The event lines of a request body, or a 4xx error naming the problem."""
    kind = media_type(content_type)
    if kind in JSON_LINES:
        parsed = Body(False, [line for line in body.splitlines() if line.strip()])
    elif kind == "application/json" or kind.endswith("+json"):
        parsed = _json(body)
    else:
        raise UnsupportedMediaType(
            f"send application/json (an event or an array) or application/x-ndjson, not {kind!r}",
            "content-type",
        )
    if not parsed.lines:
        raise BadRequest("the body holds no event", "body")
    if len(parsed.lines) > max_events:
        raise PayloadTooLarge(
            f"{len(parsed.lines):,} events in one request; the limit is "
            f"{max_events:,}: split the batch",
            "body",
        )
    return parsed


def _json(body: bytes) -> Body:
    if not body.lstrip().startswith(b"["):
        return Body(True, [body] if body.strip() else [])
    try:
        return Body(False, [bytes(raw) for raw in _raw_list.decode(body)])
    except msgspec.DecodeError as e:
        raise BadRequest(f"malformed JSON array: {e}", "body") from None
    except RecursionError:
        raise BadRequest("malformed JSON array: nested too deeply", "body") from None


def event_id(line: bytes) -> str | None:
    """The id the ledger will see in a line, or None when the line does not decode."""
    try:
        return _ids.decode(line).id
    except Exception:  # whatever is wrong with the line, the ledger rejects it with the reason
        return None
