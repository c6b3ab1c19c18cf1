"""The alert inbox: one page of alerts at a time, filtered, highest score first.

Keyset paging (the page after a given (score, id)), never OFFSET: page 2,000 costs what page 1
costs. Highest score first, ties newest alert first: the order of the index (level, score, id)
read backwards, so a page is read in index order and the read stops after it. Filters narrow
in SQL; the rows are the same dicts as `keruen.risk.queries.public`.

| filter   | meaning                                                                    |
| -------- | -------------------------------------------------------------------------- |
| status   | open (in no case), in_case (case not decided), closed (decided), all       |
| lane     | the lane of the alert's subject (movements only: dispatches and transits)  |
| rule     | the rule code                                                              |
| score    | at least this score                                                        |
| post     | a post code the alert names (in its facts or explanation)                  |
| hs       | an HS code prefix of a batch the alert cites                               |
| party    | a tax id the alert cites                                                   |
| since/until | the alert's event time in [since, until)                                |
| tenant   | a declarant: only the alerts that name its tax id                          |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.risk import tables as rt
from keruen.risk.errors import BadInput
from keruen.risk.queries import STATUSES, _query, public
from keruen.store.port import batches_with_hs

LANES = ("green", "yellow", "red", "blue")
LEVELS = ("alert", "signal", "all")
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Filter:
    status: str = "all"
    level: str = "alert"
    lane: str | None = None
    rule: str | None = None
    min_score: float | None = None
    post: str | None = None
    hs: str | None = None
    party: str | None = None
    since_us: int | None = None
    until_us: int | None = None
    tenant: str | None = None

    def check(self) -> None:
        if self.status not in STATUSES:
            raise BadInput("status", f"{self.status!r} is not one of {', '.join(STATUSES)}")
        if self.level not in LEVELS:
            raise BadInput("level", f"{self.level!r} is not one of {', '.join(LEVELS)}")
        if self.lane is not None and self.lane not in LANES:
            raise BadInput("lane", f"{self.lane!r} is not one of {', '.join(LANES)}")
        if self.hs is not None and not (self.hs.isdigit() and 2 <= len(self.hs) <= 10):
            raise BadInput("hs", "an HS code prefix is 2 to 10 digits")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the next page starts after this (score, id)."""

    score: float
    id: int

    def encode(self) -> str:
        return f"{self.score!r}_{self.id}"

    @staticmethod
    def decode(text: str) -> Cursor:
        score, _, ident = text.partition("_")
        try:
            return Cursor(float(score), int(ident))
        except ValueError:
            raise BadInput("after", f"{text!r} is not a page position") from None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    next: Cursor | None


def _cites(kind: str, value: str) -> Any:
    r = rt.risk_alert_refs.c
    return rt.risk_alerts.c.id.in_(sa.select(r.alert_id).where(r.kind == kind, r.value == value))


def _status(status: str) -> Any:
    ca = rt.risk_case_alerts.c
    decided = (
        sa.select(rt.risk_case_actions.c.case_id)
        .where(rt.risk_case_actions.c.action == "decide")
        .scalar_subquery()
    )
    in_case = ca.case_id.is_not(None)
    return {
        "open": ca.case_id.is_(None),
        "in_case": sa.and_(in_case, ca.case_id.not_in(decided)),
        "closed": sa.and_(in_case, ca.case_id.in_(decided)),
    }[status]


def _lane(lane: str) -> Any:
    a, s = rt.risk_alerts.c, rt.risk_subjects.c
    return sa.exists().where(
        s.subject_kind == a.subject_kind, s.subject == a.subject, s.lane == lane
    )


def _hs(prefix: str) -> Any:
    r = rt.risk_alert_refs.c
    cited = sa.select(r.alert_id).where(r.kind == "batch", r.value.in_(batches_with_hs(prefix)))
    facts = rt.risk_alerts.c.facts.contains(f'"{prefix}', autoescape=True)
    return sa.or_(rt.risk_alerts.c.id.in_(cited), facts)


def _post(code: str) -> Any:
    a = rt.risk_alerts.c
    return sa.or_(
        a.facts.contains(f'"{code}"', autoescape=True),
        a.explanation.contains(code, autoescape=True),
    )


def conditions(f: Filter) -> list[Any]:
    """The WHERE clauses of a filter (the cursor apart)."""
    a = rt.risk_alerts.c
    where: list[Any] = []
    if f.level != "all":
        # a party's alerts are few: found through the identifiers' index, then sorted; `|| ''`
        # keeps SQLite from walking the whole queue by (level, score) to find them instead
        level = a.level.op("||")("") if f.party or f.tenant else a.level
        where.append(level == f.level)
    if f.status != "all":
        where.append(_status(f.status))
    optional: list[tuple[Any, Callable[[Any], Any]]] = [
        (f.rule, lambda v: a.rule == v),
        (f.min_score, lambda v: a.score >= v),
        (f.since_us, lambda v: a.time_us >= v),
        (f.until_us, lambda v: a.time_us < v),
        (f.lane, _lane),
        (f.hs, _hs),
        (f.post, _post),
        (f.party, lambda v: _cites("tax_id", v)),
        (f.tenant, lambda v: _cites("tax_id", v)),
    ]
    for value, clause in optional:
        if value is not None and value != "":
            where.append(clause(value))
    return where


def page(conn: Connection, f: Filter, after: Cursor | None = None, limit: int = 50) -> Page:
    """One page of alerts, highest score first (ties: newest first)."""
    f.check()
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput("limit", f"a page holds 1 to {MAX_PAGE} alerts")
    a = rt.risk_alerts.c
    q = _query().where(*conditions(f)).order_by(a.score.desc(), a.id.desc()).limit(limit + 1)
    if after is not None:
        # a row value: the index (level, score, id) is entered at the cursor itself; the
        # equivalent OR made SQLite walk every tied score above it (a page halfway through
        # 100,000 alerts of eight distinct scores: 32 -> 2 ms)
        q = q.where(sa.tuple_(a.score, a.id) < sa.tuple_(after.score, after.id))
    raw = conn.execute(q).all()
    more = len(raw) > limit
    last = raw[limit - 1] if more else None
    return Page([public(r) for r in raw[:limit]], Cursor(last.score, last.id) if last else None)


def rules(conn: Connection) -> list[str]:
    """The rule codes that have alerts, for a filter's choices."""
    a = rt.risk_alerts.c
    return list(conn.scalars(sa.select(a.rule).distinct().order_by(a.rule)))


def version(conn: Connection) -> tuple[int, int, int]:
    """What changes when alerts or cases change: the newest alert, case action and run (three
    primary-key lookups), to keep figures derived from them until one of these moves."""
    newest = [
        conn.scalar(sa.select(sa.func.max(t.c.id))) or 0
        for t in (rt.risk_alerts, rt.risk_case_actions, rt.risk_runs)
    ]
    return newest[0], newest[1], newest[2]
