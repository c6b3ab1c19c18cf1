"""`keruen bench screening`: quality beside nomenklatura, and speed beside brute-force RapidFuzz.

Quality: precision, recall and F1 at each matcher's default threshold on the same labelled
pairs (Keruen's evaluation set, nomenklatura's name_bench cases, yente's UN positives). The
peer runs in a Python that has `nomenklatura` installed (`--peer-python`, default: this one);
when none has, its frozen reference scores shipped with the cases are used and said so.

Speed: an index of the real OFAC list plus generated names up to `--names`; every positive of
the evaluation set is a query. Queries/s (wall clock and CPU time), recall, index build time
and memory; brute force (the same scoring over every name, no blocking) on a sample, same run.
"""

from __future__ import annotations

import csv
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keruen.screening import evaluation as ev
from keruen.screening import features, loaders, text
from keruen.screening.features import get_algorithm
from keruen.screening.model import Entry
from keruen.screening.screener import PREFILTER, SHORTLIST, Screener
from keruen.screening.synth import NameGen

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "screening" / "data"
PEER_THRESHOLD = 0.7  # nomenklatura name_bench's default
PEER_SCRIPT = """
import json, sys
from uuid import uuid4
from followthemoney import ValueEntity, model
from nomenklatura.matching.logic_v2.model import LogicV2
config = LogicV2.default_config()
def score(a, b, schema):
    s = model.get(schema or "LegalEntity")
    q = ValueEntity(s, {"id": uuid4().hex}); q.add("name", a)
    c = ValueEntity(s, {"id": uuid4().hex}); c.add("name", b)
    return float(LogicV2.compare(q, c, config).score)
pairs = json.load(sys.stdin)
json.dump([score(*p) for p in pairs], sys.stdout)
"""


def datasets(data: Path = DATA) -> dict[str, list[ev.Case]]:
    """The labelled pair sets, by name (identifier rows need whole entries: speed bench only)."""
    keruen = ev.read_keruen(data / "keruen_eval.csv") + ev.read_keruen(
        data / "keruen_eval_manual.csv"
    )
    return {
        "keruen_eval": [c for c in keruen if c.category != "identifier"],
        "nomenklatura_name_bench": ev.read_nomenklatura(
            data / "conformance" / "name_bench_cases.csv"
        ),
        "yente_un_positives": _yente(data / "conformance"),
    }


def _yente(folder: Path) -> list[ev.Case]:
    def names(name: str) -> list[str]:
        with (folder / name).open(encoding="utf-8") as f:
            return [r["full_name"] for r in csv.DictReader(f)]

    pairs = zip(names("positives_un_untreated.csv"), names("positives_un_treated.csv"), strict=True)
    return [ev.Case("yente", "un_mutated", a, b, True, schema="Person") for a, b in pairs]


