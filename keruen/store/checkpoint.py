"""Signed checkpoints: the heads of the ledger's chains, signed with a key the database does
not hold, kept (and published) outside it.

A hash chain shows that nothing was altered before its head, not that the head is the one
it was: whoever writes the database can drop the newest rows, or rewrite the chain
consistently. A checkpoint says "at this time the events ended at seq N with hash H, the
rejections at id R with hash, the audit log at id A with hash", HMAC-SHA256-signed.
`keruen verify --checkpoints FILE` then finds every truncation or rewrite of what a
checkpoint covered. The key comes from settings (KERUEN_CHECKPOINT_KEY_FILE or
KERUEN_CHECKPOINT_KEY); publishing the file lets others check the heads they were shown.

Automatic checkpoints (`Auto`): with a key configured, `keruen ingest` and the API's writer
sign the heads without an operator, after a commit, once every
KERUEN_CHECKPOINT_EVERY lines (default 10,000) or KERUEN_CHECKPOINT_INTERVAL_S seconds
(default 60) — whichever comes first — and when they finish, appending to
KERUEN_CHECKPOINT_FILE (default keruen-checkpoints.jsonl), each line flushed to disk.
A truncation or rewrite of anything committed before the newest automatic checkpoint is
then found by `keruen verify --checkpoints FILE`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.errors import ConfigError
from keruen.settings import get_settings
from keruen.store import schema as t
from keruen.store.chain import GENESIS
from keruen.store.integrity import Report, check_event_head, check_row_head
from keruen.store.ledger import head, micros_now, rejections_head

MIN_KEY_BYTES = 16
log = logging.getLogger("keruen.checkpoint")


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


def append(path: Path, cp: Checkpoint) -> None:
    """Append a checkpoint to a file, on disk before it returns."""
    with path.open("ab") as f:
        f.write(line(cp))
        f.flush()
        os.fsync(f.fileno())


def configured() -> bool:
    s = get_settings()
    return bool(s.checkpoint_key_file or s.checkpoint_key)


class Auto:
    """Signed checkpoints without an operator: `note(lines)` after each commit counts what
    was written and, once `every` lines or `interval_s` seconds have passed since the last
    checkpoint, appends a new one to `path` (unless the heads have not moved); `close()`
    takes the last one. A checkpoint that cannot be taken is logged and tried again at the
    next commit: it never fails the writes it follows."""

    def __init__(
        self,
        eng: Engine,
        secret: bytes,
        path: Path,
        every: int = 10_000,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.eng, self.secret, self.path = eng, secret, path
        self.every, self.interval_s, self.clock = every, interval_s, clock
        self.pending = 0
        self.since = clock()
        self.last: Checkpoint | None = None
        self.taken = 0

    @classmethod
    def from_settings(cls, eng: Engine) -> Auto | None:
        """The automatic checkpoints settings ask for: None when no key is configured (or
        both KERUEN_CHECKPOINT_EVERY and KERUEN_CHECKPOINT_INTERVAL_S are 0). Checks at once
        that the key is usable and the file writable (a ConfigError saying why)."""
        s = get_settings()
        if not configured():
            if s.checkpoint_file:
                raise ConfigError(
                    "KERUEN_CHECKPOINT_FILE is set but no key signs the checkpoints: set "
                    "KERUEN_CHECKPOINT_KEY_FILE"
                )
            return None
        if not s.checkpoint_every and not s.checkpoint_interval_s:
            return None
        path = Path(s.checkpoint_file or DEFAULT_FILE)
        try:
            path.open("ab").close()
        except OSError as e:
            raise ConfigError(f"KERUEN_CHECKPOINT_FILE {path}: {e.strerror or e}") from e
        return cls(eng, key(), path, s.checkpoint_every, s.checkpoint_interval_s)

    def note(self, lines: int) -> Checkpoint | None:
        """After a commit of `lines` lines (events, rejections, audit entries): the checkpoint
        taken, if one was due."""
        self.pending += lines
        due = (self.every and self.pending >= self.every) or (
            self.interval_s and self.pending and self.clock() - self.since >= self.interval_s
        )
        return self._take() if due else None

    def close(self) -> Checkpoint | None:
        return self._take() if self.pending else None

    def _take(self) -> Checkpoint | None:
        try:
            with self.eng.connect() as conn:
                cp = take(conn, self.secret)
            moved = self.last is None or (cp.events, cp.rejections, cp.audit) != (
                self.last.events,
                self.last.rejections,
                self.last.audit,
            )
            if moved:
                append(self.path, cp)
                self.taken += 1
        except (OSError, sa.exc.SQLAlchemyError) as e:
            log.error("automatic checkpoint failed (tried again at the next commit): %s", e)
            return None
        self.last, self.pending, self.since = cp, 0, self.clock()
        return cp if moved else None


DEFAULT_FILE = "keruen-checkpoints.jsonl"
