"""The one place analytics reads the ledger: through the read port, never its tables."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Connection

from keruen.store.port import Head, LedgerReader, StoredEvent

__all__ = ["Head", "StoredEvent", "batch_goods", "event_seqs", "events_after", "head"]


def head(conn: Connection) -> Head:
    return LedgerReader(conn).head()


def events_after(conn: Connection, after_seq: int, upto: int) -> Iterator[StoredEvent]:
    """Events with after_seq < seq <= upto, ascending, cancelled ones included (a cancel is
    itself an event: readers derive what stands from the cancel rows)."""
    for stored in LedgerReader(conn, yield_per=20_000).select_events(after_seq=after_seq):
        if stored.seq > upto:
            return
        yield stored


def batch_goods(conn: Connection, ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """HS code, origin and unit of each of these batches the ledger knows."""
    return {b: (i.hs, i.origin, i.unit) for b, i in LedgerReader(conn).batches(ids).items()}


def event_seqs(conn: Connection, ids: set[str]) -> dict[str, int]:
    """The seq of each of these events the ledger holds."""
    return {i: s.seq for i, s in LedgerReader(conn).events_by_id(ids).items()}
