"""Sanctioned counterparty: a party of a movement matches an entry of a sanctions list.

Screening (keruen.screening) matches every buyer, seller, consignee and carrier against the
loaded lists, transliteration-aware; this rule turns each party whose best match scores above
the threshold into one alert about the party, citing the matched entry, list and version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from keruen.risk.context import Context
from keruen.risk.explain import identifier
from keruen.risk.facts import PartyHit
from keruen.risk.model import Alert, day, refs

RULE = "sanctioned_party"
RULES = {RULE: __doc__.splitlines()[0] if __doc__ else RULE}


def detect(ctx: Context) -> Iterator[Alert]:
    by_party: dict[str, list[tuple[int, PartyHit]]] = defaultdict(list)
    for h in ctx.facts.party_hits:
        t = ctx.ledger.time_us.get(h.event_id)
        if t is not None and h.score >= threshold(ctx, h):
            by_party[h.tax_id or f"{h.name} ({h.country})"].append((t, h))
    for party, hits in by_party.items():
        found = _alert(ctx, party, sorted(hits, key=lambda x: x[0]))
        if found is not None:
            yield found


def threshold(ctx: Context, h: PartyHit) -> float:
    """The score a hit needs: higher when the entry names countries and none is the party's."""
    cfg = ctx.config.screening
    if h.entry_countries and h.country not in h.entry_countries:
        return cfg.min_party_score_other_country
    return cfg.min_party_score


def _alert(ctx: Context, party: str, hits: list[tuple[int, PartyHit]]) -> Alert | None:
    judged = [(t, h) for t, h in hits if ctx.judged(ctx.ledger.by_id[h.event_id])]
    if not judged or not ctx.fresh(judged[0][0]):
        return None
    first_t, first = judged[0]
    best = max((h for _, h in judged), key=lambda h: h.score)
    events = [h.event_id for _, h in judged]
    text = (
        f"{first.role.capitalize()} {first.name} ({first.country}, {identifier(first.tax_id)}) of "
        f"{first.event_id} on {day(first_t)} matches {best.entry_name!r} (entry {best.entry_id}, "
        f"list {best.list} {best.version}) with score {best.score:.2f}"
        + (f": {best.why}" if best.why else "")
        + f". The party appears in {len(set(events))} event(s)."
    )
    return Alert(
        rule=RULE,
        subject_kind="party",
        subject=party,
        score=best.score,
        time_us=first_t,
        explanation=text,
        refs=refs(events, (), [first.tax_id]),
        facts={
            "entry_id": best.entry_id,
            "entry_name": best.entry_name,
            "list": best.list,
            "match_score": best.score,
            "roles": sorted({h.role for _, h in judged}),
        },
        list_version=f"{best.list} {best.version}",
    )
