"""Origin-aware re-export: goods made in a state that bans exports to Russia, sent there.

The goods of the dispatched batch, or of any batch it was made from, are controlled (a goods
rule fires for them) and name a manufacturer country among the sanctioning states
(goods.manufacturer_country in the event contract): that state's own export ban follows the
goods, whoever sold them to the home country. The buyer is in a watched destination or a conduit.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import Context
from keruen.risk.model import Alert, refs

RULE = "origin_reexport"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


def detect(ctx: Context) -> Iterator[Alert]:
    for e in ctx.outflows():
        t = ctx.ledger.at(e)
        if ctx.fresh(t) and ctx.in_force(t) and ctx.route(e.buyer.country):
            made = made_in_sanctioning(ctx, e.batch, t)
            if made:
                yield _alert(ctx, e, made)


def made_in_sanctioning(ctx: Context, batch: str, t: int) -> list[tuple[str, ev.Goods]]:
    """(batch, goods) of the batch and its inputs that a sanctioning state made and controls:
    its manufacturer country bans exporting them to a watched destination (a goods rule fires)."""
    states = ctx.config.watch.sanctioning
    target = sorted(ctx.config.watch.destinations)[0]
    return [
        (b, g)
        for b in ctx.ledger.ancestors(batch)
        if (g := ctx.ledger.goods.get(b)) is not None
        and g.manufacturer_country in states
        and ctx.facts.goods_rules(g.hs, target, t)
    ]


def _alert(ctx: Context, e: ev.Dispatch, made: list[tuple[str, ev.Goods]]) -> Alert:
    ledger = ctx.ledger
    batch, goods = made[0]
    watched = e.buyer.country in ctx.config.watch.destinations
    what = "The goods were" if batch == e.batch else f"It was made from {say.goods(ledger, batch)},"
    by = f" by {goods.manufacturer}" if goods.manufacturer else ""
    text = (
        f"{say.outflow(ledger, e)}. {what} manufactured{by} in {goods.manufacturer_country}, a "
        f"state that bans exporting such goods to Russia"
        + ("." if watched else f"; {e.buyer.country} is a conduit state.")
    )
    return Alert(
        rule=RULE,
        subject_kind="event",
        subject=e.id,
        score=ctx.config.origin.score if watched else ctx.config.origin.score_conduit,
        time_us=ledger.at(e),
        explanation=text,
        refs=refs([e.id], [e.batch, *(b for b, _ in made)], [e.holder, e.buyer.tax_id]),
        facts={
            "manufacturer": goods.manufacturer,
            "manufacturer_country": goods.manufacturer_country,
            "destination": e.buyer.country,
        },
    )
