"""Decided false positives: a party an officer cleared of a list entry is not raised against it
again, until the entry changes.

The decision lives in the risk engine's case store (`risk_case_actions`: a case decided
`false_positive`; its alerts of rule `sanctioned_party` name the party and the entry). This
module only reads it. The entry a decision cleared is known by its digest at the time (stored
with every hit, `entry_digest`); a new list version that leaves the entry as it was keeps the
decision, one that changes it (a new alias, an identifier, a program) lifts it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.screening import tables as t
from keruen.store import db

RULE = "sanctioned_party"  # the risk engine's rule for a party hit
DECISION = "false_positive"

Cleared = dict[tuple[str, str, str], set[str]]  # (party, list, entry id) -> entry digests


def party_key(name: str, country: str, tax_id: str) -> str:
    """How the risk engine names a party: its tax id, else its name and country."""
    return tax_id or f"{name} ({country})"


def cleared(conn: Connection) -> Cleared:
    """Every (party, list, entry) decided a false positive, with the entry digests it had."""
    from keruen.risk import tables as rt  # read-only: the case store is the risk engine's

    actions = rt.risk_case_actions.alias("decision")
    links, alerts = rt.risk_case_alerts, rt.risk_alerts
    query = (
        sa.select(alerts.c.subject, alerts.c.facts, alerts.c.refs, actions.c.detail)
        .select_from(
            actions.join(links, links.c.case_id == actions.c.case_id).join(
                alerts, alerts.c.id == links.c.alert_id
            )
        )
        .where(rt.standing(actions), alerts.c.rule == RULE)
    )
    found: list[tuple[str, str, str, list[str]]] = []
    for r in conn.execute(query):
        if json.loads(r.detail).get("decision") != DECISION:
            continue
        facts, refs = json.loads(r.facts), json.loads(r.refs)
        found.append((r.subject, facts["list"], facts["entry_id"], refs.get("event_ids", [])))
    return _digests(conn, found)


def _digests(conn: Connection, found: list[tuple[str, str, str, list[str]]]) -> Cleared:
    """The digests the cleared entries had in the hits the decided alerts were made of."""
    out: Cleared = {}
    h = t.screening_hits
    for party, lst, entry_id, events in found:
        digests = out.setdefault((party, lst, entry_id), set())
        for ids in db.chunks(events):
            rows = conn.execute(
                sa.select(h.c.explanation).where(
                    h.c.event_id.in_(ids), h.c.list == lst, h.c.entry_id == entry_id
                )
            )
            digests.update(d for r in rows if (d := _digest(r.explanation)))
    return out


def _digest(explanation: str) -> str:
    try:
        detail: Any = json.loads(explanation)
    except ValueError:
        return ""
    return str(detail.get("entry_digest", "")) if isinstance(detail, dict) else ""


def is_cleared(decided: Cleared, party: str, lst: str, entry_id: str, digest: str) -> bool:
    return digest in decided.get((party, lst, entry_id), ())
