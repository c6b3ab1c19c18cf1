"""Ghost trade per consignment: partner-side export records matched to the home country's
imports and arrivals; the consignments no home declaration matches, named, are what an
aggregate mirror gap is made of.

Partner file (CSV, UTF-8, a header line):

    partner,date,hs,mass_kg,value,currency,reference
    DE,2022-03-01,850440,1200.5,48200,EUR,DE22EX0001234

`partner` the exporting state (ISO 3166 alpha-2), `date` its export date (YYYY-MM-DD), `hs` at
least the 4-digit heading (6 digits to match on the subheading), `mass_kg` net mass, `value`
the export (FOB) value in `currency` (ISO 4217; converted with the loaded rates on that date),
`reference` the partner's declaration number (unique in the file).

Matching (the home side from the ledger's export, through Ibis on any engine): a home
import or arrival is a candidate for a partner record when its seller's country is the
partner, its HS heading (4 digits) is the record's, and it was released from `early` days
before to `window` days after the export date. A candidate matches when mass and USD value
agree within tolerances (mass: `mass_tol` relative or `mass_abs` kg, whichever is larger —
partner files round masses; value: `value_tol` relative — FOB against CIF and currency rates
differ). Two tiers, strict (mass within 1 %, value within 10 %, released within 15 days)
then the tolerances given; in each, whole consignments first — a maximum one-to-one matching,
each record trying its candidates best first (score: |ln mass ratio| + |ln value ratio|, +
0.5 where the subheadings differ, + 0.002 per day apart) — then two partial consignments
matched to one home declaration whose mass and value their sums meet. What is left
unmatched is named with its nearest candidate and why it failed.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from keruen.analytics import figures as fg
from keruen.analytics.engines import Source
from keruen.analytics.rates import Rates
from keruen.errors import AnalyticsError, MissingRate

HEADER = ("partner", "date", "hs", "mass_kg", "value", "currency", "reference")
FORMULA = (
    "a partner record matches a home import or arrival from the same partner, same HS "
    "heading, released {early} days before to {window} days after the export date, with mass "
    "within max({mass_tol:.0%}, {mass_abs} kg) and USD value within {value_tol:.0%} (whole "
    "consignments one to one, best first; then two partial consignments to one declaration); "
    "unmatched records are named with their nearest candidate"
)


@dataclass(frozen=True)
class Settings:
    window: int = 45
    early: int = 3
    mass_tol: float = 0.05
    mass_abs: float = 10.0
    value_tol: float = 0.15

    def formula(self) -> str:
        return FORMULA.format(**self.__dict__)


@dataclass
class PartnerRecord:
    partner: str
    day: date
    hs: str
    mass_kg: float
    value: Decimal
    currency: str
    reference: str
    value_usd: float = 0.0


@dataclass
class KzDeclaration:
    id: str
    partner: str
    day: date
    hs: str
    mass_kg: float
    value_usd: float
    used: bool = False


@dataclass
class Outcome:
    record: PartnerRecord
    status: str = "unmatched"  # matched | partial | unmatched
    home_events: list[str] = field(default_factory=list)
    reason: str = ""


# --- the partner file ---------------------------------------------------------------------------


def _field(rec: dict[str, str], name: str, where: str) -> str:
    v = (rec.get(name) or "").strip()
    if not v:
        raise AnalyticsError(f"{where}: {name} is empty")
    return v


def _number(text: str, name: str, where: str) -> Decimal:
    try:
        v = Decimal(text)
    except InvalidOperation as e:
        raise AnalyticsError(f"{where}: {name} {text!r} is not a number") from e
    if not v.is_finite() or v < 0:
        raise AnalyticsError(f"{where}: {name} {text!r} must be a number ≥ 0")
    return v


def parse(text: str, name: str) -> list[PartnerRecord]:
    """The records of a partner file; a malformed line is an error naming file, line, field."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in HEADER if c not in (reader.fieldnames or [])]
    if missing:
        raise AnalyticsError(
            f"{name}:1: header lacks {', '.join(missing)} (needs {','.join(HEADER)})"
        )
    found, seen = [], set[str]()
    for n, rec in enumerate(reader, 2):
        where = f"{name}:{n}"
        partner = _field(rec, "partner", where).upper()
        if len(partner) != 2 or not partner.isalpha():
            raise AnalyticsError(f"{where}: partner {partner!r} is not an ISO 3166 alpha-2 code")
        try:
            day = date.fromisoformat(_field(rec, "date", where))
        except ValueError as e:
            raise AnalyticsError(f"{where}: date {rec['date']!r} is not YYYY-MM-DD") from e
        hs = _field(rec, "hs", where).replace(".", "")
        if not hs.isdigit() or len(hs) < 4:
            raise AnalyticsError(f"{where}: hs {hs!r} needs at least 4 digits")
        currency = _field(rec, "currency", where).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise AnalyticsError(f"{where}: currency {currency!r} is not an ISO 4217 code")
        ref = _field(rec, "reference", where)
        if ref in seen:
            raise AnalyticsError(f"{where}: reference {ref!r} appears twice")
        seen.add(ref)
        mass = _number(_field(rec, "mass_kg", where), "mass_kg", where)
        value = _number(_field(rec, "value", where), "value", where)
        found.append(PartnerRecord(partner, day, hs[:6], float(mass), value, currency, ref))
    return found


