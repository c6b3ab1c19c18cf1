"""Labelled name pairs and the figures measured on them: precision, recall, F1.

Two file shapes are read: Keruen's own evaluation set (keruen_eval*.csv in tests/screening/data:
query, target_id, target_name, is_match, category) and nomenklatura's name_bench `cases.csv`
(name1, name2, is_match, schema, case_group). Pure apart from reading the CSV files.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keruen.screening.features import Algorithm, Pair, Side
from keruen.screening.text import analyse


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled pair: does `query` name the entity called `target` (id `target_id`)?"""

    group: str
    category: str
    query: str
    target: str
    is_match: bool
    target_id: str = ""
    country: str = ""
    ids: tuple[str, ...] = ()
    schema: str = ""


def read_keruen(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Case(
                "keruen",
                r["category"],
                r["query"],
                r["target_name"],
                r["is_match"] == "true",
                r["target_id"],
                r["query_country"],
                tuple(i for i in [r["query_ids"]] if i),
            )
            for r in csv.DictReader(f)
        ]


def read_nomenklatura(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Case(
                r["case_group"],
                r.get("category") or r["case_group"],
                r["name1"],
                r["name2"],
                r["is_match"].lower() == "true",
                schema=r["schema"],
            )
            for r in csv.DictReader(f)
        ]


SCHEMA_KINDS = {"person": False, "company": True, "organization": True}


def pair_score(algorithm: Algorithm, query: str, target: str, schema: str = "") -> float:
    """Name against name, and the schema both share when the pair set gives one (nomenklatura's
    Person / Company / ...): what both matchers see in the pair benchmark."""
    q, t = analyse(query), analyse(target)
    kind = SCHEMA_KINDS.get(schema.lower())
    return algorithm.score(
        Pair(
            Side(q.key, organization=True if q.forms else kind, forms=frozenset(q.forms)),
            Side(t.key, organization=True if t.forms else kind, forms=frozenset(t.forms)),
        )
    )


@dataclass(frozen=True)
class Metrics:
    n: int
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def public(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def metrics(outcomes: Iterable[tuple[bool, bool]]) -> Metrics:
    """Confusion counts from (labelled match, predicted match) pairs."""
    counts = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for truth, predicted in outcomes:
        counts[("t" if truth == predicted else "f") + ("p" if predicted else "n")] += 1
    return Metrics(sum(counts.values()), **counts)


def evaluate(
    cases: list[Case],
    scores: list[float],
    threshold: float,
    by: Callable[[Case], str] = lambda c: c.category,
) -> dict[str, Metrics]:
    """Metrics overall (key "all") and per slice (category by default)."""
    slices: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for case, score in zip(cases, scores, strict=True):
        outcome = (case.is_match, score >= threshold)
        slices["all"].append(outcome)
        slices[by(case)].append(outcome)
    return {k: metrics(v) for k, v in sorted(slices.items())}
