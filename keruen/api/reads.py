"""Ledger reads the API adds to `keruen.store.queries`: rejections by submitter, counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.store import queries
from keruen.store import schema as t


def rejections(
    conn: Connection, source: str | None, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Newest rejections first; only those submitted under `source` when it is given."""
    return queries.rejections(conn, limit, source, before)


def summary(conn: Connection) -> dict[str, Any]:
    """Ledger counts: aggregates with no party in them."""
    e = t.events.c
    by_type = {
        row.type: row.n
        for row in conn.execute(
            sa.select(e.type, sa.func.count().label("n")).group_by(e.type).order_by(e.type)
        )
    }
    count = sa.func.count
    return {
        "events": by_type,
        "batches": conn.scalar(sa.select(count()).select_from(t.batches)) or 0,
        "holders": conn.scalar(sa.select(count(sa.distinct(t.balances.c.holder)))) or 0,
        "rejections": conn.scalar(sa.select(count()).select_from(t.rejections)) or 0,
    }
