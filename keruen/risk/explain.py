"""Sentences built from facts: parties, quantities, dates, chains of holders."""

from __future__ import annotations

from decimal import Decimal

from keruen.model import events as ev
from keruen.risk.model import Hop, day
from keruen.risk.provenance import holders
from keruen.risk.state import Ledger, kind


def party(p: ev.Party) -> str:
    return f"{p.name} ({p.country}, {identifier(p.tax_id)})"


def identifier(tax_id: str | None) -> str:
    """'tax id …', or the fact that the documents carry none (common for a foreign party)."""
    return f"tax id {tax_id}" if tax_id else "no identifier"


def qty(q: Decimal | float, unit: str = "") -> str:
    text = f"{q:,.6f}".rstrip("0").rstrip(".") if isinstance(q, float) else f"{q:,}"
    return f"{text} {unit}".strip()


def goods(ledger: Ledger, batch: str) -> str:
    g = ledger.goods.get(batch)
    if g is None:
        return f"batch {batch}"
    made = f", made by {g.manufacturer}" if g.manufacturer else ""
    made += f" in {g.manufacturer_country}" if g.manufacturer_country else ""
    return f"batch {batch} (HS {g.hs} {g.description}, origin {g.origin}{made})"


PLANNED = "precheck"  # the id a pre-check gives the dispatch it judges


def outflow(ledger: Ledger, e: ev.Dispatch) -> str:
    """'dispatch D1 on 2024-03-04 by holder … of 500 PCE of batch … to ООО … (RU, …)'."""
    unit = ledger.goods[e.batch].unit if e.batch in ledger.goods else ""
    planned = e.id == PLANNED
    name = f"The planned {kind(e)}" if planned else f"{kind(e)} {e.id}"
    return (
        f"{name} on {day(ledger.at(e))} by holder {e.holder} of {qty(e.quantity, unit)} of "
        f"{goods(ledger, e.batch)} to {party(e.buyer)}" + ("" if planned else f" via {e.post}")
    )


def chain(path: tuple[Hop, ...]) -> str:
    """The chain of holders, each with the event and date that brought the goods to it."""
    steps = [f"{h.holder} ({h.kind} {h.event_id}, {day(h.time_us)})" for h in path]
    return " → ".join(steps) if len(holders(path)) > 1 else steps[0]


def root(ledger: Ledger, h: Hop) -> str:
    """How the goods entered the circuit: the import with its seller, or a stocktake gain."""
    e = ledger.by_id.get(h.event_id)
    if isinstance(e, ev.Import):
        return (
            f"{kind(e)} {e.id} of batch {e.batch} by {e.holder} on {day(h.time_us)} from "
            f"{party(e.seller)} via {e.post}"
        )
    return f"{h.kind} {h.event_id} of batch {h.batch} by {h.holder} on {day(h.time_us)}"


def day_of(ledger: Ledger, e: ev.Event) -> str:
    return day(ledger.at(e))
