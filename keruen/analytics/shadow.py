"""An estimate of the untraced ("shadow") volume: goods a partner reports sending that neither
the reporter's statistics nor the ledger account for, as an interval with its assumptions.

Three sources meet: the partner's exports (A, FOB), the reporter's imports (B, CIF, national
statistics) and, when a ledger is given, the imports the ledger traced from that partner (C,
converted to euro at the mean of the loaded EUR rates for the year). Imports should exceed
exports by freight and insurance, so with a CIF/FOB margin c between `low` and `high`:

    shadow_low  = max(0, A × (1 + c_low)  − max(B, C))
    shadow_high = max(0, A × (1 + c_high) − min(B, C))

Assumptions, printed with every row: the margin range; no timing shift between the two sides
(goods shipped in December and declared in January move value across years); both sides value
the same goods (no re-invoicing); the reporter's euro figures carry a third party's fixed rate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from keruen.analytics.mirror import Record, mirror_row

CIF_LOW, CIF_HIGH = Decimal("0"), Decimal("0.10")
ASSUMPTIONS = [
    "CIF/FOB margin between 0 % and 10 % of the partner's FOB exports",
    "no shift of shipments between years; both sides value the same goods",
    "the reporter's euro figures were converted by a third party at a fixed annual rate",
]


def estimate(
    records: list[Record], reporter: str, partner: str, year: int, ledger_eur: Decimal | None
) -> dict[str, Any]:
    row = mirror_row(records, reporter, partner, year, Decimal("0.06"))
    a, b = row["partner_exports_eur"], row["reporter_imports_eur"]
    out: dict[str, Any] = {
        "reporter": reporter,
        "partner": partner,
        "year": year,
        "partner_exports_eur": a,
        "reporter_imports_eur": b,
        "ledger_imports_eur": ledger_eur,
        "shadow_low_eur": None,
        "shadow_high_eur": None,
        "ledger_coverage": None,
        "assumptions": ASSUMPTIONS,
        "flags": row["flags"],
        "sources": row["sources"] + (["Keruen ledger"] if ledger_eur is not None else []),
    }
    if a is None or b is None:
        return out
    known = [v for v in (b, ledger_eur) if v is not None]
    out["shadow_low_eur"] = max(Decimal(0), a * (1 + CIF_LOW) - max(known)).quantize(Decimal(1))
    out["shadow_high_eur"] = max(Decimal(0), a * (1 + CIF_HIGH) - min(known)).quantize(Decimal(1))
    if ledger_eur is not None and b:
        out["ledger_coverage"] = float(ledger_eur) / float(b)
    return out
