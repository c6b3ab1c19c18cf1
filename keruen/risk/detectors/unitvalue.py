"""Unit-value anomaly: a declared value per unit or per kilogram, or a mass per unit, far from
its peers.

Peers are the declarations of the same HS code, origin and route (the post and partner
country), else of the same HS code, else of the same heading. A value per kilogram a hundred
times its peers' is how high-priority electronics declared under an innocuous heading betray
themselves, and so does a "lamp" that weighs two grams; the score is a robust z-score (median
and MAD of the logarithm).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import median

from keruen.model import events as ev
from keruen.risk import explain as say
from keruen.risk.context import Context
from keruen.risk.model import Alert, refs

RULE = "unit_value"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}
MIN_SPREAD = 0.1  # log units: peers all declaring one price still allow ±10%


@dataclass(frozen=True, slots=True)
class Obs:
    event: ev.Dispatch | ev.Import
    measure: str  # "unit" (USD per unit), "kg" (USD per kg), "mass" (kg per unit)
    value: float  # USD per unit or per kg
    keys: tuple[tuple[str, ...], ...]  # peer groups, narrowest first


@dataclass(frozen=True, slots=True)
class Peers:
    """A peer group's centre and spread (log values) and its size."""

    median: float
    spread: float
    n: int


@dataclass(frozen=True, slots=True)
class Finding:
    obs: Obs
    key: tuple[str, ...]
    z: float
    median: float  # USD, the peers' median value


def detect(ctx: Context) -> Iterator[Alert]:
    obs = observations(ctx)
    stats = _stats(obs, ctx.config.unit_value.min_peers_extreme)
    worst: dict[str, Finding] = {}
    for o in obs:
        t = ctx.ledger.at(o.event)
        if not (ctx.fresh(t) and ctx.judged(o.event)):
            continue
        for f in _findings(o, stats, ctx):
            prev = worst.get(o.event.id)
            if prev is None or abs(f.z) > abs(prev.z):
                worst[o.event.id] = f
    for f in worst.values():
        yield _alert(ctx, f)


def _findings(o: Obs, stats: dict[tuple[str, ...], Peers], ctx: Context) -> Iterator[Finding]:
    """The peer groups against which the observation is anomalous."""
    cfg = ctx.config.unit_value
    flow = "in" if isinstance(o.event, ev.Import) else "out"
    for key in o.keys:
        peers = stats.get((o.measure, flow, *key))
        if peers is None:
            continue
        z = (math.log(o.value) - peers.median) / peers.spread
        ratio = max(o.value / math.exp(peers.median), math.exp(peers.median) / o.value)
        extreme = ratio >= cfg.extreme_ratio and abs(z) >= cfg.z_extreme
        if extreme or (peers.n >= cfg.min_peers and abs(z) >= cfg.z and ratio >= cfg.min_ratio):
            yield Finding(o, key, z, math.exp(peers.median))


def _goods(ctx: Context, e: ev.Dispatch | ev.Import) -> ev.Goods | None:
    return e.goods if isinstance(e, ev.Import) else ctx.ledger.goods.get(e.batch)


def observations(ctx: Context) -> list[Obs]:
    out: list[Obs] = []
    for e in ctx.ledger.events:
        if not isinstance(e, ev.Import | ev.Dispatch) or e.quantity <= 0:
            continue
        g, usd = _goods(ctx, e), ctx.usd(e.value)
        if g is None or usd is None or usd <= 0:
            continue
        partner = e.seller.country if isinstance(e, ev.Import) else e.buyer.country
        keys = ((g.hs, g.origin, e.post, partner), (g.hs,), (g.hs[:4],))
        out.append(Obs(e, "unit", usd / float(e.quantity), keys))
        if e.mass_kg:
            out.append(Obs(e, "kg", usd / float(e.mass_kg), keys))
            # a heading holds goods of every size: mass per unit compares within its HS code
            out.append(Obs(e, "mass", float(e.mass_kg) / float(e.quantity), keys[:2]))
    return out


def _stats(obs: list[Obs], min_peers: int) -> dict[tuple[str, ...], Peers]:
    """Centre and spread of log values per (measure, direction, peer group) with enough peers."""
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for o in obs:
        flow = "in" if isinstance(o.event, ev.Import) else "out"
        for key in o.keys:
            groups[(o.measure, flow, *key)].append(math.log(o.value))
    stats = {}
    for key, logs in groups.items():
        if len(logs) >= min_peers:
            mid = median(logs)
            mad = median(abs(x - mid) for x in logs)
            stats[key] = Peers(mid, max(mad / 0.6745, MIN_SPREAD), len(logs))
    return stats


def _compared(o: Obs, med: float) -> str:
    what = {"unit": "USD per unit", "kg": "USD per kg", "mass": "kg per unit"}[o.measure]
    ratio = o.value / med
    times = f"{ratio:,.1f}×" if ratio >= 1 else f"1/{1 / ratio:,.0f}"
    return f"{num(o.value)} {what}, {times} the median {num(med)} {what}"


def num(x: float) -> str:
    """A figure as a person writes it: 24,225 · 13.27 · 0.0005."""
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}" if x >= 1 else f"{x:.2g}"


def _score(ctx: Context, o: Obs, z: float) -> float:
    """Overvalued or of the wrong weight: the goods may not be what is declared. Undervalued:
    a customs matter first, a signal here."""
    cfg = ctx.config.unit_value
    return cfg.score if z > 0 or o.measure == "mass" else cfg.score_low


def _alert(ctx: Context, f: Finding) -> Alert:
    o, z, key, med = f.obs, f.z, f.key, f.median
    e, ledger = o.event, ctx.ledger
    batch = e.batch
    text = (
        f"{ledger.by_id[e.id].__struct_config__.tag} {e.id} on {say.day_of(ledger, e)} of "
        f"{say.goods(ledger, batch)} declares {_compared(o, med)} of its peers "
        f"(HS {' / '.join(key)}); robust z-score {z:+.1f}."
    )
    party = e.seller.tax_id if isinstance(e, ev.Import) else e.buyer.tax_id
    holder = e.holder
    return Alert(
        rule=RULE,
        subject_kind="batch",
        subject=batch,
        score=_score(ctx, o, z),
        time_us=ledger.at(e),
        explanation=text,
        refs=refs([e.id], [batch], [holder, party]),
        facts={
            "measure": o.measure,
            "value_usd": round(o.value, 4),
            "median_usd": round(med, 4),
            "z": round(z, 2),
            "peers": list(key),
        },
    )
