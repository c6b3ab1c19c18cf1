"""Roles, acting parties and tenant views of traces (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from keruen.api import views
from keruen.api.access import (
    GRANTS,
    Can,
    Principal,
    Role,
    batch_refs,
    created_batches,
    submit_refusal,
)
from keruen.model.validate import parse
from tests.factory import (
    A,
    B,
    adjust,
    cancel,
    dispatch,
    import_,
    line,
    transfer,
    transform,
    transit_open,
    write_off,
)

BATCH = "55501/010324/0000001/001"


def typed(event: dict[str, Any]) -> Any:
    return parse(line(event)).event


CASES = [  # (event, tax id of the declarant, refused field or None)
    (import_("e", BATCH, holder=A), A, None),
    (import_("e", BATCH, holder=B), A, "holder"),
    (transfer("e", BATCH, A, B, "1"), A, None),
    (transfer("e", BATCH, B, A, "1"), A, "from"),
    (transform("e", A, [(BATCH, "1")], "P-1", "1"), A, None),
    (transform("e", B, [(BATCH, "1")], "P-1", "1"), A, "holder"),
    (dispatch("e", BATCH, A, "1"), A, None),
    (dispatch("e", BATCH, B, "1"), A, "holder"),
    (write_off("e", BATCH, B, "1"), A, "holder"),
    (adjust("e", BATCH, B, "1"), A, "holder"),
    (adjust("e", BATCH, A, "-1"), A, None),
    (cancel("k", "mine"), A, None),
    (cancel("k", "theirs"), A, "target"),
    (transit_open("e", "MRN1"), "CN77", None),
    (transit_open("e", "MRN1"), A, "carrier.tax_id"),
]


@pytest.mark.parametrize(("event", "tax_id", "field"), CASES)
def test_submit_refusal(event: dict[str, Any], tax_id: str, field: str | None) -> None:
    refusal = submit_refusal(tax_id, typed(event), own_ids={"mine"})
    assert (refusal[0] if refusal else None) == field


def test_refusal_reason_does_not_name_the_other_party() -> None:
    refusal = submit_refusal(A, typed(transfer("e", BATCH, B, A, "1")), set())
    assert refusal is not None and B not in refusal[1]


def test_grants() -> None:
    assert GRANTS[Role.analyst] == {Can.read_aggregates}
    assert Can.read_party not in GRANTS[Role.admin] and Can.submit not in GRANTS[Role.admin]
    p = Principal(3, "acme", Role.declarant, A, "k")
    assert p.tenant == A and p.source == "api:user/3" and p.can(Can.submit)
    assert Principal(1, "olga", Role.officer, None, "k").tenant is None


def _node(batch: str, holder: str, hops: list[tuple[str, str]], inputs: list[str]) -> Any:
    return {
        "batch": batch,
        "created_by": {"event": f"mk-{batch}", "time": "t", "type": "import", "holder": holder},
        "holders": [
            {"event": "e", "time": "t", "from": f, "to": t, "quantity": "1"} for f, t in hops
        ],
        "inputs": inputs,
    }


def test_trace_back_view_keeps_own_moves_and_own_imports_only() -> None:
    """B received X from A (who imported it) and made Y from X; B must not see A's import
    documents, A's supplier, nor hops between other companies."""
    trace = {
        "batch": "Y",
        "origins": [{"batch": "X", "importer": A, "seller": {"name": "Foreign GmbH"}}],
        "batches": [
            _node("X", A, [(A, B), ("C1", "C2")], []),
            _node("Y", B, [], ["X", "Z"]),
            _node("Z", "C3", [], []),
        ],
    }
    view = views.trace_back(trace, B, {"X", "Y"})
    assert view is not None and view["origins"] == []
    x, y = view["batches"]
    assert x["created_by"] == {"event": None, "time": "t", "type": "import", "holder": None}
    assert [(h["from"], h["to"]) for h in x["holders"]] == [(A, B)]
    assert y["inputs"] == ["X"] and y["created_by"]["event"] == "mk-Y"
    assert views.trace_back(trace, B, {"X"}) is None  # the root itself is not B's
    assert trace["batches"][0]["holders"][1]["from"] == "C1"  # the original is untouched


def test_trace_forward_view_stops_where_the_declarant_gave_the_goods_away() -> None:
    node = {
        "batch": "X",
        "holders": [
            {"event": "t1", "time": "t", "from": A, "to": B, "quantity": "5"},
            {"event": "t2", "time": "t", "from": B, "to": "C1", "quantity": "5"},
        ],
        "held_by": [{"holder": A, "quantity": "5"}, {"holder": "C1", "quantity": "5"}],
        "exits": [
            {"event": "d", "type": "dispatch", "time": "t", "holder": "C1", "quantity": "1"},
            {"event": "d2", "type": "export", "time": "t", "holder": A, "quantity": "2"},
        ],
        "outputs": ["Q"],
    }
    trace = {"batch": "X", "totals": {"held": "10"}, "batches": [node, {**node, "batch": "Q"}]}
    view = views.trace_forward(trace, A, {"X"})
    assert view is not None and [n["batch"] for n in view["batches"]] == ["X"]
    mine = view["batches"][0]
    assert [h["to"] for h in mine["holders"]] == [B] and mine["outputs"] == []
    assert mine["held_by"] == [{"holder": A, "quantity": "5"}]
    assert [x["event"] for x in mine["exits"]] == ["d2"]
    assert view["totals"] == {"export": "2", "held": "5"}


def test_history_view() -> None:
    result = {
        "batch": {"batch": "X", "event_id": "imp"},
        "events": [
            {"id": "imp", "from": None, "to": A},
            {"id": "t1", "from": A, "to": B},
            {"id": "t2", "from": B, "to": "C1"},
        ],
    }
    mine = views.history(result, B)
    assert mine is not None and [e["id"] for e in mine["events"]] == ["t1", "t2"]
    assert mine["batch"]["event_id"] is None
    own = views.history(result, A)
    assert own is not None and own["batch"]["event_id"] == "imp"
    assert views.history(result, "C9") is None


def test_batch_refs_and_created_batches() -> None:
    t = typed(transform("e", A, [(BATCH, "1")], "P-1", "1"))
    assert batch_refs(t) == [("inputs[0].batch", BATCH)] and created_batches(t) == ["P-1"]
    assert batch_refs(typed(adjust("e", BATCH, A, "1"))) == [("batch", BATCH)]
    assert created_batches(typed(import_("e", BATCH, holder=A))) == [BATCH]