def load(path: Path) -> list[PartnerRecord]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise AnalyticsError(f"{path}: cannot read the partner file ({e.strerror})") from e
    return parse(text, path.name)


def convert(records: list[PartnerRecord], rates: Rates) -> None:
    """Each record's value in USD at the loaded rate of its currency on its date."""
    by: dict[str, list[tuple[date, date, Decimal]]] = defaultdict(list)
    for r in rates.rows:
        by[r.currency].append((r.valid_from, r.valid_to, r.usd_per_unit))
    for spans in by.values():
        spans.sort()
    for rec in records:
        spans = by.get(rec.currency, [])
        i = bisect.bisect_right(spans, (rec.day, date.max, Decimal("Infinity"))) - 1
        if i < 0 or not spans[i][0] <= rec.day < spans[i][1]:
            raise MissingRate(rec.currency, rec.day.isoformat())
        rec.value_usd = float(rec.value * spans[i][2])


# --- the home side -----------------------------------------------------------------------------


def declarations(src: Source, rates: Any) -> list[KzDeclaration]:
    """Standing imports and arrivals with their seller's country, HS, mass and USD value."""
    rows = fg.valued(src, ["import", "arrival"], rates)
    expr = rows.select("id", "partner", "day", "hs", "mass_kg", "value_usd")
    found = []
    for r in fg.run(expr, src):
        found.append(
            KzDeclaration(
                str(r["id"]), str(r["partner"] or ""), _date(r["day"]), str(r["hs"] or ""),
                float(r["mass_kg"] or 0), float(r["value_usd"] or 0),
            )
        )  # fmt: skip
    return found


def _date(v: Any) -> date:
    return v.date() if hasattr(v, "date") and callable(v.date) else v  # type: ignore[no-any-return]


# --- matching ----------------------------------------------------------------------------------


def _close(a: float, b: float, rel: float, absolute: float = 0.0) -> bool:
    return abs(a - b) <= max(rel * max(a, b), absolute)


def _log_ratio(a: float, b: float) -> float:
    return abs(math.log(a / b)) if a > 0 and b > 0 else 10.0


