"""High-priority goods to Russia or Belarus, directly or through any chain of holders.

A dispatch or export whose batch — or any batch it was made from — is on a high-priority list
for the buyer's country. The chain of transfers and transforms since the import is followed
through the goods' provenance, so three shell companies in between hide nothing. The same
goods sent to a conduit state (Kyrgyzstan, Armenia) are judged with the buyer's signs of a
front company: a registration only months old, no earlier purchase in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.config import Chpl
from keruen.risk.context import Context
from keruen.risk.facts import GoodsHit
from keruen.risk.model import Alert, Lot, refs
from keruen.risk.parties import age_months
from keruen.risk.provenance import holders

RULE = "high_priority_goods"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


def detect(ctx: Context) -> Iterator[Alert]:
    buyers_seen: set[str] = set(ctx.buyers_seen)
    for e in ctx.ledger.outflows:
        found = _judge(ctx, e, buyers_seen) if ctx.judged(e) else None
        buyers_seen.add(e.buyer.key)
        if found is not None:
            yield found


def hits(ctx: Context, e: ev.Dispatch, dest: str) -> list[tuple[str, GoodsHit]]:
    """(batch, rule) for the dispatched batch and every batch it was made from."""
    t = ctx.ledger.at(e)
    return [
        (b, h)
        for b in ctx.ledger.ancestors(e.batch)
        if b in ctx.ledger.goods
        for h in ctx.facts.goods_rules(ctx.ledger.goods[b].hs, dest, t)
    ]


def _judge(ctx: Context, e: ev.Dispatch, buyers_seen: set[str]) -> Alert | None:
    t, dest, watch = ctx.ledger.at(e), e.buyer.country, ctx.config.watch
    if not (ctx.fresh(t) and ctx.in_force(t) and ctx.route(dest)):
        return None
    target = dest if dest in watch.destinations else sorted(watch.destinations)[0]
    found = hits(ctx, e, target)
    if not found:
        return None
    lots = ctx.prov.of(e.id)
    if dest in watch.destinations:
        score, route = _score(e, found, lots, ctx.config.chpl)
        return _alert(ctx, e, found, lots, score, route, [])
    signs = front_signs(ctx, e, buyers_seen)
    score = min(1.0, ctx.config.chpl.score_conduit + 0.2 * len(signs))
    return _alert(ctx, e, found, lots, score, "conduit", signs)


def _score(
    e: ev.Dispatch, found: list[tuple[str, GoodsHit]], lots: list[Lot], cfg: Chpl
) -> tuple[float, str]:
    direct = all(b == e.batch for b, _ in found) and all(len(holders(x.path)) == 1 for x in lots)
    return (cfg.score_direct, "direct") if direct else (cfg.score_chain, "chain")


def front_signs(ctx: Context, e: ev.Dispatch, buyers_seen: set[str]) -> list[str]:
    """Why the buyer in a conduit state looks like a front company."""
    signs = []
    age = age_months(e.buyer.tax_id or "", e.buyer.country, ctx.ledger.at(e))
    if age is not None and age < ctx.config.chpl.front_company_months:
        signs.append(f"the buyer was registered {age:.0f} months before")
    if e.buyer.key not in buyers_seen:
        signs.append("the buyer never bought before in the ledger")
    return signs


def _alert(
    ctx: Context,
    e: ev.Dispatch,
    found: list[tuple[str, GoodsHit]],
    lots: list[Lot],
    score: float,
    route: str,
    signs: list[str],
) -> Alert:
    ledger = ctx.ledger
    batch, hit = found[0]
    main = max(lots, key=lambda x: x.quantity) if lots else None
    what = f"HS {ledger.goods[batch].hs}" if batch == e.batch else say.goods(ledger, batch)
    text = f"{say.outflow(ledger, e)}. {what} is on {hit.cite()}"
    text += (
        f" for {e.buyer.country}."
        if e.buyer.country in ctx.config.watch.destinations
        else (
            f" for {', '.join(sorted(ctx.config.watch.destinations))}; {e.buyer.country} is a "
            f"conduit state" + (f" and {'; '.join(signs)}." if signs else ".")
        )
    )
    if batch != e.batch:
        text += " The dispatched batch was made from it (transform)."
    if main is not None:
        text += (
            f" Entered as {say.root(ledger, main.root)}; chain of holders: {say.chain(main.path)}."
        )
    paths = [h for lot in lots for h in lot.path]
    return Alert(
        rule=RULE,
        subject_kind="event",
        subject=e.id,
        score=score,
        time_us=ledger.at(e),
        explanation=text,
        refs=refs(
            [e.id, *(h.event_id for h in paths)],
            [e.batch, *(b for b, _ in found), *(h.batch for h in paths)],
            [e.holder, *(h.holder for h in paths), e.buyer.tax_id],
        ),
        facts={
            "route": route,
            "destination": e.buyer.country,
            "hs": [ledger.goods[b].hs for b, _ in found],
            "tier": hit.tier,
            "chain": holders(main.path) if main else [],
            "signs": signs,
        },
        list_version=f"{hit.list} {hit.version}",
    )
