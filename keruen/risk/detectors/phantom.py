"""Phantom stock: goods leave the country that never entered it — stock made by stocktake.

A dispatch or export whose provenance, followed back through every transfer and transform,
ends for most of its quantity at positive stocktake adjustments instead of an import, an
arrival or a production step: the paperwork of goods that nobody declared.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import Context
from keruen.risk.model import Alert, Lot, refs
from keruen.risk.provenance import holders

RULE = "phantom_stock"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


def detect(ctx: Context) -> Iterator[Alert]:
    cfg = ctx.config.phantom
    for e in ctx.outflows():
        t = ctx.ledger.at(e)
        if not ctx.fresh(t):
            continue
        lots = ctx.prov.of(e.id)
        adjusted = [lot for lot in lots if lot.root.kind == "adjust"]
        share = phantom_share(lots)
        if adjusted and share >= cfg.min_share:
            yield _alert(ctx, e, adjusted, share)


def phantom_share(lots: list[Lot]) -> float:
    """Share of the quantity whose provenance ends at a positive stocktake adjustment."""
    total = sum(lot.quantity for lot in lots)
    made = sum(lot.quantity for lot in lots if lot.root.kind == "adjust")
    return made / total if total else 0.0


def _alert(ctx: Context, e: ev.Dispatch, adjusted: list[Lot], share: float) -> Alert:
    ledger = ctx.ledger
    main = max(adjusted, key=lambda x: x.quantity)
    adjusts = list(dict.fromkeys(lot.root.event_id for lot in adjusted))
    text = (
        f"{say.outflow(ledger, e)}. {share:.0%} of that quantity has no import, arrival or "
        f"production behind it: it was created by stocktake adjustment(s) {', '.join(adjusts[:5])}"
        f" ({say.root(ledger, main.root)}); chain of holders: {say.chain(main.path)}."
    )
    return Alert(
        rule=RULE,
        subject_kind="event",
        subject=e.id,
        score=round(ctx.config.phantom.score * (0.75 + 0.25 * share), 4),
        time_us=ledger.at(e),
        explanation=text,
        refs=refs([e.id, *adjusts], [e.batch], [e.holder, *holders(main.path), e.buyer.tax_id]),
        facts={"share": round(share, 3), "adjustments": adjusts},
    )
