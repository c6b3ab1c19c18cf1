"""Hash chains: each row's hash covers its own content and the hash of the row before it.

The events chain (migration 0001), the rejections' (0007) and the audit log's (0011) use
`chain_hash`; a row's content digest is the SHA-256 of a fixed JSON encoding of its
columns, so `keruen verify` recomputes it from what is stored. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec

GENESIS = "0" * 64
_encode = msgspec.json.Encoder().encode

# the columns a rejection's row digest covers, in this order
REJECTION_COLUMNS = (
    "received_us",
    "source",
    "line",
    "event_id",
    "error",
    "field",
    "reason",
    "raw",
    "digest",
)


def chain_hash(prev: str, digest: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev) + bytes.fromhex(digest)).hexdigest()


def row_digest(values: Sequence[Any]) -> str:
    """The SHA-256 of a row's values as a JSON array (text, integers and nulls only)."""
    return hashlib.sha256(_encode(list(values))).hexdigest()


def raw_digest(raw: bytes | str) -> str:
    """What identifies a submitted line's content (for idempotent rejections)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return hashlib.sha256(data).hexdigest()


def text(value: str) -> str:
    """Text any database stores as it is: NUL and unpaired surrogates written as escapes."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


AUDIT_COLUMNS = (
    "at_us",
    "user_id",
    "actor",
    "role",
    "action",
    "subject",
    "outcome",
    "client",
    "detail",
)
