"""New company with outsized volume: a company months old moving the value of an established one.

A home company's tax id may carry its month of registration (which ids do, and where, is
`keruen.jurisdiction.TAX_IDS`). A holder that, within its first months, sells
on, dispatches or exports goods worth more than the configured amount is what shell companies
in a diversion chain look like: short-lived, large, with no history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from keruen.model import events as ev
from keruen.risk.context import Context
from keruen.risk.model import Alert, day, refs
from keruen.risk.parties import MONTH_US, registered_us
from keruen.settings import get_settings

RULE = "new_company_volume"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


@dataclass(slots=True)
class Volume:
    usd: float = 0.0
    events: list[str] = field(default_factory=list)
    crossed_us: int | None = None  # when the volume crossed the threshold
    buyers: set[str] = field(default_factory=set)


def detect(ctx: Context) -> Iterator[Alert]:
    for holder, (reg, vol) in volumes(ctx).items():
        if vol.crossed_us is not None and ctx.fresh(vol.crossed_us):
            yield _alert(ctx, holder, reg, vol)


def _seller(e: ev.Event) -> tuple[str, ev.Money, str] | None:
    match e:
        case ev.Dispatch():
            return e.holder, e.value, e.buyer.key
        case ev.Transfer():
            return e.from_, e.value, e.to
    return None


def volumes(ctx: Context) -> dict[str, tuple[int, Volume]]:
    """Per young holder, the value it sold on during its first months, and when it crossed."""
    cfg = ctx.config.new_company
    out: dict[str, tuple[int, Volume]] = {}
    young: dict[str, Volume] = defaultdict(Volume)
    for e in ctx.ledger.events:
        sold = _seller(e)
        if sold is None or not ctx.judged(e):
            continue
        holder, money, buyer = sold
        reg, t, usd = registered_us(holder), ctx.ledger.at(e), ctx.usd(money)
        if reg is None or usd is None or t - reg > cfg.max_age_months * MONTH_US:
            continue
        vol = young[holder]
        vol.usd += usd
        vol.events.append(e.id)
        vol.buyers.add(buyer)
        if vol.crossed_us is None and vol.usd >= cfg.min_value_usd:
            vol.crossed_us = t
        out[holder] = (reg, vol)
    return out


def _alert(ctx: Context, holder: str, reg: int, vol: Volume) -> Alert:
    cfg = ctx.config.new_company
    assert vol.crossed_us is not None
    age = (vol.crossed_us - reg) / MONTH_US
    text = (
        f"Holder {holder} was registered in {day(reg)[:7]} (its {_id_name()} says so) and by "
        f"{day(vol.crossed_us)}, {age:.0f} months later, had sold on goods worth "
        f"{vol.usd:,.0f} USD in {len(vol.events)} event(s) to {len(vol.buyers)} buyer(s) — "
        f"above {cfg.min_value_usd:,.0f} USD for a company under {cfg.max_age_months} months old."
    )
    return Alert(
        rule=RULE,
        subject_kind="party",
        subject=holder,
        score=cfg.score,
        time_us=vol.crossed_us,
        explanation=text,
        refs=refs(vol.events[:50], (), [holder]),
        facts={
            "registered": day(reg)[:7],
            "usd": round(vol.usd, 2),
            "events": len(vol.events),
            "age_months": round(age, 1),
        },
    )


def _id_name() -> str:
    """What the home country's tax id is called (`keruen.jurisdiction.TAX_IDS`)."""
    return get_settings().jurisdiction.tax_id.name
