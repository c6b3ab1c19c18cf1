"""The scheduler merges any processes into one time-ordered stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keruen.sim.clock import DAY
from keruen.sim.engine import Engine, Process, SimulationError, run_days

gaps = st.lists(st.integers(min_value=0, max_value=3 * DAY), min_size=1, max_size=8)


def process(name: str, start: int, steps: list[int]) -> Process:
    t = start
    for i, gap in enumerate(steps):
        t += gap
        yield t, {"id": f"{name}-{i}", "t": t}


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=5 * DAY), gaps), max_size=30))
def test_every_step_once_in_time_order(specs: list[tuple[int, list[int]]]) -> None:
    engine = Engine()
    engine.now = 0
    for n, (start, steps) in enumerate(specs):
        engine.start(process(str(n), start, steps))
    out = list(engine.drain())
    assert [e["t"] for e in out] == sorted(e["t"] for e in out)
    assert len(out) == sum(len(steps) for _, steps in specs)


def test_processes_started_day_by_day_and_by_other_processes() -> None:
    engine = Engine()

    def parent(t: int) -> Process:
        yield t, {"id": "parent", "t": t}
        engine.start(process("child", t + 10, [0, 5]))
        yield t + 100, {"id": "parent-end", "t": t + 100}

    batches = list(run_days(engine, 0, 2, lambda day: [parent(day + 50)], size=3))
    out = [e for _, events in batches for e in events]
    assert [e["id"] for e in out[:4]] == ["parent", "child-0", "child-1", "parent-end"]
    assert len(out) == 8 and [len(events) for _, events in batches] == [3, 3, 2]
    assert [t for times, _ in batches for t in times] == [e["t"] for e in out]


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=5 * DAY), gaps), max_size=30))
def test_batches_of_any_size_give_the_same_stream(specs: list[tuple[int, list[int]]]) -> None:
    def starts(day: int) -> list[Process]:
        return [process(f"{day}-{n}", day + s, g) for n, (s, g) in enumerate(specs)]

    def stream(size: int) -> list[object]:
        batches = run_days(Engine(), 0, 2, starts, size)
        return [e for _, events in batches for e in events]

    assert stream(1) == stream(7) == stream(4096)


def test_a_step_back_in_time_is_a_bug() -> None:
    engine = Engine()
    engine.now = 0
    engine.start(iter([(100, {"id": "a"}), (50, {"id": "b"})]))
    with pytest.raises(SimulationError):
        list(engine.drain())
