"""Ledger reads the API shapes for JSON: rejections by submitter, counts (through the port)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from keruen.store.port import LedgerReader
from keruen.store.queries import public


def rejections(
    conn: Connection, source: str | None, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Newest rejections first; only those submitted under `source` when it is given."""
    rows: list[dict[str, Any]] = public(LedgerReader(conn).rejections(limit, source, before))
    return rows


def summary(conn: Connection) -> dict[str, Any]:
    """Ledger counts: aggregates with no party in them."""
    found: dict[str, Any] = public(LedgerReader(conn).summary())
    return found
