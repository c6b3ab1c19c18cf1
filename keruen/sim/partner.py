"""Partner-side export records: what the customs of the states Kazakhstan buys from record as
exported to Kazakhstan, written from a finished run for `keruen trade ghost` — and which of
them no Kazakh import or arrival matches, by design.

    partner_exports.csv     partner,date,hs,mass_kg,value,currency,reference
    partner_truth.jsonl     {"reference", "home_event" (the import or arrival it mirrors, or
                             null), "expected": "match" | "unmatched", "scheme" (the truth
                             record that leaves it unmatched), "why"}

Every standing import and arrival gets a record as its seller's customs would keep it, with
the noise of real files: the export dated 1–12 days before the Kazakh release (a few weeks
for 5 %: late declarations), one in twelve shipped in two partial consignments (both before
the release), masses
rounded to 10 kg for a third (and ±0.5 % net/gross), the value FOB (2–8 % below the Kazakh
CIF value) in the partner's currency (EUR for EU states, CNY, RUB, else USD) at the rates
the run writes, 4 % never reported by the partner, 2 % classified under another subheading of
the same heading.

Unmatched by design, from the schemes (truth.jsonl):
- `transit_diversion`: the goods lines of the transits that left toward Russia or never left
  were declared by the exporter (China) as exports to Kazakhstan; Kazakhstan recorded only a
  transit, no import — the consignments an aggregate mirror gap is made of;
- `misdeclared_hs`: the exporter declared the true subheading (high-priority goods), the
  Kazakh import a cover one (lamps, screws, plastics).

The noise draws from a generator of its own (seeded from the run's seed), so the events of a
run do not change.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import msgspec

from keruen.sim.rates import units_per_usd

EU = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
     "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
)  # fmt: skip
HEADER = ("partner", "date", "hs", "mass_kg", "value", "currency", "reference")
NOT_REPORTED = 0.04
SPLIT = 0.08
LATE = 0.05
ROUNDED = 0.33
OTHER_HS = 0.02


@dataclass(frozen=True)
class Record:
    partner: str
    day: date
    hs: str
    mass_kg: Decimal
    value: Decimal
    currency: str
    reference: str

    def row(self) -> tuple[str, ...]:
        return (self.partner, self.day.isoformat(), self.hs, str(self.mass_kg), str(self.value),
                self.currency, self.reference)  # fmt: skip


@dataclass(frozen=True)
class Truth:
    reference: str
    home_event: str | None
    expected: str
    scheme: str
    why: str


def currency_of(partner: str) -> str:
    if partner in EU:
        return "EUR"
    return {"CN": "CNY", "RU": "RUB"}.get(partner, "USD")


def _day(text: str) -> date:
    return datetime.fromisoformat(text).date()


def _money(usd: float, currency: str, year: int) -> Decimal:
    return Decimal(usd * units_per_usd(currency, year)).quantize(Decimal(1), ROUND_HALF_UP)


def _mass(kg: float, rng: random.Random) -> Decimal:
    kg *= rng.uniform(0.995, 1.005)
    if rng.random() < ROUNDED:
        return Decimal(max(10, round(kg / 10) * 10))
    return Decimal(kg).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _other_hs(hs: str, rng: random.Random) -> str:
    sub = f"{(int(hs[4:6]) + rng.randint(1, 89)) % 100:02d}"
    return hs[:4] + sub


class Writer:
    """Builds the records and their truth (one reference counter per partner and year)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed * 1_000_003 + 15)
        self.records: list[Record] = []
        self.truth: list[Truth] = []
        self.counter: dict[str, int] = {}

    def reference(self, partner: str, day: date) -> str:
        key = f"{partner}{day:%y}"
        self.counter[key] = self.counter.get(key, 0) + 1
        return f"{key}EX{self.counter[key]:07d}"

    def add(
        self,
        partner: str,
        day: date,
        hs: str,
        mass_kg: float,
        usd: float,
        truth: tuple[str | None, str, str, str],
        lag: int = 1,
    ) -> None:
        """`day`: the (first) export date; `lag`: days from it to the Kazakh release (a second
        partial consignment leaves before the goods are released)."""
        rng = self.rng
        if rng.random() < SPLIT:
            share = rng.uniform(0.3, 0.7)
            parts = [(share, 0), (1 - share, rng.randint(0, min(6, max(0, lag - 1))))]
        else:
            parts = [(1.0, 0)]
        for share, later in parts:
            when = day + timedelta(days=later)
            currency = currency_of(partner)
            fob = usd * share / rng.uniform(1.02, 1.08)
            ref = self.reference(partner, when)
            self.records.append(
                Record(
                    partner,
                    when,
                    hs,
                    _mass(mass_kg * share, rng),
                    _money(fob, currency, when.year),
                    currency,
                    ref,
                )
            )
            self.truth.append(Truth(ref, *truth))

    def kz_import(self, ev: dict[str, Any], true_hs: str | None, scheme: str) -> None:
        rng = self.rng
        if rng.random() < NOT_REPORTED:
            return
        hs = true_hs or ev["goods"]["hs"]
        if true_hs is None and rng.random() < OTHER_HS:
            hs = _other_hs(hs, rng)
        lag = rng.randint(20, 40) if rng.random() < LATE else rng.randint(1, 12)
        mass = float(ev.get("mass_kg") or 0) or float(ev["quantity"])
        usd = _usd(ev["value"], _day(ev["time"]).year)
        expected = ("unmatched", scheme, "declared under a cover subheading in Kazakhstan") if (
            true_hs) else ("match", "", "")  # fmt: skip
        day = _day(ev["time"]) - timedelta(days=lag)
        self.add(ev["seller"]["country"], day, hs, mass, usd, (ev["id"], *expected), lag)

    def transit_goods(self, ev: dict[str, Any], scheme: str) -> None:
        day = _day(ev["time"]) - timedelta(days=self.rng.randint(1, 6))
        why = "declared for Kazakhstan, recorded there only as a transit"
        for g in ev["goods"]:
            usd = _usd(g["value"], day.year)
            truth = (None, "unmatched", scheme, why)
            self.add("CN", day, g["hs"], float(g["mass_kg"]), usd, truth)


