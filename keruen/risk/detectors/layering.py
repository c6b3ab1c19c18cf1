"""Layering: goods passed quickly through a long or circular chain of holders before leaving.

The provenance of a dispatch or export shows every transfer since the goods entered: a chain
of several transfers each within days of the previous one, or one that comes back to a holder
it already passed (A → B → C → A), only hides who the goods really belong to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import DAY_US, Context
from keruen.risk.model import Alert, Hop, Lot, refs
from keruen.risk.provenance import holders

RULE = "layering"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


@dataclass(frozen=True, slots=True)
class Shape:
    quick: int  # transfers within `quick_days` of the step before
    circular: bool
    span_days: float


def detect(ctx: Context) -> Iterator[Alert]:
    cfg = ctx.config.layering
    for e in ctx.outflows():
        t = ctx.ledger.at(e)
        if not ctx.fresh(t):
            continue
        judged = [(shape(lot.path, t, cfg.quick_days), lot) for lot in ctx.prov.of(e.id)]
        hits = [
            (s, lot)
            for s, lot in judged
            if s.quick >= cfg.min_hops or (s.circular and s.quick >= 2)
        ]
        if hits:
            yield _alert(ctx, e, *max(hits, key=lambda x: (x[0].quick, x[1].quantity)))


def shape(path: tuple[Hop, ...], exit_us: int, quick_days: float) -> Shape:
    """How many quick transfers the path has, and whether it comes back to a holder."""
    times = [h.time_us for h in path] + [exit_us]
    quick = sum(
        1
        for i, h in enumerate(path)
        if h.kind == "transfer" and times[i] - times[i - 1] <= quick_days * DAY_US
    )
    chain = holders(path)
    return Shape(quick, len(set(chain)) < len(chain), (exit_us - path[0].time_us) / DAY_US)


def _alert(ctx: Context, e: ev.Dispatch, s: Shape, lot: Lot) -> Alert:
    ledger = ctx.ledger
    what = "circular" if s.circular else "long"
    text = (
        f"{say.outflow(ledger, e)}. Before leaving, the goods passed a {what} chain of "
        f"{len(holders(lot.path))} holders with {s.quick} quick transfers in {s.span_days:.0f} "
        f"days: {say.chain(lot.path)}."
    )
    score = ctx.config.layering.score + (0.1 if s.circular else 0.0)
    return Alert(
        rule=RULE,
        subject_kind="event",
        subject=e.id,
        score=min(1.0, score),
        time_us=ledger.at(e),
        explanation=text,
        refs=refs(
            [e.id, *(h.event_id for h in lot.path)], [e.batch], [*holders(lot.path), e.buyer.tax_id]
        ),
        facts={
            "quick_transfers": s.quick,
            "circular": s.circular,
            "chain": holders(lot.path),
            "span_days": round(s.span_days, 1),
        },
    )
