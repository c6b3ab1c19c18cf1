"""The ledger's rules, judged in memory (no database): table-driven scenarios."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keruen.errors import (
    BatchExists,
    CancelRefused,
    IdConflict,
    InsufficientStock,
    InvalidEvent,
    RejectedEvent,
    UnknownBatch,
)
from keruen.ledger.overlay import Overlay
from keruen.ledger.rules import iso, micros
from keruen.model.validate import parse
from tests import factory as f
from tests.factory import A, B, C

BATCH = "55501/010324/0000001/001"
SETUP = [f.import_("imp", BATCH, A, "100", day=1)]


def run(*events: dict[str, Any]) -> Overlay:
    overlay = Overlay()
    for e in events:
        overlay.admit(parse(f.line(e)))
    return overlay


# (events after SETUP, error class, word of the reason)
REFUSED = [
    ([f.transfer("t", BATCH, A, B, "101")], InsufficientStock, "holds 100"),
    ([f.transfer("t", BATCH, A, B, "0.5")], InvalidEvent, "whole"),
    ([f.transform("x", A, [(BATCH, "2.5")], "P-1", 1)], InvalidEvent, "whole"),
    ([f.adjust("adj", BATCH, B, "25")], InvalidEvent, "never held"),
    ([f.transfer("t", BATCH, B, C, "1")], InsufficientStock, "holds 0"),
    ([f.transfer("t", "55501/010324/0000009/001", A, B, 1)], UnknownBatch, "does not exist"),
    ([f.import_("imp2", BATCH, B)], BatchExists, "never reused"),
    (
        [f.transfer("t", BATCH, A, B, 1, day=1) | {"time": "2024-03-01T09:59:59+05:00"}],
        InvalidEvent,
        "before batch",
    ),
    (
        [f.transfer("t1", BATCH, A, B, 60), f.transfer("t2", BATCH, A, C, 41)],
        InsufficientStock,
        "holds 40",
    ),
    ([f.dispatch("d", BATCH, A, 101)], InsufficientStock, "cannot give 101"),
    ([f.adjust("adj", BATCH, A, "-101")], InsufficientStock, "holds 100"),
    ([f.adjust("adj", "P-404", A, "5")], UnknownBatch, "does not exist"),
    ([f.transform("x", A, [(BATCH, 10), ("P-404", 1)], "P-1", 5)], UnknownBatch, "P-404"),
    (
        [
            f.transform("x", A, [(BATCH, 10)], BATCH.replace("01/001", "01/002"), 5),
            f.transform("y", A, [(BATCH, 10)], BATCH.replace("01/001", "01/002"), 5),
        ],
        BatchExists,
        "never reused",
    ),
    ([f.cancel("c", "nope")], CancelRefused, "does not exist"),
    ([f.cancel("c", "imp"), f.cancel("c2", "imp")], CancelRefused, "already cancelled"),
    ([f.transfer("t", BATCH, A, B, 100), f.cancel("c", "imp")], CancelRefused, "holds 0"),
    ([f.cancel("c", "imp"), f.cancel("c2", "c")], CancelRefused, "itself a cancel"),
    ([f.import_("imp", "55501/010324/0000002/001", A)], IdConflict, "other content"),
]


@pytest.mark.parametrize(("events", "error", "word"), REFUSED)
def test_refused(events: list[dict[str, Any]], error: type[RejectedEvent], word: str) -> None:
    overlay = run(*SETUP, *events[:-1])
    before = dict(overlay.balances)
    with pytest.raises(error) as info:
        overlay.admit(parse(f.line(events[-1])))
    assert word in info.value.reason
    assert overlay.balances == before, "a refused event changes nothing"


def test_transfer_chain_conserves_quantity() -> None:
    overlay = run(*SETUP, f.transfer("t1", BATCH, A, B, 60), f.transfer("t2", BATCH, B, C, "59"))
    assert overlay.balance(A, BATCH) == 40
    assert overlay.balance(B, BATCH) == Decimal("1")
    assert overlay.balance(C, BATCH) == Decimal("59")


def test_transform_consumes_inputs_and_creates_outputs_atomically() -> None:
    other = "55501/010324/0000002/001"
    overlay = run(*SETUP, f.import_("imp2", other, A, "5"))
    bad = f.transform("x", A, [(BATCH, 10), (other, 6)], "P-1", 3)
    with pytest.raises(InsufficientStock):
        overlay.admit(parse(f.line(bad)))
    assert overlay.balance(A, BATCH) == 100 and overlay.batch("P-1") is None
    overlay.admit(parse(f.line(f.transform("y", A, [(BATCH, 10), (other, 5)], "P-1", 3))))
    assert (overlay.balance(A, BATCH), overlay.balance(A, other), overlay.balance(A, "P-1")) == (
        90,
        0,
        3,
    )


def test_exact_duplicate_is_a_no_op() -> None:
    overlay = run(*SETUP)
    assert overlay.admit(parse(f.line(SETUP[0]))) is None
    assert overlay.balance(A, BATCH) == 100


def test_cancel_reverses_when_balances_allow() -> None:
    overlay = run(
        *SETUP,
        f.transfer("t", BATCH, A, B, 30),
        f.dispatch("d", BATCH, B, 10),
        f.cancel("c1", "d"),
        f.cancel("c2", "t", day=6),
    )
    assert overlay.balance(A, BATCH) == 100 and overlay.balance(B, BATCH) == 0


def test_phantom_stock_needs_a_positive_adjust_on_an_existing_batch() -> None:
    overlay = run(*SETUP, f.adjust("a", BATCH, A, "25"), f.dispatch("d", BATCH, A, 125))
    assert overlay.balance(A, BATCH) == 0


def test_an_adjust_may_correct_a_batch_its_holder_gave_away() -> None:
    overlay = run(*SETUP, f.transfer("t", BATCH, A, B, 100), f.adjust("a", BATCH, A, "3"))
    assert overlay.balance(A, BATCH) == 3


def test_an_event_dated_after_the_ingest_clock_is_refused() -> None:
    overlay = run(*SETUP)
    overlay.not_after_us = micros(datetime(2024, 3, 2, tzinfo=UTC))
    with pytest.raises(InvalidEvent, match="in the future") as info:
        overlay.admit(parse(f.line(f.transfer("t", BATCH, A, B, 1, day=3))))
    assert info.value.field == "time"
    overlay.admit(parse(f.line(f.transfer("t", BATCH, A, B, 1, day=1))))


@given(st.datetimes(timezones=st.just(UTC)))
def test_ledger_times_print_back_exactly(when: datetime) -> None:
    text = iso(micros(when))
    assert text.endswith("Z")
    assert datetime.fromisoformat(text.replace("Z", "+00:00")) == when