def peer_scores(cases: list[ev.Case], python: str | None) -> tuple[list[float] | None, str]:
    """nomenklatura LogicV2 scores of the pairs, run in `python`; None and why if it cannot."""
    pairs = [(c.query, c.target, c.schema or "LegalEntity") for c in cases]
    try:
        done = subprocess.run(
            [python or sys.executable, "-c", PEER_SCRIPT],
            input=json.dumps(pairs),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"peer did not run: {e}"
    if done.returncode:
        return None, "peer did not run: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return [float(x) for x in json.loads(done.stdout)], "nomenklatura LogicV2, run live"


def frozen_scores(cases: list[ev.Case], data: Path = DATA) -> list[float] | None:
    """nomenklatura's own frozen LogicV2 results for its name_bench cases (shipped with them)."""
    with (data / "conformance" / "name_bench_logicv2_frozen_results.csv").open(
        encoding="utf-8"
    ) as f:
        known = {(r["name1"], r["name2"]): float(r["score"]) for r in csv.DictReader(f)}
    scores = [known.get((c.query, c.target)) for c in cases]
    return None if any(s is None for s in scores) else [s for s in scores if s is not None]


def quality(
    peer_python: str | None, data: Path = DATA, log: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    alg = get_algorithm()
    out: dict[str, Any] = {"keruen_threshold": alg.threshold, "peer_threshold": PEER_THRESHOLD}
    for name, cases in datasets(data).items():
        log(f"quality: {name} ({len(cases)} pairs)")
        mine = [ev.pair_score(alg, c.query, c.target) for c in cases]
        row: dict[str, Any] = {
            "pairs": len(cases),
            "keruen": ev.evaluate(cases, mine, alg.threshold)["all"].public(),
        }
        theirs, how = peer_scores(cases, peer_python)
        if theirs is None and name == "nomenklatura_name_bench":
            frozen = frozen_scores(cases, data)
            if frozen is not None:
                theirs, how = frozen, how + "; using nomenklatura's frozen LogicV2 scores"
        row["peer_source"] = how
        if theirs is not None:
            row["peer"] = ev.evaluate(cases, theirs, PEER_THRESHOLD)["all"].public()
        out[name] = row
    return out


def build_index(names: int, sdn: Path, seed: int = 1) -> tuple[Screener, float, float]:
    """The real OFAC list plus generated names up to `names`; seconds and MB it took."""
    rss = _rss_mb()
    start = time.perf_counter()
    gc.disable()  # the build makes millions of objects and frees none: no cycles to look for
    try:
        ofac = loaders.ofac(sdn)
        screener = Screener()
        screener.add_entries(ofac.entries, ofac.version)
        extra = max(0, names - len(screener.index))
        synthetic = (
            Entry("synthetic", f"g{i}", "unknown", (n,))
            for i, n in enumerate(NameGen(seed).names(extra))
        )
        screener.add_entries(synthetic, f"seed-{seed}")
        gc.freeze()  # millions of long-lived objects: keep the cycle collector off them
    finally:
        gc.enable()
    return screener, time.perf_counter() - start, _rss_mb() - rss


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clear_caches() -> None:
    """Measure cold: no query profits from a cache warmed by an earlier run of itself."""
    for fn in (
        features.align,
        features.token_similarity,
        text.skeleton,
        text._word_skeleton,
        text.is_patronymic,
    ):
        fn.cache_clear()


def speed(
    names: int,
    sdn: Path,
    brute_sample: int,
    data: Path = DATA,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    log(f"speed: building an index of {names:,} names")
    screener, build_s, build_mb = build_index(names, sdn)
    keruen = ev.read_keruen(data / "keruen_eval.csv") + ev.read_keruen(
        data / "keruen_eval_manual.csv"
    )
    queries = [c for c in keruen if c.is_match]
    log(f"speed: {len(queries):,} indexed queries")
    indexed = _run(queries, lambda c: screener.screen_party(c.query, c.country or None, c.ids))
    sample = queries[:: max(1, len(queries) // brute_sample)][:brute_sample]
    log(f"speed: {len(sample)} brute-force queries over all {len(screener.index):,} names")
    brute = _run(sample, lambda c: _brute(screener, c))
    same = _run(sample, lambda c: screener.screen_party(c.query, c.country or None, c.ids))
    return {
        "names": len(screener.index),
        "entries": len(screener.owners),
        "index_build_s": round(build_s, 1),
        "index_memory_mb": round(build_mb),
        "queries": len(queries),
        "indexed": indexed,
        "brute_force_sample": brute,
        "indexed_same_sample": same,
        "speedup_vs_brute_force": round(
            same["queries_per_s_cpu"] / max(brute["queries_per_s_cpu"], 1e-9), 1
        ),
    }


def _run(cases: list[ev.Case], search: Callable[[ev.Case], Any]) -> dict[str, Any]:
    _clear_caches()
    wall, cpu = time.perf_counter(), time.process_time()
    found = sum(any(h.entry_id == c.target_id for h in search(c)) for c in cases)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "queries": len(cases),
        "recall": round(found / max(1, len(cases)), 4),
        "queries_per_s_wall": round(len(cases) / wall, 1),
        "queries_per_s_cpu": round(len(cases) / max(cpu, 1e-9), 1),
    }


def _brute(screener: Screener, case: ev.Case) -> list[Any]:
    """The same features and threshold, but the shortlist comes from every name in the index."""
    index = screener.index
    saved = index.shortlist
    index.shortlist = lambda key, cutoff, limit: index.brute_force(key, cutoff, limit)  # type: ignore[method-assign]
    try:
        return screener.screen_party(case.query, case.country or None, case.ids)
    finally:
        index.shortlist = saved  # type: ignore[method-assign]


__all__ = ["PREFILTER", "SHORTLIST", "quality", "speed"]
