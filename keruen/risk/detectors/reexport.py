"""Fast re-export: goods imported from a sanctioning state sent on toward Russia soon after.

The dispatch's provenance reaches an import whose seller — or whose goods' origin — is in a
state that bans such exports to Russia (EU, US, UK, Japan, …), and the goods leave for a
watched destination (or a conduit state) within a few weeks of that import.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import Context
from keruen.risk.model import Alert, Lot, refs
from keruen.risk.provenance import holders

RULE = "fast_reexport"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


def detect(ctx: Context) -> Iterator[Alert]:
    for e in ctx.outflows():
        t = ctx.ledger.at(e)
        if ctx.fresh(t) and ctx.in_force(t) and ctx.route(e.buyer.country):
            found = _quick(ctx, e, t)
            if found:
                yield _alert(ctx, e, found)


def sanctioning_import(ctx: Context, lot: Lot) -> ev.Import | None:
    """The import at the lot's root when it came from a sanctioning state."""
    root = ctx.ledger.by_id.get(lot.root.event_id)
    if type(root) is not ev.Import:
        return None
    states = ctx.config.watch.sanctioning
    return root if root.seller.country in states or root.goods.origin in states else None


def _quick(ctx: Context, e: ev.Dispatch, t: int) -> list[tuple[Lot, ev.Import]]:
    limit = ctx.config.reexport.max_days
    return [
        (lot, imp)
        for lot in ctx.prov.of(e.id)
        if (imp := sanctioning_import(ctx, lot)) and ctx.days(t - lot.root.time_us) <= limit
    ]


def _banning(ctx: Context, imp: ev.Import) -> str:
    states = ctx.config.watch.sanctioning
    return imp.seller.country if imp.seller.country in states else imp.goods.origin


def _alert(ctx: Context, e: ev.Dispatch, found: list[tuple[Lot, ev.Import]]) -> Alert:
    ledger, t = ctx.ledger, ctx.ledger.at(e)
    lot, imp = max(found, key=lambda x: x[0].quantity)
    days = ctx.days(t - lot.root.time_us)
    share = sum(x.quantity for x, _ in found) / float(e.quantity)
    watched = e.buyer.country in ctx.config.watch.destinations
    score = (
        ctx.config.reexport.score
        * (1.0 if watched else ctx.config.reexport.conduit_factor)
        * min(1.0, 0.5 + share)
    )
    text = (
        f"{say.outflow(ledger, e)}, {days:.0f} days after {say.root(ledger, lot.root)}"
        f" — {_banning(ctx, imp)}"
        f" bans such exports to Russia. {share:.0%} of the quantity came this way; chain of "
        f"holders: {say.chain(lot.path)}."
    )
    return Alert(
        rule=RULE,
        subject_kind="event",
        subject=e.id,
        score=round(score, 4),
        time_us=t,
        explanation=text,
        refs=refs(
            [e.id, *(x.root.event_id for x, _ in found)],
            [e.batch, *(x.root.batch for x, _ in found)],
            [e.holder, *holders(lot.path), e.buyer.tax_id, imp.seller.tax_id],
        ),
        facts={
            "days": round(days, 1),
            "share": round(share, 3),
            "seller_country": imp.seller.country,
            "origin": imp.goods.origin,
            "destination": e.buyer.country,
        },
    )
