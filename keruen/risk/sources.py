"""Facts from the other areas for one run: goods rules, screening hits, transit findings.

The only place the risk engine calls the screening and transit services; it turns their
results into the plain `keruen.risk.facts` types the detectors read.

Goods rules: the lists in force when detection runs decide which goods are controlled (the
shipped CHPL and any list an administrator loaded); `watch.effective` in the risk
configuration decides from when a dispatch of them to a watched destination is judged.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

from keruen.model import events as ev
from keruen.risk.facts import Facts, GoodsHit, GoodsRules, PartyHit, TransitFinding
from keruen.risk.state import Ledger
from keruen.screening import Screener, builtin_screener, load_screener, results_for
from keruen.screening.store import current_versions, party_lists_warning
from keruen.settings import get_settings

if TYPE_CHECKING:
    from keruen.transit.resume import Fed

PARTY_ROLES = ("buyer", "carrier", "consignee", "seller")


def load_facts(conn: Connection, now_us: int, ledger: Ledger, transit: Fed | None = None) -> Facts:
    """`transit`: what `refresh_transit` returned, if it was called just before."""
    findings, intact = transit_facts(conn, now_us, transit)
    return Facts(
        goods_rules=goods_rules(screener(conn)),
        party_hits=party_hits(conn, ledger),
        transit=findings,
        seals_intact=intact,
    )


def _when(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


# --- screening --------------------------------------------------------------------------------


def screening_warning(conn: Connection) -> str | None:
    """Said with every detection run when the party check could not find what it should."""
    return party_lists_warning(conn)


_screeners: OrderedDict[tuple[Any, ...], Screener] = OrderedDict()
KEPT_SCREENERS = 4


def screener(conn: Connection) -> Screener:
    """The lists loaded in this database, or the shipped ones when none was loaded yet.

    Building one indexes every entry (a third of a second for the OFAC extract, seconds for a
    full list), so the last few are kept, keyed by the database and each current list's name,
    version and load time: a list loaded since (a version is never loaded twice) or other
    thresholds make another key, so a kept screener is the one `load_screener` would build."""
    current = current_versions(conn)
    if not current:
        return builtin_screener()
    lists = tuple((i.name, i.version, i.size, i.loaded_us) for i in current.values())
    key = (conn.engine.url.render_as_string(), lists, get_settings().screening_thresholds)
    found = _screeners.get(key)
    if found is None:
        found = _screeners[key] = load_screener(conn)
        while len(_screeners) > KEPT_SCREENERS:
            _screeners.popitem(last=False)
    return found


def goods_rules(s: Screener) -> GoodsRules:
    """Screening's goods rules as the detectors call them, cached per (HS code, destination)."""
    today = date.today()
    cache: dict[tuple[str, str], list[GoodsHit]] = {}

    def rules(hs: str, destination: str, _time_us: int) -> list[GoodsHit]:
        key = (hs, destination)
        if key not in cache:
            cache[key] = [
                GoodsHit(h.list, h.version, h.hs_prefix, h.action, h.tier, h.source)
                for h in s.screen_goods(hs, destination, today)
            ]
        return cache[key]

    return rules


def party_hits(conn: Connection, ledger: Ledger) -> list[PartyHit]:
    """Stored party hits of the ledger's dispatches, exports and transits."""
    ids = [e.id for e in ledger.outflows] + [e.id for e in ledger.transits.values()]
    found: list[PartyHit] = []
    for event_id, hits in results_for(conn, ids).items():
        e = ledger.by_id.get(event_id)
        found.extend(_party(e, h) for h in hits if h["kind"] == "party" and e is not None)
    return found


def _party(e: ev.Event, h: dict[str, Any]) -> PartyHit:
    role = h["subject"]
    p = getattr(e, role, None) if role in PARTY_ROLES else None
    if isinstance(p, ev.Party):
        tax_id, name, country = p.tax_id or "", p.name, p.country
    else:  # the holder: a home-country tax id
        home = get_settings().jurisdiction.home
        tax_id, name, country = str(getattr(e, role, h["query"])), h["query"], home
    detail = h["explanation"] if isinstance(h["explanation"], dict) else {}
    return PartyHit(
        event_id=e.id,
        role=role,
        tax_id=tax_id,
        name=name,
        country=country,
        entry_id=h["entry_id"],
        entry_name=h["matched"],
        list=h["list"],
        version=h["version"],
        score=float(h["score"]),
        why=str(detail.get("explanation", "")),
        entry_countries=tuple(detail.get("countries", ())),
    )


def buyer_hits(
    conn: Connection, buyer: ev.Party, event_id: str, s: Screener | None = None
) -> list[PartyHit]:
    """A planned buyer screened now against the loaded lists (pre-check); `s`: the screener
    over them when the caller has it already."""
    ids = (buyer.tax_id,) if buyer.tax_id else ()
    hits = (s or screener(conn)).screen_party(buyer.name, buyer.country, ids)
    return [
        PartyHit(
            event_id=event_id,
            role="buyer",
            tax_id=buyer.tax_id or "",
            name=buyer.name,
            country=buyer.country,
            entry_id=h.entry_id,
            entry_name=h.matched_name,
            list=h.list,
            version=h.version,
            score=h.score,
            why=h.explanation,
            entry_countries=h.countries,
        )
        for h in hits
    ]


# --- transit ----------------------------------------------------------------------------------


def refresh_transit(eng: Engine) -> Fed:
    """Bring transit monitoring's saved tracker up to date (reading only what is new)."""
    from keruen.transit import service

    return service.refresh_tracker(eng)


def transit_facts(
    conn: Connection, now_us: int, fed: Fed | None = None
) -> tuple[list[TransitFinding], set[str]]:
    """Transit findings as of `now`, and the movements whose seals reported and found nothing."""
    from keruen.transit import service

    seen = service.overview(conn, _when(now_us), fed=fed)
    found = [_finding(f) for f in seen.findings]
    intact = {m.mrn for m in seen.movements if m.findings == 0 and m.pings > 0}
    return found, intact


def _finding(f: Any) -> TransitFinding:
    return TransitFinding(
        mrn=f.mrn,
        kind=f.kind,
        time_us=f.time_us,
        severity=f.severity,
        explanation=f.explanation,
        facts=dict(f.facts),
        subject=f.subject,
    )
