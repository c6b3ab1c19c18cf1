"""Storage side of tenant isolation: which batches and events a declarant is party to.

Party to a batch = holds it now, or is the source or target of any of its moves (its whole
history, cancelled moves included). Refusals look exactly like absence, so a declarant cannot
learn whether another company's batch or event exists.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.api.access import acting_party
from keruen.model import events as ev
from keruen.store import schema as t
from keruen.store.db import chunks

_typed = msgspec.json.Decoder(ev.AnyEvent)


def visible_batches(conn: Connection, tax_id: str, batches: Iterable[str]) -> set[str]:
    """The batches among `batches` that `tax_id` is party to."""
    m, b = t.moves.c, t.balances.c
    found: set[str] = set()
    for part in chunks(sorted(set(batches))):
        moved = sa.select(m.batch).where(
            m.batch.in_(part), sa.or_(m.source == tax_id, m.target == tax_id)
        )
        held = sa.select(b.batch).where(b.batch.in_(part), b.holder == tax_id)
        found.update(conn.scalars(sa.union(moved, held)))
    return found


def is_party(conn: Connection, tax_id: str, batch: str) -> bool:
    return batch in visible_batches(conn, tax_id, [batch])


def acting_parties(conn: Connection, ids: Iterable[str]) -> dict[str, str | None]:
    """For each stored event among `ids`, the tax id acting in it (None if none)."""
    e = t.events.c
    found: dict[str, str | None] = {}
    for part in chunks(sorted(set(ids))):
        for row in conn.execute(sa.select(e.id, e.canonical).where(e.id.in_(part))):
            found[row.id] = acting_party(_typed.decode(row.canonical))
    return found


_raw = msgspec.json.Decoder()


def transit_parties(canonical: str) -> set[str]:
    """The tax ids party to a transit declaration: its carrier and its consignee."""
    declaration = _raw.decode(canonical)
    return {
        p["tax_id"]
        for p in (declaration.get("carrier"), declaration.get("consignee"))
        if isinstance(p, dict) and isinstance(p.get("tax_id"), str)
    }


def visible_transits(conn: Connection, tax_id: str, mrns: Iterable[str] | None = None) -> set[str]:
    """MRNs (among `mrns`, or all) of declarations `tax_id` is party to."""
    e = t.events.c
    q = sa.select(e.key, e.canonical).where(e.type == "transit_open")
    parts = [q] if mrns is None else [q.where(e.key.in_(p)) for p in chunks(sorted(set(mrns)))]
    return {
        row.key
        for part in parts
        for row in conn.execute(part)
        if tax_id in transit_parties(row.canonical)
    }