def _usd(value: dict[str, Any], year: int) -> float:
    return float(value["amount"]) / units_per_usd(value["currency"], year)


TRUE_GOODS = re.compile(r"true goods: (.*)$")


def true_subheadings(truth: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Import event id → (true HS, scheme id) for the misdeclared imports, in the order the
    scheme noted its true goods."""
    found: dict[str, tuple[str, str]] = {}
    for rec in truth:
        if rec.get("kind") != "misdeclared_hs":
            continue
        m = TRUE_GOODS.search(rec.get("note", ""))
        hs = re.findall(r"(\d{6}) \(", m.group(1)) if m else []
        imports = [e for e in rec.get("events", []) if e in rec.get("_imports", set())]
        for ev_id, true_hs in zip(imports, hs, strict=False):
            found[ev_id] = (true_hs, rec["id"])
    return found


def build(seed: int, events: Iterable[dict[str, Any]], truth: list[dict[str, Any]]) -> Writer:
    """The partner-side records of a run: its events (dicts, in time order) and its truth."""
    evs = list(events)
    cancelled = {e["target"] for e in evs if e.get("type") == "cancel"}
    kinds = {e["id"]: e.get("type") for e in evs}
    for rec in truth:
        rec["_imports"] = {i for i in rec.get("events", []) if kinds.get(i) == "import"}
    misdeclared = true_subheadings(truth)
    diverted = {
        e: rec["id"]
        for rec in truth
        if rec.get("kind") == "transit_diversion"
        for e in rec.get("events", [])
        if kinds.get(e) == "transit_open"
    }
    w = Writer(seed)
    for ev in evs:
        kind = ev.get("type")
        if ev.get("id") in cancelled:
            continue
        if kind in ("import", "arrival") and ev.get("seller", {}).get("country") not in (
            None,
            "KZ",
        ):
            true_hs, scheme = misdeclared.get(ev["id"], (None, ""))
            w.kz_import(ev, true_hs, scheme)
        elif kind == "transit_open" and ev["id"] in diverted:
            w.transit_goods(ev, diverted[ev["id"]])
    for rec in truth:
        rec.pop("_imports", None)
    return w


def csv_text(records: Iterable[Record]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(HEADER)
    out.writerows(r.row() for r in sorted(records, key=lambda r: (r.day, r.reference)))
    return buf.getvalue()


def write(out: Path, seed: int) -> int:
    """partner_exports.csv and partner_truth.jsonl beside a run's events.jsonl and
    truth.jsonl; returns the number of records."""
    decode = msgspec.json.Decoder()
    with (out / "events.jsonl").open("rb") as f:
        events = [decode.decode(line) for line in f if line.strip()]
    truth = [decode.decode(line) for line in (out / "truth.jsonl").read_bytes().splitlines()
             if line.strip()]  # fmt: skip
    w = build(seed, (e for e in events if isinstance(e, dict)), truth)
    (out / "partner_exports.csv").write_text(csv_text(w.records), encoding="utf-8")
    enc = msgspec.json.Encoder()
    (out / "partner_truth.jsonl").write_bytes(b"".join(enc.encode(t) + b"\n" for t in w.truth))
    return len(w.records)
