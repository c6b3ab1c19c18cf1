"""The party index: a party's events read through it are exactly those read without it, whether
it covers the whole ledger, a part (the rest matched directly) or another ledger's state."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.store import partyindex
from keruen.store import schema as t
from keruen.store.port import LedgerReader
from tests import factory as f
from tests.factory import A, B, C, D
from tests.store.test_port import STORY

PARTIES = [A, B, C, D, "TR5550", "CN77", "DE12", "7700001", f.CN_SELLER["tax_id"], "%", "nobody"]


def seen(engine: Engine, **kw: Any) -> dict[str, list[str]]:
    reader = LedgerReader(engine)
    return {p: [s.event.id for s in reader.select_events(party=p, **kw)] for p in PARTIES}


def without_index(engine: Engine, **kw: Any) -> dict[str, list[str]]:
    with engine.begin() as conn:
        saved = list(conn.execute(sa.select(t.event_parties_cursor)))
        conn.execute(sa.delete(t.event_parties_cursor))
    try:
        return seen(engine, **kw)
    finally:
        with engine.begin() as conn:
            if saved:
                conn.execute(sa.insert(t.event_parties_cursor), [r._asdict() for r in saved])


@pytest.mark.parametrize("split", [1, 5, 11, len(STORY)])
def test_reads_through_the_index_equal_reads_without_it(engine: Engine, split: int) -> None:
    first, rest = STORY[:split], STORY[split:]
    assert ingest_lines(engine, f.lines(*first)).rejected == 0
    partyindex.refresh(engine)
    if rest:  # events the index has not seen: matched directly
        assert ingest_lines(engine, f.lines(*rest)).rejected == 0
    with engine.connect() as conn:
        assert partyindex.indexed_upto(conn) == split
    for kw in ({}, {"limit": 2}, {"after_seq": 3}, {"include_cancelled": False}):
        assert seen(engine, **kw) == without_index(engine, **kw), kw
    partyindex.refresh(engine, most=3)  # a capped refresh: part way, still complete
    assert seen(engine) == without_index(engine)
    partyindex.refresh(engine)
    assert seen(engine) == without_index(engine)
    assert seen(engine)[D] == ["t3", "c1"]  # the cancel names nobody but reversed D's move


def test_an_index_of_another_ledger_is_not_used(engine: Engine) -> None:
    assert ingest_lines(engine, f.lines(*STORY)).rejected == 0
    partyindex.refresh(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(t.event_parties_cursor).values(hash="f" * 64))
        assert partyindex.indexed_upto(conn) == 0
        conn.execute(sa.insert(t.event_parties), [{"tax_id": "ghost", "seq": 1}])
    assert (
        seen(engine)["nobody"] == []
        and list(LedgerReader(engine).select_events(party="ghost")) == []
    )
    partyindex.refresh(engine)  # starts over
    with engine.connect() as conn:
        assert partyindex.indexed_upto(conn) == len(STORY)
        ghosts = conn.scalar(sa.select(sa.func.count()).where(t.event_parties.c.tax_id == "ghost"))
    assert ghosts == 0
