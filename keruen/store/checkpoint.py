"""Signed checkpoints: the heads of the ledger's chains, signed with a key the database does
not hold, kept (and published) outside it.

A hash chain shows that nothing was altered before its head, not that the head is the one
it was: whoever writes the database can drop the newest rows, or rewrite the chain
consistently. A checkpoint says "at this time the events ended at seq N with hash H, the
rejections at id R with hash, the audit log at id A with hash", HMAC-SHA256-signed.
`keruen verify --checkpoints FILE` then finds every truncation or rewrite of what a
checkpoint covered. The key comes from settings (KERUEN_CHECKPOINT_KEY_FILE or
KERUEN_CHECKPOINT_KEY); publishing the file lets others check the heads they were shown.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import ConfigError
from keruen.settings import get_settings
from keruen.store import schema as t
from keruen.store.chain import GENESIS
from keruen.store.integrity import Report, check_event_head, check_row_head
from keruen.store.ledger import head, micros_now, rejections_head

MIN_KEY_BYTES = 16


class Head(msgspec.Struct, array_like=True):
    last: int  # seq of the newest event, id of the newest rejection or audit entry
    hash: str


class Checkpoint(msgspec.Struct, kw_only=True):
    at_us: int
    events: Head
    rejections: Head
    audit: Head
    sig: str = ""

    def payload(self) -> bytes:
        return msgspec.json.encode([self.at_us, self.events, self.rejections, self.audit])


_decode = msgspec.json.Decoder(Checkpoint)
_encode = msgspec.json.Encoder().encode


def key() -> bytes:
    """The signing key from settings, or a ConfigError saying how to give one."""
    s = get_settings()
    if s.checkpoint_key_file:
        try:
            value = Path(s.checkpoint_key_file).read_bytes().strip()
        except OSError as e:
            raise ConfigError(f"KERUEN_CHECKPOINT_KEY_FILE: {e.strerror or e}") from e
    elif s.checkpoint_key:
        value = s.checkpoint_key.encode()
    else:
        raise ConfigError(
            "checkpoints need a key the database does not hold: set KERUEN_CHECKPOINT_KEY_FILE"
        )
    if len(value) < MIN_KEY_BYTES:
        raise ConfigError(f"the checkpoint key must be at least {MIN_KEY_BYTES} bytes")
    return value


def _mac(secret: bytes, cp: Checkpoint) -> str:
    return hmac.new(secret, cp.payload(), hashlib.sha256).hexdigest()


def take(conn: Connection, secret: bytes) -> Checkpoint:
    """A signed checkpoint of the three chains' heads as they are now."""
    seq, event_hash = head(conn)
    cp = Checkpoint(
        at_us=micros_now(),
        events=Head(seq, event_hash),
        rejections=Head(*rejections_head(conn)),
        audit=Head(*_audit_head(conn)),
    )
    cp.sig = _mac(secret, cp)
    return cp


def _audit_head(conn: Connection) -> tuple[int, str]:
    table = t.full_metadata().tables["audit_log"]
    row = conn.execute(sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1))
    found = row.first()
    return (found.id, found.hash) if found else (0, GENESIS)


def line(cp: Checkpoint) -> bytes:
    return _encode(cp) + b"\n"


def read(path: Path) -> list[Checkpoint]:
    """The checkpoints of a file (one JSON object a line); a malformed line is a ConfigError."""
    out = []
    for n, text in enumerate(path.read_bytes().splitlines(), 1):
        if text.strip():
            try:
                out.append(_decode.decode(text))
            except msgspec.DecodeError as e:  # ValidationError is a DecodeError
                raise ConfigError(f"{path} line {n}: not a checkpoint ({e})") from e
    return out


def check(
    conn: Connection, report: Report, checkpoints: Iterable[Checkpoint], secret: bytes
) -> None:
    """Each checkpoint's signature, then each head it names against the stored rows."""
    audit = t.full_metadata().tables["audit_log"]
    for n, cp in enumerate(checkpoints, 1):
        if not hmac.compare_digest(cp.sig, _mac(secret, cp)):
            report.add("checkpoints", f"#{n}", "signature does not verify (forged, or another key)")
            continue
        by = f"checkpoint #{n}"
        if cp.events.last:
            check_event_head(conn, report, cp.events.last, cp.events.hash, by)
        check_row_head(conn, report, t.rejections, cp.rejections.last, cp.rejections.hash, by)
        check_row_head(conn, report, audit, cp.audit.last, cp.audit.hash, by)
