"""Storage alone, for the ingest benchmark's baseline: the ledger's stored rows inserted again.

It copies physical rows (events, moves, batches, links) from one ledger into a fresh one,
so it lives with the schema, in `keruen.store`, and nowhere else.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.store import db
from keruen.store import schema as t
from keruen.store.driver import bulk_write
from keruen.store.ledger import BATCH_COLUMNS, EVENT_COLUMNS, LINK_COLUMNS, MOVE_COLUMNS


def stored_rows_insert(eng: Engine, db_url: str | None, chunk: int) -> float:
    """Seconds to insert, `chunk` events per transaction, the rows the ingest stored (events,
    their moves, batches and transform links) into an empty ledger of the same schema, by
    the ingest's own write (`bulk_write`): what storage alone costs, without parsing or
    judging."""
    e, m, b, lk = t.events.c, t.moves.c, t.batches.c, t.links.c
    spent = 0.0
    # a second scratch database: on the PostgreSQL server named, or a temporary SQLite file
    other = db_url if eng.dialect.name == "postgresql" else None
    with db.scratch(other) as fresh, eng.connect() as src:
        last = src.scalar(sa.select(sa.func.max(e.seq))) or 0
        for first in range(1, last + 1, chunk):
            span = (first, first + chunk - 1)
            part = [
                src.execute(sa.select(*(e[c] for c in EVENT_COLUMNS)).where(e.seq.between(*span))),
                src.execute(
                    # made by these events: under their key (import, arrival, a transform's
                    # first output), or as a transform's output (links); batches.event_id has
                    # no index to join on
                    sa.union(
                        sa.select(*(b[c] for c in BATCH_COLUMNS))
                        .join_from(t.events, t.batches, (b.batch == e.key) & (b.event_id == e.id))
                        .where(e.seq.between(*span)),
                        sa.select(*(b[c] for c in BATCH_COLUMNS))
                        .join_from(t.links, t.batches, b.batch == lk.output)
                        .where(lk.event_seq.between(*span)),
                    )
                ),
                src.execute(
                    sa.select(*(m[c] for c in MOVE_COLUMNS)).where(m.event_seq.between(*span))
                ),
                src.execute(
                    sa.select(lk.input, lk.output, lk.event_seq).where(lk.event_seq.between(*span))
                ),
            ]
            rows = [[tuple(r) for r in result] for result in part]
            start = time.perf_counter()
            with fresh.begin() as conn:
                bulk_write(
                    conn,
                    [
                        (table, columns, table_rows, ())
                        for table, columns, table_rows in zip(
                            (t.events, t.batches, t.moves, t.links),
                            (EVENT_COLUMNS, BATCH_COLUMNS, MOVE_COLUMNS, LINK_COLUMNS),
                            rows,
                            strict=True,
                        )
                    ],
                )
            spent += time.perf_counter() - start
    return spent
