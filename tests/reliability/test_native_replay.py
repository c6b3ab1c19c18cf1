"""`keruen verify` replays the events through the native judge where it takes them
(keruen.store.integrity._Replay), and says word for word what the rules alone say: on every
tampering of the tamper suite, and on mixed and hostile ledgers tampered at random, at several
chunk sizes, with the replay's state compacted or not. A tampered ledger is caught with the
native judge doing the replay."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.settings import get_settings
from keruen.store import checkpoint, db, integrity
from keruen.store import native as N
from tests.ledger.test_native import hostile
from tests.ledger.test_split import mixed
from tests.reliability.test_tamper import SECRET, TAMPERINGS, _build

pytestmark = pytest.mark.skipif(
    N.LOADED is None and os.environ.get("CI") != "true",
    reason="the native judge was not built (no compiler)",
)


def nth(n: object) -> str:
    """The condition for the n-th balance (WITHOUT ROWID: no rowid to pick it by)."""
    return f"(holder, batch) IN (SELECT holder, batch FROM balances LIMIT 1 OFFSET {n})"


class Spy:
    """The native judge, counting the events it took."""

    def __init__(self) -> None:
        assert N.LOADED is not None
        self.judge, self.taken = N.LOADED, 0

    def run(self, overlay: Any, items: list[Any], start: int, *rest: Any) -> int:
        end = self.judge.run(overlay, items, start, *rest)
        self.taken += end - start
        return end

    def finish(self, *args: Any) -> None:
        self.judge.finish(*args)


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    os.environ.pop("KERUEN_NATIVE", None)
    get_settings.cache_clear()


def verified(eng: Engine, on: bool, cp: checkpoint.Checkpoint | None) -> dict[str, Any]:
    os.environ["KERUEN_NATIVE"] = "1" if on else "0"
    get_settings.cache_clear()
    with eng.connect() as conn:
        report = integrity.verify(conn)
        if cp is not None:  # truncations and consistent rewrites need a head held elsewhere
            checkpoint.check(conn, report, [cp], SECRET)
        return report.public()


def both_ways(
    eng: Engine, monkeypatch: pytest.MonkeyPatch, cp: checkpoint.Checkpoint | None = None
) -> tuple[dict[str, Any], Spy]:
    """The native replay's report (asserted the same as the rules'), and what it took."""
    spy = Spy()
    with monkeypatch.context() as m:
        m.setattr(integrity, "native", lambda: spy)
        native = verified(eng, True, cp)
    assert native == verified(eng, False, cp)
    return native, spy


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_tampering_is_reported_the_same_by_the_native_replay(
    name: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng, cp = engine, _build(engine)
    with eng.begin() as conn:
        TAMPERINGS[name](conn)
    native, spy = both_ways(eng, monkeypatch, cp)
    assert native["ok"] is False and (spy.taken > 0 or native["events"] == 0)


def test_a_tampered_ledger_is_caught_through_the_native_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = mixed(3, 600, 0.02, 0.02, 0.02, 0.02)
    with db.scratch() as eng:
        ingest_lines(eng, lines, source="s", chunk_size=97)
        clean, spy = both_ways(eng, monkeypatch)
        assert clean["ok"] and spy.taken > 500  # the native judge replayed nearly all
        with eng.begin() as conn:
            conn.exec_driver_sql("UPDATE moves SET quantity = '1' WHERE event_seq = 400")
            conn.exec_driver_sql(f"UPDATE balances SET quantity = quantity + 1 WHERE {nth(3)}")
        report, spy = both_ways(eng, monkeypatch)
    assert spy.taken > 500 and not report["ok"]
    assert {p["table"] for p in report["problems"]} == {"moves", "balances"}


# --- random tamperings of mixed and hostile ledgers -------------------------------------------

# what each statement changes, on a row picked by its seq (or rowid); {n} is that number
RANDOM = [
    "UPDATE moves SET quantity = quantity + 1 WHERE event_seq = {n}",
    "DELETE FROM moves WHERE event_seq = {n}",
    "UPDATE events SET time_us = time_us + 1 WHERE seq = {n}",
    "UPDATE events SET id = 'x{n}' WHERE seq = {n}",
    "UPDATE events SET canonical = replace(canonical, '\"1\"', '\"2\"') WHERE seq = {n}",
    "UPDATE events SET canonical = (SELECT canonical FROM events WHERE seq = 1) WHERE seq = {n}",
    "UPDATE events SET canonical = '{{oops' WHERE seq = {n}",
    "UPDATE events SET hash = prev_hash WHERE seq = {n}",
    "DELETE FROM events WHERE seq = {n}",
    "DELETE FROM events WHERE seq BETWEEN {n} AND {n} + 3",
    "UPDATE events SET prev_hash = 'zz' WHERE seq = {n}",
    "DELETE FROM balances WHERE " + nth("{n}"),
    "UPDATE balances SET quantity = '7' WHERE " + nth("{n}"),
    "DELETE FROM batches WHERE batch IN (SELECT batch FROM batches LIMIT 1 OFFSET {n})",
    "DELETE FROM cancellations",
    "DELETE FROM links WHERE event_seq = {n}",
]


def uncompacted(state: Any) -> None:
    state.touched.clear()


def _tamper(eng: Engine, seed: int, count: int) -> None:
    rng = random.Random(seed)
    with eng.begin() as conn:
        last = conn.scalar(sa.text("SELECT max(seq) FROM events")) or 1
        for _ in range(count):
            statement = rng.choice(RANDOM).format(n=rng.randint(1, last))
            conn.exec_driver_sql(statement)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    chunk=st.sampled_from([7, 100, 5_000]),
    tamperings=st.integers(0, 4),
)
def test_native_and_python_replay_give_the_same_report(
    seed: int, chunk: int, tamperings: int
) -> None:
    lines = mixed(seed, 300, 0.05, 0.05, 0.03, 0.03) + hostile(seed, 300)
    with pytest.MonkeyPatch.context() as m, db.scratch() as eng:
        ingest_lines(eng, lines, source="s", chunk_size=101)
        _tamper(eng, seed, tamperings)
        m.setattr(integrity, "CHUNK", chunk)
        native, spy = both_ways(eng, m)
        m.setattr(integrity._State, "compact", uncompacted)  # and the state kept whole
        assert verified(eng, False, None) == native
    assert spy.taken > 0
    assert native["ok"] or tamperings
