"""`keruen bench screening`: quality on public labelled sets beside nomenklatura, the burden of
ordinary names on the full OFAC list, transliteration recall, and speed beside brute force.

Every input is a file given on the command line (or found in the `shared/` folder beside the
checkout): nothing here reads the repository's tests or ships with the package.

- name_bench: nomenklatura's 826 labelled pairs. The peer is nomenklatura LogicV2 run live in a
  Python that has it installed (`--peer-python`); without one, nomenklatura's own frozen results
  are shown, which cover 812 of the 826 pairs: both matchers are then scored on those 812 and
  the table says so.
- second set (not tuned on): yente's UN-listed people, each mutated row screened against an
  index of the 683 originals, and yente's 2,000 plausible people on no list screened against it.
- burden: plausible Russian, Kazakh and Chinese companies and people on no list
  (`keruen.screening.plausible`, a seed not used while tuning), screened against the full list.
- transliteration: Cyrillic and re-romanised renderings of OFAC Russia-program people and
  companies (`keruen.screening.variants`), screened against the full list.
- speed: the full list plus generated names up to `--names`; the renderings as queries; on
  one index in the same run, the current code, the previous code (every shortlisted name
  scored in full) and the algorithm before issue 18 (`keruen-v1`), each the fastest of three.
"""

from __future__ import annotations

import csv
import gc
import json
import resource
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from keruen.bench.names import NameGen
from keruen.screening import evaluation as ev
from keruen.screening import features, loaders, text
from keruen.screening.features import Algorithm, get_algorithm
from keruen.screening.model import Entry
from keruen.screening.plausible import PlausibleNames
from keruen.screening.screener import Screener
from keruen.screening.variants import renderings
from keruen.screening.words import WEIGHTS

PEER_THRESHOLD = 0.7  # nomenklatura name_bench's default
PREVIOUS = "keruen-v1"  # the algorithm before issue 18, measured beside the current one
BURDEN_SEED = 1801  # never used while tuning
ECONOMY_SEED = 1803  # the economy's party names the word weights learn from
RENDER_SEED = 1802
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
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def find_shared(start: Path | None = None) -> Path | None:
    """The `shared/` folder beside the checkout (or beside any folder above `start`)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "shared" / "conformance" / "names").is_dir():
            return folder / "shared"
    return None


@dataclass(frozen=True)
class Inputs:
    names: Path  # shared/conformance/names
    sdn: Path  # the full OFAC sdn.csv (alt.csv and add.csv beside it)

    @classmethod
    def under(cls, shared: Path) -> Inputs:
        return cls(shared / "conformance" / "names", shared / "data" / "ofac_sdn.csv")


# --- quality on labelled pairs -----------------------------------------------------------------


def peer_scores(cases: list[ev.Case], python: str) -> tuple[list[float] | None, str]:
    """nomenklatura LogicV2 scores of the pairs, run in `python`; None and why if it cannot."""
    pairs = [(c.query, c.target, c.schema or "LegalEntity") for c in cases]
    try:
        done = subprocess.run(
            [python, "-c", PEER_SCRIPT],
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


def frozen_scores(folder: Path) -> dict[tuple[str, str], float]:
    """nomenklatura's own frozen LogicV2 results for its name_bench cases."""
    with (folder / "name_bench_logicv2_frozen_results.csv").open(encoding="utf-8") as f:
        return {(r["name1"], r["name2"]): float(r["score"]) for r in csv.DictReader(f)}