class Matcher:
    def __init__(self, kz: list[KzDeclaration], s: Settings) -> None:
        self.s = s
        self.index: dict[tuple[str, str], list[KzDeclaration]] = defaultdict(list)
        for k in kz:
            self.index[(k.partner, k.hs[:4])].append(k)
        for lst in self.index.values():
            lst.sort(key=lambda k: k.day)

    def candidates(self, p: PartnerRecord) -> list[KzDeclaration]:
        lst = self.index.get((p.partner, p.hs[:4]), [])
        days = [k.day for k in lst]
        lo = bisect.bisect_left(days, p.day - timedelta(days=self.s.early))
        hi = bisect.bisect_right(days, p.day + timedelta(days=self.s.window))
        return lst[lo:hi]

    def score(self, p: PartnerRecord, k: KzDeclaration) -> float:
        return (
            _log_ratio(p.mass_kg, k.mass_kg)
            + _log_ratio(p.value_usd, k.value_usd)
            + (0.0 if p.hs == k.hs[: len(p.hs)] else 0.5)
            + 0.002 * abs((k.day - p.day).days)
        )

    def fits(self, mass: float, value: float, k: KzDeclaration) -> bool:
        s = self.s
        mass_ok = k.mass_kg <= 0 or _close(mass, k.mass_kg, s.mass_tol, s.mass_abs)
        return mass_ok and _close(value, k.value_usd, s.value_tol)

    def why_not(self, p: PartnerRecord, cands: list[KzDeclaration]) -> str:
        if not cands:
            return (
                f"no import or arrival from {p.partner} under heading {p.hs[:4]} released "
                f"{self.s.early} days before to {self.s.window} days after {p.day}"
            )
        k = min(cands, key=lambda k: self.score(p, k))
        taken = " (already matched to another record)" if k.used else ""
        return (
            f"nearest {k.id} of {k.day} (HS {k.hs}): mass {k.mass_kg:,.1f} kg vs "
            f"{p.mass_kg:,.1f}, value {k.value_usd:,.2f} vs {p.value_usd:,.2f} USD{taken}"
        )

    def run(self, records: list[PartnerRecord]) -> list[Outcome]:
        """Strict pass first (mass within 1 %, value within 10 %, released within 15 days),
        then the tolerances given: whole consignments, then partial ones, in each. A close
        pair is not lost to a loose one that the looser tolerances would also allow."""
        outcomes = {p.reference: Outcome(p) for p in records}
        loose = self.s
        strict = Settings(
            window=min(15, loose.window), early=loose.early, mass_tol=min(0.01, loose.mass_tol),
            mass_abs=loose.mass_abs, value_tol=min(0.10, loose.value_tol),
        )  # fmt: skip
        for tier in (strict, loose):
            self.s = tier
            left = [o for o in outcomes.values() if o.status == "unmatched"]
            self.wholes(left)
            self.partials([o for o in left if o.status == "unmatched"], outcomes)
        for o in outcomes.values():
            if o.status == "unmatched":
                o.reason = self.why_not(o.record, self.candidates(o.record))
        return [outcomes[p.reference] for p in records]

    def wholes(self, left: list[Outcome]) -> None:
        edges: dict[str, list[KzDeclaration]] = {}
        by_ref = {o.record.reference: o for o in left}
        for o in left:
            p = o.record
            fit = [k for k in self.candidates(p)
                   if not k.used and self.fits(p.mass_kg, p.value_usd, k)]  # fmt: skip
            edges[p.reference] = sorted(fit, key=lambda k: (self.score(p, k), k.id))
        order = sorted(edges, key=lambda r: (self.score(by_ref[r].record, edges[r][0])
                                             if edges[r] else 99.0, r))  # fmt: skip
        kz = {k.id: k for ks in edges.values() for k in ks}
        for k_id, ref in assign(edges, order).items():
            kz[k_id].used = True
            by_ref[ref].status, by_ref[ref].home_events = "matched", [k_id]

    def partials(self, left: list[Outcome], outcomes: dict[str, Outcome]) -> None:
        """Two partial consignments whose sums meet one declaration left unmatched."""
        by_k: dict[str, tuple[KzDeclaration, list[PartnerRecord]]] = {}
        for o in left:
            for k in self.candidates(o.record):
                if not k.used and o.record.mass_kg < k.mass_kg:
                    by_k.setdefault(k.id, (k, []))[1].append(o.record)
        options = []
        for k, ps in by_k.values():
            for i, a in enumerate(ps):
                for b in ps[i + 1 :]:
                    if self.fits(a.mass_kg + b.mass_kg, a.value_usd + b.value_usd, k):
                        mass = _log_ratio(a.mass_kg + b.mass_kg, k.mass_kg)
                        value = _log_ratio(a.value_usd + b.value_usd, k.value_usd)
                        options.append((mass + value, k.id, a.reference, b.reference, k))
        options.sort(key=lambda x: x[:4])
        for _, _, ra, rb, k in options:
            oa, ob = outcomes[ra], outcomes[rb]
            if k.used or oa.status != "unmatched" or ob.status != "unmatched":
                continue
            k.used = True
            for o in (oa, ob):
                o.status, o.home_events = "partial", [k.id]


