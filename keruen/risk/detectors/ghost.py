"""Ghost trade: a consignment with no partner receipt, or a receipt for no consignment.

A dispatch or export to a partner state, or a transit, that no receipt refers to (by event
id or MRN) once the grace period has passed — after the dispatch, after the transit's
deadline: the goods may never have gone where declared. And a receipt from a partner state
that refers to nothing Kazakhstan declared.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import DAY_US, Context
from keruen.risk.model import Alert, day, refs

MISSING = "ghost_dispatch"
TRANSIT = "ghost_transit"
ORPHAN = "ghost_receipt"
RULES = {
    MISSING: "Ghost trade: a dispatch or export with no partner receipt",
    TRANSIT: "Ghost trade: a transit that no receipt confirms after its deadline",
    ORPHAN: "Ghost trade: a partner receipt that refers to no dispatch, export or transit",
}


def detect(ctx: Context) -> Iterator[Alert]:
    yield from _missing(ctx)
    yield from _unconfirmed(ctx)
    yield from _orphans(ctx)


def _missing(ctx: Context) -> Iterator[Alert]:
    grace = int(ctx.config.ghost.grace_days * DAY_US)
    for e in ctx.outflows():
        due = ctx.ledger.at(e) + grace
        if ctx.fresh(due) and not ctx.ledger.receipts.get(e.id):
            yield _missing_alert(ctx, e, due)


def _missing_alert(ctx: Context, e: ev.Dispatch, due: int) -> Alert:
    text = (
        f"{say.outflow(ctx.ledger, e)}. No receipt from {e.buyer.country} refers to it by "
        f"{day(due)}, {ctx.config.ghost.grace_days:.0f} days later."
    )
    return Alert(
        rule=MISSING,
        subject_kind="event",
        subject=e.id,
        score=ctx.config.ghost.score_missing,
        time_us=due,
        explanation=text,
        refs=refs([e.id], [e.batch], [e.holder, e.buyer.tax_id]),
        facts={"destination": e.buyer.country, "due": day(due)},
    )


def _unconfirmed(ctx: Context) -> Iterator[Alert]:
    grace = int(ctx.config.ghost.grace_days * DAY_US)
    for mrn, e in ctx.ledger.transits.items():
        due = micros(e.deadline) + grace
        if ctx.judged(e) and ctx.fresh(due) and not ctx.ledger.receipts.get(mrn):
            yield _unconfirmed_alert(ctx, e, due)


def _unconfirmed_alert(ctx: Context, e: ev.TransitOpen, due: int) -> Alert:
    text = (
        f"Transit {e.mrn} declared on {day(ctx.ledger.at(e))} at {e.entry_post} for "
        f"{e.destination} ({say.party(e.consignee)}), exit planned at {e.exit_post} by "
        f"{day(micros(e.deadline))}: no receipt confirms its arrival by {day(due)}."
    )
    return Alert(
        rule=TRANSIT,
        subject_kind="transit",
        subject=e.mrn,
        score=ctx.config.ghost.score_missing,
        time_us=due,
        explanation=text,
        refs=refs([e.id], (), [e.carrier.tax_id, e.consignee.tax_id], [e.mrn]),
        facts={"destination": e.destination, "due": day(due)},
    )


def _orphans(ctx: Context) -> Iterator[Alert]:
    ledger = ctx.ledger
    for ref, receipts in ledger.receipts.items():
        if ref in ledger.by_id or ref in ledger.transits:
            continue
        for r in receipts:
            if ctx.fresh(ledger.at(r)) and ctx.judged(r):
                yield _orphan_alert(ctx, r)


def _orphan_alert(ctx: Context, r: ev.Receipt) -> Alert:
    amount = f"{r.quantity:,}" if r.quantity is not None else f"{r.mass_kg or 0:,} kg"
    text = (
        f"Receipt {r.id} on {day(ctx.ledger.at(r))} from {r.country} ({r.document.kind} "
        f"{r.document.number}) confirms {amount} arrived for {r.ref!r}, but no dispatch, export "
        f"or transit in the ledger has that event id or MRN."
    )
    return Alert(
        rule=ORPHAN,
        subject_kind="event",
        subject=r.id,
        score=ctx.config.ghost.score_orphan,
        time_us=ctx.ledger.at(r),
        explanation=text,
        refs=refs([r.id]),
        facts={"ref": r.ref, "country": r.country},
    )
