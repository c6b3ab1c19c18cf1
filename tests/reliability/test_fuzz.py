"""Fuzzing the ingest boundary with a fixed budget: no input line crashes parsing or ingest.

Inputs are arbitrary bytes, and valid events mutated the way careless or hostile clients do
(a field replaced by any JSON value, removed, odd text spliced in, bytes inserted). The
budget is fixed and the search derandomised so CI is stable; raise it for a deeper run with
KERUEN_FUZZ_EXAMPLES (then the search is random). Every crash found goes into crashes.jsonl.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen.errors import InvalidEvent
from keruen.ingest import ingest_lines
from keruen.model.validate import parse
from tests.factory import A, B, adjust, cancel, dispatch, import_, transfer, transit_open

DEEP = int(os.environ.get("KERUEN_FUZZ_EXAMPLES", "0"))
BUDGET = settings(
    max_examples=DEEP or 300,
    deadline=None,
    derandomize=not DEEP,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BATCH = "55301/010324/0000001/001"
SEEDS = [
    import_("i1", BATCH),
    transfer("t1", BATCH, A, B, "5"),
    dispatch("d1", BATCH, A, "1"),
    adjust("a1", BATCH, A, "-1"),
    cancel("c1", "t1"),
    transit_open("o1", "24KZ0001"),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "²", "١٢٣", "\x00", "\ufeff", "KZ", "import", "1e400", "NaN"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    event: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    target: Any = event
    while isinstance(target, dict) and target and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(target)))
        if not isinstance(target[key], dict | list) or not target[key]:
            break
        target = target[key] if isinstance(target[key], dict) else target[key][0]
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        action = draw(st.sampled_from(["replace", "delete", "splice"]))
        if action == "replace":
            target[key] = draw(values)
        elif action == "delete":
            del target[key]
        elif isinstance(target[key], str):
            at = draw(st.integers(0, len(target[key])))
            target[key] = target[key][:at] + draw(st.text(max_size=5)) + target[key][at:]
    data = json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


lines = st.binary(max_size=200) | mutated()


def _parses_or_rejects(raw: bytes) -> None:
    try:
        parse(raw)
    except InvalidEvent as e:
        assert e.reason


@BUDGET
@given(raw=lines)
def test_parse_only_ever_raises_invalid_event(raw: bytes) -> None:
    _parses_or_rejects(raw)


@settings(BUDGET, max_examples=DEEP or 25)
@given(batch=st.lists(lines, min_size=1, max_size=12))
def test_ingest_gives_every_line_an_outcome(engine: Engine, batch: list[bytes]) -> None:
    """On both databases: every line accepted, duplicate or stored rejected, never a crash."""
    with engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM rejections").scalar()
    report = ingest_lines(engine, batch, source="fuzz")
    kept = [raw for raw in batch if raw.strip()]
    assert report.accepted + report.duplicates + report.rejected == len(kept)
    with engine.connect() as conn:
        after = conn.exec_driver_sql("SELECT count(*) FROM rejections").scalar()
    assert before is not None and after is not None
    assert after - before <= report.rejected  # a rejection seen before is not logged again
