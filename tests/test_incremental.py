"""Incremental reading: detection and transit monitoring keep their state between runs and
read only what was appended since; the result is always what reading the whole ledger gives.

Hypothesis cuts a simulated ledger (stock, transits, seal pings, receipts) into parts at
random points, with cancels of random earlier events mixed in (some refused by the ledger,
some out of time order). After each part is ingested, detection's reading and transit
monitoring's tracker are brought up to date and saved, as `keruen detect` and
`keruen transit check` do. After the last part, what they give from their saved state equals
a reading of the whole ledger from the first event: on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import pickle
from functools import cache
from itertools import pairwise
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.risk import store as risk_store
from keruen.sim.run import stream
from keruen.store import consumers, db
from keruen.store.port import Head, LedgerReader, time_of
from keruen.transit import resume, service
from keruen.transit.model import Config
from tests.conftest import BACKENDS, PG_URL


@cache
def ledger_lines() -> tuple[bytes, ...]:
    chunks, _ = stream(2, "small")
    return tuple(line for chunk in chunks for line in chunk.splitlines() if line)


def with_cancels(lines: tuple[bytes, ...], cancels: list[tuple[int, int]]) -> list[bytes]:
    """The lines with a cancel of line `target` placed after line `at` (target <= at), dated
    as that line: many are refused (stock moved on since), some undo a transit event."""
    out = list(lines)
    for n, (at, target) in enumerate(sorted(cancels, reverse=True)):
        before = msgspec.json.decode(lines[at])
        cancel = {
            "type": "cancel",
            "id": f"cancel-{n}",
            "time": before["time"],
            "target": msgspec.json.decode(lines[min(target, at)])["id"],
            "reason": "correction",
        }
        out.insert(at + 1, msgspec.json.encode(cancel))
    return out


def catch_up(eng: Engine) -> None:
    """What `keruen detect` keeps, and what `keruen transit check` keeps, after a part."""
    with eng.begin() as conn:
        risk_store.save_reading(conn, risk_store.read(conn))
    service.refresh_tracker(eng)


def from_scratch(eng: Engine, now_us: int) -> tuple[list[Any], list[Any], list[Any]]:
    with eng.connect() as conn:
        events = list(risk_store.live_events(conn, now_us))
        fed = service.replay_unsettled(LedgerReader(conn), now_us, None, None)
        seen = service.overview(conn, time_of(now_us), fed=fed)
    return events, seen.findings, seen.movements


def resumed(eng: Engine, now_us: int) -> tuple[list[Any], list[Any], list[Any], int]:
    with eng.connect() as conn:
        reading = risk_store.read(conn)
        assert reading.resumed
        events = list(reading.live(now_us))
        seen = service.overview(conn, time_of(now_us))
    return events, seen.findings, seen.movements, reading.read


cuts = st.lists(st.integers(1, len(ledger_lines()) - 1), min_size=1, max_size=3, unique=True)
cancels = st.lists(
    st.tuples(st.integers(0, len(ledger_lines()) - 1), st.integers(0, len(ledger_lines()) - 1)),
    max_size=6,
)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(
    max_examples=int(os.environ.get("KERUEN_INCREMENTAL_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cuts=cuts, cancels=cancels)
def test_incremental_equals_a_full_rescan(
    backend: str, cuts: list[int], cancels: list[tuple[int, int]]
) -> None:
    lines = with_cancels(ledger_lines(), cancels)
    bounds = [0, *sorted(min(c, len(lines) - 1) for c in cuts), len(lines)]
    with db.scratch(PG_URL if backend == "postgresql" else None) as eng:
        for a, b in pairwise(bounds):
            ingest_lines(eng, lines[a:b], source=f"part {a}")
            catch_up(eng)
        with eng.connect() as conn:
            head = LedgerReader(conn).head()
            now = LedgerReader(conn).latest_time_us()
        full = from_scratch(eng, now)
        events, findings, movements, read = resumed(eng, now)
        assert events == full[0]
        assert findings == full[1]
        assert movements == full[2]
        assert read == 0  # nothing new since the last part: nothing read again
        # an earlier "now" is judged from the same saved state
        earlier = now - 30 * 86_400_000_000
        with eng.connect() as conn:
            assert list(risk_store.read(conn).live(earlier)) == list(
                risk_store.live_events(conn, earlier)
            )
        assert head.seq > 0


def test_a_second_run_reads_only_what_was_appended(sqlite_engine: Engine) -> None:
    lines = ledger_lines()
    half = len(lines) // 2
    ingest_lines(sqlite_engine, lines[:half])
    catch_up(sqlite_engine)
    ingest_lines(sqlite_engine, lines[half:])
    with sqlite_engine.connect() as conn:
        reading = risk_store.read(conn)
        appended = LedgerReader(conn).count_events(
            types=(*risk_store.READ_TYPES, "cancel"), after_seq=half
        )
        total = LedgerReader(conn).count_events(types=(*risk_store.READ_TYPES, "cancel"))
    assert reading.resumed and reading.read == appended < total
    saved = {}
    with sqlite_engine.connect() as conn:
        found = resume.load(conn, Config())
        assert found is not None
        saved["head"] = found[0]
    assert saved["head"].seq == half  # the tracker has seen the first half
    with sqlite_engine.connect() as conn:
        now = LedgerReader(conn).latest_time_us()
        fed = service.resumed(conn, LedgerReader(conn), now, Config())
        assert fed is not None  # in time order, nothing cancelled: fed on, not replayed
        assert fed.tracker.findings(now) == service.replay(
            conn, now, places=None, keys=None, timeline_for=(), config=Config(), progress=None
        ).findings(now)


def test_a_rewritten_ledger_is_noticed(engine: Engine) -> None:
    """A state saved for another ledger (another hash at its seq) is not used."""
    ingest_lines(engine, ledger_lines()[:50])
    catch_up(engine)
    with engine.begin() as conn:
        head = LedgerReader(conn).head()
        assert consumers.load(conn, risk_store.STATE, risk_store.STATE_FORMAT) is not None
        consumers.save(conn, "risk", risk_store.STATE_FORMAT, Head(head.seq, "f" * 64), b"")
        assert consumers.load(conn, risk_store.STATE, risk_store.STATE_FORMAT) is None
        reading = risk_store.read(conn)
        everything = LedgerReader(conn).count_events(types=(*risk_store.READ_TYPES, "cancel"))
    assert not reading.resumed and reading.read == everything  # read again from the start


def test_a_state_of_another_format_is_not_used(engine: Engine) -> None:
    ingest_lines(engine, ledger_lines()[:20])
    with engine.begin() as conn:
        consumers.save(conn, "risk", "risk-msgpack-0", LedgerReader(conn).head(), b"old")
        assert consumers.load(conn, "risk", risk_store.STATE_FORMAT) is None


class Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned",))


def test_a_saved_tracker_builds_data_never_runs_code() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os)\.system"):
        resume.decode(pickle.dumps(Boom()), Config())
    with pytest.raises(pickle.UnpicklingError, match="not part of a saved tracker"):
        resume.decode(pickle.dumps(service.refresh_tracker), Config())