def assign(edges: dict[str, list[KzDeclaration]], order: list[str]) -> dict[str, str]:
    """A maximum one-to-one matching of records to declarations (augmenting paths, searched
    breadth first; each record tries its candidates best first, records with the best
    candidate first): as many records matched as the tolerances allow, so a record that fits
    two declarations does not take the only one another record fits. Returns
    declaration id → record reference."""
    owner: dict[str, str] = {}
    held: dict[str, str] = {}  # record reference → its declaration
    for start in order:
        if not edges[start]:
            continue
        parent: dict[str, str] = {}  # declaration → the record that reached it
        queue, seen, free = [start], set[str](), None
        while queue and free is None:
            nxt = []
            for ref in queue:
                for k in edges[ref]:
                    if k.id in seen:
                        continue
                    seen.add(k.id)
                    parent[k.id] = ref
                    if k.id not in owner:
                        free = k.id
                        break
                    nxt.append(owner[k.id])
                if free is not None:
                    break
            queue = nxt
        while free is not None:  # flip the path back to the start
            ref = parent[free]
            before = held.get(ref)
            owner[free], held[ref] = ref, free
            free = before
    return owner


def match(
    src: Source, records: list[PartnerRecord], rates: Rates, s: Settings = Settings()
) -> list[Outcome]:
    convert(records, rates)
    kz = declarations(src, fg.rates_table(rates))
    return Matcher(kz, s).run(records)


def rows(outcomes: list[Outcome], everything: bool = False) -> list[dict[str, Any]]:
    found = []
    for o in outcomes:
        if not everything and o.status != "unmatched":
            continue
        r = o.record
        found.append(
            {
                "reference": r.reference,
                "partner": r.partner,
                "date": r.day.isoformat(),
                "hs": r.hs,
                "mass_kg": r.mass_kg,
                "value": r.value,
                "currency": r.currency,
                "value_usd": round(r.value_usd, 2),
                "status": o.status,
                "home_events": o.home_events,
                "reason": o.reason,
            }
        )
    return found


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts and USD per status, and the unmatched USD per partner (the gap's make-up)."""
    count: dict[str, int] = defaultdict(int)
    usd: dict[str, float] = defaultdict(float)
    gap: dict[str, float] = defaultdict(float)
    for o in outcomes:
        count[o.status] += 1
        usd[o.status] += o.record.value_usd
        if o.status == "unmatched":
            gap[o.record.partner] += o.record.value_usd
    return {
        "records": len(outcomes),
        "matched": count["matched"],
        "partial": count["partial"],
        "unmatched": count["unmatched"],
        "unmatched_usd": round(usd["unmatched"], 2),
        "unmatched_usd_by_partner": {k: round(v, 2) for k, v in sorted(gap.items())},
    }


def evaluate(outcomes: list[Outcome], truth: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall and precision of the unmatched records against a truth file (the simulator's
    partner_truth.jsonl): a record is a ghost where `expected` is `unmatched`; a matched
    record is right where it names the truth's `home_event`."""
    by = {t["reference"]: t for t in truth}
    ghosts = {r for r, t in by.items() if t.get("expected") == "unmatched"}
    flagged = {o.record.reference for o in outcomes if o.status == "unmatched"}
    hit = len(ghosts & flagged)
    linked = [o for o in outcomes if o.status != "unmatched" and o.record.reference in by]
    right = sum(1 for o in linked if by[o.record.reference].get("home_event") in o.home_events)
    return {
        "ghost_records": len(ghosts),
        "flagged": len(flagged),
        "true_positive": hit,
        "precision": hit / len(flagged) if flagged else None,
        "recall": hit / len(ghosts) if ghosts else None,
        "matched_to_the_right_declaration": right / len(linked) if linked else None,
        "missed": sorted(ghosts - flagged),
        "false_alarms_by_cause": _causes(flagged - ghosts, by),
    }


def _causes(refs: set[str], by: dict[str, dict[str, Any]]) -> dict[str, int]:
    causes: dict[str, int] = defaultdict(int)
    for r in refs:
        causes["not in truth file" if r not in by else "mirrors a home declaration"] += 1
    return dict(causes)