def name_bench(folder: Path, alg: Algorithm, peer_python: str | None) -> dict[str, Any]:
    """P/R/F1 of Keruen and nomenklatura on the same pairs; never on unlike sets silently."""
    cases = ev.read_nomenklatura(folder / "name_bench_cases.csv")
    mine = [ev.pair_score(alg, c.query, c.target, c.schema) for c in cases]
    row: dict[str, Any] = {
        "pairs": len(cases),
        "keruen": _metrics(cases, mine, alg.threshold),
        "keruen_by_group": {
            k: m.public()
            for k, m in ev.evaluate(cases, mine, alg.threshold, by=lambda c: c.group).items()
        },
    }
    theirs, how = peer_scores(cases, peer_python) if peer_python else (None, "")
    if theirs is not None:
        row.update(peer=_metrics(cases, theirs, PEER_THRESHOLD), peer_source=how)
        return row
    known = frozen_scores(folder)
    kept = [i for i, c in enumerate(cases) if (c.query, c.target) in known]
    same = [cases[i] for i in kept]
    row["peer_source"] = (
        (how + "; " if how else "nomenklatura not installed (--peer-python); ")
        + f"frozen LogicV2 scores from nomenklatura's repository, on the {len(same)} of "
        f"{len(cases)} pairs they cover: both matchers scored on those {len(same)}"
    )
    row["keruen_on_peer_pairs"] = _metrics(same, [mine[i] for i in kept], alg.threshold)
    row["peer"] = _metrics(same, [known[(c.query, c.target)] for c in same], PEER_THRESHOLD)
    return row


def _metrics(cases: list[ev.Case], scores: list[float], threshold: float) -> dict[str, Any]:
    return ev.evaluate(cases, scores, threshold)["all"].public()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def second_set(folder: Path, alg: Algorithm) -> dict[str, Any]:
    """yente's UN people (mutated vs original) and plausible people on no list, screened
    against an index of the 683 originals: a hit on another entry is a false hit."""
    listed = _rows(folder / "positives_un_untreated.csv")
    mutated = _rows(folder / "positives_un_treated.csv")
    screener = Screener(algorithm=alg)
    screener.add_entries(
        (Entry("un", str(i), "person", (r["full_name"],)) for i, r in enumerate(listed)), "yente"
    )
    tp = fp = fn = tn = negatives = 0
    for i, r in enumerate(mutated):
        ids = {h.entry_id for h in screener.screen_party(r["full_name"], schema="person")}
        tp, fn = (tp + 1, fn) if str(i) in ids else (tp, fn + 1)
        fp += bool(ids - {str(i)})
    for name in ("negatives_global_1000.csv", "negatives_us_1000.csv"):
        for r in _rows(folder / name):
            negatives += 1
            hit = bool(screener.screen_party(r["full_name"], schema="person"))
            fp, tn = (fp + 1, tn) if hit else (fp, tn + 1)
    m = ev.Metrics(tp + fp + fn + tn, tp, fp, tn, fn)
    return {"positives": len(mutated), "negatives": negatives, "keruen": m.public()}


def wikidata_tokens(folder: Path, alg: Algorithm, n: int = 3000) -> dict[str, Any]:
    """Recall on single name tokens written in Latin and in Russian Cyrillic (all positives)."""
    rows = _rows(folder / "wikidata_en_ru_name_tokens_test.csv")[:n]
    found = sum(ev.pair_score(alg, r["cyrillic"], r["latin"]) >= alg.threshold for r in rows)
    return {"pairs": len(rows), "recall": round(found / max(1, len(rows)), 4)}


# --- the full list: burden, transliteration recall, speed ---------------------------------------


def full_list(sdn: Path, alg: Algorithm) -> Screener:
    ofac = loaders.ofac(sdn)
    screener = Screener(algorithm=alg)
    screener.add_entries(ofac.entries, ofac.version)
    return screener


def burden(screener: Screener, n: int, seed: int = BURDEN_SEED) -> dict[str, Any]:
    """How many plausible names on no list score at or above the threshold. A generated name
    whose words are a listed name's (patronymics aside) is left out: that is a true namesake,
    which only a date of birth or an identifier can tell apart."""
    learn_economy()
    try:
        return _burden(screener, n, seed)
    finally:
        WEIGHTS.forget_economy()


