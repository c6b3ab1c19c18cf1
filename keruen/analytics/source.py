"""The one place analytics reads the ledger: head and events after a sequence number.

Until the read port (`keruen.store.port`) is on main this reads the ledger's tables; switch
this module, and only this module, to `LedgerReader` when it lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.model import events as ev
from keruen.store import schema as t

_decode = msgspec.json.Decoder(ev.AnyEvent)


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class Stored:
    seq: int
    hash: str
    event: ev.Event


def head(conn: Connection) -> Head:
    e = t.events.c
    row = conn.execute(sa.select(e.seq, e.hash).order_by(e.seq.desc()).limit(1)).first()
    return Head(0, "") if row is None else Head(int(row.seq), str(row.hash))


def events_after(conn: Connection, after_seq: int, upto: int) -> Iterator[Stored]:
    """Events with after_seq < seq <= upto, ascending, cancelled ones included (a cancel is
    itself an event: readers derive what stands from the cancel rows)."""
    e = t.events.c
    q = (
        sa.select(e.seq, e.hash, e.canonical)
        .where(e.seq > after_seq, e.seq <= upto)
        .order_by(e.seq)
    )
    for seq, digest, canonical in conn.execute(q).yield_per(20_000):
        yield Stored(int(seq), str(digest), _decode.decode(canonical))
