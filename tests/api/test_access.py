"""Roles, acting parties and tenant views of traces (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from keruen.api.access import GRANTS, Can, Principal, Role, prune_trace, submit_refusal
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


def test_prune_trace_keeps_visible_batches_and_references() -> None:
    trace = {
        "batch": "X",
        "origins": [{"batch": "I"}, {"batch": "X"}],
        "batches": [
            {"batch": "X", "inputs": ["I", "J"]},
            {"batch": "I", "inputs": []},
            {"batch": "J", "inputs": []},
        ],
    }
    pruned = prune_trace(trace, {"X", "J"})
    assert pruned["batches"] == [{"batch": "X", "inputs": ["J"]}, {"batch": "J", "inputs": []}]
    assert pruned["origins"] == [{"batch": "X"}]
    assert trace["batches"][0]["inputs"] == ["I", "J"]  # the original is untouched