def _burden(screener: Screener, n: int, seed: int) -> dict[str, Any]:
    listed = {_namesake(k) for k in screener.index.keys}
    by_kind: dict[str, list[int]] = {"company": [0, 0], "person": [0, 0]}
    worst: list[tuple[float, str, str]] = []
    seen: set[str] = set()
    for name, kind in PlausibleNames(seed).names(n):
        key = _namesake(text.analyse(name).key)
        if key in listed or name in seen:
            continue
        seen.add(name)
        hits = screener.screen_party(name, schema="person" if kind == "person" else None)
        by_kind[kind][0] += 1
        if hits:
            by_kind[kind][1] += 1
            worst.append((hits[0].score, name, hits[0].matched_name))
    worst.sort(reverse=True)
    total, hit = (sum(v[i] for v in by_kind.values()) for i in (0, 1))
    return {
        "names": total,
        "false_hits": hit,
        "rate": round(hit / max(1, total), 4),
        "by_kind": {
            k: {"names": v[0], "false_hits": v[1], "rate": round(v[1] / max(1, v[0]), 4)}
            for k, v in by_kind.items()
        },
        "worst": [{"score": round(s, 3), "query": q, "matched": m} for s, q, m in worst[:15]],
    }


def learn_economy(n: int = 5000, seed: int = ECONOMY_SEED) -> int:
    """Teach the word weights the economy's names, as `screen_ledger` does from the ledger: here
    a sample of plausible names drawn with another seed than the names measured."""
    WEIGHTS.forget_economy()
    return WEIGHTS.learn(text.analyse(n).skeleton for n, _ in PlausibleNames(seed).names(n))


def _namesake(key: str) -> str:
    """A name without its patronymics: Pavel Popov is a namesake of POPOV, Pavel Anatolievich."""
    return " ".join(w for w in key.split() if not text.is_patronymic(w))


def transliteration(screener: Screener, seed: int = RENDER_SEED) -> dict[str, Any]:
    """Recall of Russia-program entries from their Cyrillic and re-romanised renderings."""
    entries = [o.entry for o in screener.owners]
    queries = list(renderings(entries, seed, people=200, orgs=150))
    by_how: dict[str, list[int]] = {}
    for query, eid, how in queries:
        kind = how.split(":")[0]
        found = any(h.entry_id == eid for h in screener.screen_party(query))
        counts = by_how.setdefault(kind, [0, 0])
        counts[0] += 1
        counts[1] += found
    total, found_all = (sum(v[i] for v in by_how.values()) for i in (0, 1))
    return {
        "queries": total,
        "recall": round(found_all / max(1, total), 4),
        "by_kind": {k: round(v[1] / max(1, v[0]), 4) for k, v in sorted(by_how.items())},
    }


def build_index(names: int, sdn: Path, alg: Algorithm, seed: int = 1) -> tuple[Screener, float]:
    """The real OFAC list plus generated names up to `names`; seconds it took."""
    start = time.perf_counter()
    gc.disable()  # the build makes millions of objects and frees none: no cycles to look for
    try:
        screener = full_list(sdn, alg)
        extra = max(0, names - screener.name_count)
        synthetic = (
            Entry("synthetic", f"g{i}", "unknown", (n,))
            for i, n in enumerate(NameGen(seed).names(extra))
        )
        screener.add_entries(synthetic, f"seed-{seed}")
        gc.freeze()  # millions of long-lived objects: keep the cycle collector off them
    finally:
        gc.enable()
    return screener, time.perf_counter() - start


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clear_caches() -> None:
    """Measure cold: no query profits from a cache warmed by an earlier run of itself."""
    for fn in features.CACHES + text.CACHES:
        fn.cache_clear()


RUNS = (  # label, algorithm, scored in full: the code before pruning (`Screener.exact`)
    ("current", None, False),
    ("previous", None, True),
    ("keruen_v1", PREVIOUS, True),
)
REPEATS = 3  # each run is timed this many times, cold caches each time; the fastest counts


