"""Consumers of the ledger that keep their state between runs, and read only what came after.

A consumer (detection's view of the ledger, transit monitoring's tracker) saves its state with
the seq and chain hash of the last event it has seen. The next run loads it, asks the port
for the events after that seq (`LedgerReader.select_events(after_seq=...)`) and folds them in,
instead of reading the whole ledger again. A ledger that no longer has that hash at that seq
was rewritten (restored from a backup, replaced): the saved state is not returned, and the
consumer starts over from the first event.

The state is the consumer's own bytes, with a `format` naming their encoding and version: a
state saved by another version of the consumer is not returned either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.store.db import upsert
from keruen.store.port import Head, LedgerReader
from keruen.store.schema import consumer_states


@dataclass(frozen=True, slots=True)
class Saved:
    """A consumer's state as of event `seq` (whose chain hash is `hash`)."""

    seq: int
    hash: str
    state: bytes

    @property
    def head(self) -> Head:
        return Head(self.seq, self.hash)


def load(conn: Connection, name: str, format: str) -> Saved | None:
    """The state `name` saved in `format`; None when there is none, when it is of another
    format, or when the ledger no longer has the saved hash at the saved seq."""
    c = consumer_states.c
    row = conn.execute(sa.select(c.seq, c.hash, c.format, c.state).where(c.name == name)).first()
    if row is None or row.format != format:
        return None
    if row.seq and LedgerReader(conn).hash_at(row.seq) != row.hash:
        return None  # another ledger now: start over
    return Saved(int(row.seq), str(row.hash), bytes(row.state))


def save(conn: Connection, name: str, format: str, head: Head, state: bytes) -> None:
    """Keep `state` as the consumer's state as of `head` (in the caller's transaction)."""
    row = {
        "name": name,
        "seq": head.seq,
        "hash": head.hash,
        "format": format,
        "state": state,
        "saved_us": time.time_ns() // 1000,
    }
    upsert(conn, consumer_states, [row], ("name",))


def forget(conn: Connection, name: str) -> None:
    """Drop a consumer's state: its next run reads the whole ledger."""
    conn.execute(sa.delete(consumer_states).where(consumer_states.c.name == name))
