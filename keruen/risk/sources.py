"""Facts from the other areas for one run: screening hits, goods rules, transit findings.

The only place the risk engine calls the screening and transit services; it turns their
results into the plain `keruen.risk.facts` types the detectors read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from keruen.model import events as ev
from keruen.risk.facts import Facts, PartyHit, TransitFinding
from keruen.risk.goods import chpl_rules


def load_facts(conn: Connection, now_us: int) -> Facts:
    findings, intact = transit_facts(conn, now_us)
    return Facts(goods_rules=chpl_rules, party_hits=[], transit=findings, seals_intact=intact)


def _when(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def transit_facts(conn: Connection, now_us: int) -> tuple[list[TransitFinding], set[str]]:
    """Transit findings as of `now`, and the movements whose seals reported and found nothing."""
    from keruen.transit import service

    now = _when(now_us)
    found = [_finding(f) for f in service.findings(conn, now)]
    intact = {m.mrn for m in service.movements(conn, now) if m.findings == 0 and m.pings > 0}
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


def buyer_hits(conn: Connection, buyer: ev.Party) -> list[PartyHit]:
    """Sanctions-list matches of a planned buyer (none until screening is wired in)."""
    return []