def speed(names: int, sdn: Path, brute_sample: int, log: Log = _quiet) -> dict[str, Any]:
    """Queries/s and recall over `names` names, on one index, in this run: the current code;
    the previous code (the same algorithm, every shortlisted name scored in full, as before
    pruning); the algorithm before issue 18 (`keruen-v1`); and brute force (the current
    features over every name) on a sample."""
    log(f"speed: building an index of {names:,} names")
    rss = rss_mb()
    screener, build_s = build_index(names, sdn, get_algorithm())
    memory = round(rss_mb() - rss)
    queries = list(renderings([o.entry for o in screener.owners], RENDER_SEED, 200, 150))
    out: dict[str, Any] = {
        "names": screener.name_count,
        "index_rows": len(screener.index),
        "index_build_s": round(build_s, 1),
        "index_memory_mb": memory,
        "load_average": _load(),
    }
    for label, name, exact in RUNS:
        screener.algorithm, screener.exact = (
            get_algorithm(name or features.DEFAULT_ALGORITHM),
            exact,
        )
        log(f"speed: {len(queries):,} queries, {label} ({screener.algorithm.name})")
        runs = [_run(queries, screener.screen_party) for _ in range(REPEATS)]
        best = max(runs, key=lambda r: r["queries_per_s_cpu"])
        out[label] = {"algorithm": screener.algorithm.name, "exact": exact, **best}
    screener.algorithm, screener.exact = get_algorithm(), False
    sample = queries[:: max(1, len(queries) // brute_sample)][:brute_sample]
    log(f"speed: {len(sample)} brute-force queries over {len(screener.index):,} rows")
    out["brute_force_sample"] = _run(sample, partial(_brute, screener))
    out["indexed_same_sample"] = _run(sample, screener.screen_party)
    cur, brute = out["indexed_same_sample"], out["brute_force_sample"]
    out["speedup_vs_brute_force"] = round(
        cur["queries_per_s_cpu"] / max(brute["queries_per_s_cpu"], 1e-9), 1
    )
    out["current_vs_previous"] = round(
        out["current"]["queries_per_s_cpu"] / max(out["previous"]["queries_per_s_cpu"], 1e-9), 2
    )
    out["load_average_after"] = _load()
    return out


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:
        return "unknown"


def _run(
    queries: list[tuple[str, str, str]], search: Callable[..., Iterable[Any]]
) -> dict[str, Any]:
    clear_caches()
    wall, cpu = time.perf_counter(), time.process_time()
    found = sum(any(h.entry_id == eid for h in search(q)) for q, eid, _ in queries)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "queries": len(queries),
        "recall": round(found / max(1, len(queries)), 4),
        "queries_per_s_wall": round(len(queries) / wall, 1),
        "queries_per_s_cpu": round(len(queries) / max(cpu, 1e-9), 1),
    }


def _brute(screener: Screener, query: str) -> list[Any]:
    """The same features and threshold, but the shortlist comes from every name in the index."""
    index = screener.index
    saved = index.shortlist
    index.shortlist = lambda key, cutoff, limit, behind=1.0: index.brute_force(key, cutoff, limit)  # type: ignore[method-assign]
    try:
        return screener.screen_party(query)
    finally:
        index.shortlist = saved  # type: ignore[method-assign]


def run(
    inputs: Inputs,
    peer_python: str | None,
    burden_names: int,
    names: int,
    brute: int,
    skip_speed: bool,
    log: Log = _quiet,
) -> dict[str, Any]:
    alg = get_algorithm()
    out: dict[str, Any] = {"algorithm": alg.name, "threshold": alg.threshold}
    out["peer_threshold"] = PEER_THRESHOLD
    log("quality: nomenklatura name_bench")
    out["name_bench"] = name_bench(inputs.names / "nomenklatura", alg, peer_python)
    log("quality: yente UN people and plausible people (second set, not tuned on)")
    out["second_set"] = second_set(inputs.names / "yente", alg)
    out["wikidata_tokens"] = wikidata_tokens(inputs.names / "netransliteration", alg)
    log(f"full list: loading {inputs.sdn}")
    screener = full_list(inputs.sdn, alg)
    log(f"burden: {burden_names:,} plausible names on no list")
    out["burden"] = burden(screener, burden_names)
    log("transliteration: Russia-program renderings")
    out["transliteration"] = transliteration(screener)
    del screener
    if not skip_speed:
        out["speed"] = speed(names, inputs.sdn, brute, log)
    return out


__all__ = ["Inputs", "find_shared", "name_bench", "run", "second_set", "speed"]
