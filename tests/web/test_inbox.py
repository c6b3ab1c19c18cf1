"""Keyset paging of the inbox: the pages together are the whole filtered queue, in order,
with no alert twice and none lost, on both backends, with many tied scores."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from keruen.bench.ui import add_synthetic_alerts
from keruen.risk import inbox, queries
from keruen.risk.errors import BadInput


def walk(engine: Engine, f: inbox.Filter, size: int) -> list[int]:
    seen: list[int] = []
    after = None
    with engine.connect() as conn:
        while True:
            found = inbox.page(conn, f, after, size)
            seen += [r["id"] for r in found.rows]
            if found.next is None:
                return seen
            after = inbox.Cursor.decode(found.next.encode())


def test_pages_cover_the_queue_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        assert add_synthetic_alerts(conn, 230) == 230
    with engine.connect() as conn:
        every = queries.alerts(conn, "all", "alert")
    expected = [a["id"] for a in sorted(every, key=lambda a: (-a["score"], -a["id"]))]
    assert walk(engine, inbox.Filter(), 17) == expected
    rule = every[0]["rule"]
    assert walk(engine, inbox.Filter(rule=rule), 9) == [
        i for i in expected if next(a for a in every if a["id"] == i)["rule"] == rule
    ]
    party = every[0]["tax_ids"][0]
    assert walk(engine, inbox.Filter(party=party, min_score=0.7), 3) == [
        a["id"]
        for a in sorted(every, key=lambda a: (-a["score"], -a["id"]))
        if party in a["tax_ids"] and a["score"] >= 0.7
    ]


@pytest.mark.parametrize(
    ("f", "field"),
    [
        (inbox.Filter(status="gone"), "status"),
        (inbox.Filter(lane="purple"), "lane"),
        (inbox.Filter(hs="8x"), "hs"),
    ],
)
def test_bad_filters_name_the_field(sqlite_engine: Engine, f: inbox.Filter, field: str) -> None:
    with sqlite_engine.connect() as conn, pytest.raises(BadInput) as e:
        inbox.page(conn, f)
    assert e.value.field == field


def test_a_forged_cursor_is_a_bad_input() -> None:
    with pytest.raises(BadInput):
        inbox.Cursor.decode("abc")
