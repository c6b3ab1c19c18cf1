"""Storage side of tenant isolation, read through the ledger's read port: which batches,
events, transits and alerts a declarant is party to. `keruen.api.views` cuts the read models
down to what it may see.

Party to a batch = gave or received any of its quantity (source or target of a move, the
cancelled ones included). Party to a transit = its carrier or consignee. Its own alert = an
alert about itself or about an event it acted in, and only when the policy lets declarants
see their alerts (`KERUEN_DECLARANT_ALERTS`). Refusals look exactly like absence, so a
declarant cannot learn whether another company's batch, event, transit or alert exists.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy.engine import Connection

from keruen.api import views
from keruen.api.access import acting_party, batch_refs, created_batches
from keruen.errors import NotFound, UnknownBatch
from keruen.model import events as ev
from keruen.store import queries
from keruen.store.port import LedgerReader


def held_batches(conn: Connection, tax_id: str, batches: Iterable[str]) -> set[str]:
    """The batches among `batches` that `tax_id` gave or received any quantity of."""
    reader = LedgerReader(conn)
    return {b for b in set(batches) if any(reader.select_events(batch=b, holder=tax_id, limit=1))}


visible_batches = held_batches  # the earlier name


def is_party(conn: Connection, tax_id: str, batch: str) -> bool:
    return batch in held_batches(conn, tax_id, [batch])


def acting_parties(conn: Connection, ids: Iterable[str]) -> dict[str, str | None]:
    """For each stored event among `ids`, the tax id acting in it (None if none)."""
    found = LedgerReader(conn).events_by_id(set(ids))
    return {i: acting_party(stored.event) for i, stored in found.items()}


def transit_parties(declaration: ev.TransitOpen) -> set[str]:
    """The tax ids party to a transit declaration: its carrier and its consignee."""
    named = (declaration.carrier.tax_id, declaration.consignee.tax_id)
    return {tax_id for tax_id in named if tax_id}


def visible_transits(conn: Connection, tax_id: str, mrns: Iterable[str] | None = None) -> set[str]:
    """MRNs (among `mrns`, or all) of declarations `tax_id` is party to."""
    reader = LedgerReader(conn)
    if mrns is None:
        found = reader.select_events(types={"transit_open"}, party=tax_id)
    else:
        found = (s for m in set(mrns) for s in reader.select_events(types={"transit_open"}, mrn=m))
    return {
        s.event.mrn
        for s in found
        if isinstance(s.event, ev.TransitOpen) and tax_id in transit_parties(s.event)
    }


def own_alert(conn: Connection, tax_id: str, alert: dict[str, Any]) -> bool:
    """Whether an alert is about the declarant itself or about an event it acted in (never
    about a batch it once held, whose later holders are other companies)."""
    kind, subject = alert.get("subject_kind"), alert.get("subject")
    if kind == "party":
        return subject == tax_id
    if kind == "event" and isinstance(subject, str):
        return acting_parties(conn, [subject]).get(subject) == tax_id
    return False


def unheld_refusals(
    conn: Connection, tax_id: str, typed: Collection[ev.Event | None]
) -> dict[int, UnknownBatch]:
    """Events (by index) that move a batch the declarant never held, each refused exactly as
    the ledger refuses a batch that does not exist: the same error, field and reason, so a
    declarant cannot tell another company's batch from no batch (no 201-vs-422 oracle).

    Batches created earlier in the same request by its own events count as held."""
    refs = {i: batch_refs(e) for i, e in enumerate(typed) if e is not None}
    held = held_batches(conn, tax_id, {b for pairs in refs.values() for _, b in pairs})
    made: set[str] = set()
    refused: dict[int, UnknownBatch] = {}
    for i, event in enumerate(typed):
        if event is None:
            continue
        missing = [(f, b) for f, b in refs[i] if b not in held and b not in made]
        if missing:
            refused[i] = unknown_batch(*missing[0])
        else:
            made.update(created_batches(event))
    return refused


def unknown_batch(field: str, batch: str) -> UnknownBatch:
    """The ledger's own refusal of a batch that does not exist (`keruen.ledger.rules`)."""
    return UnknownBatch(field, f"batch {batch!r} does not exist; a batch exists before it moves")


# --- the reads the API and the web dashboard share ----------------------------------------


def history_for(conn: Connection, tenant: str | None, batch: str) -> dict[str, Any] | None:
    """A batch's history as the caller may see it (`tenant`: a declarant's tax id, None for
    an officer); None where the batch does not exist or the declarant is not party to it."""
    try:
        result: dict[str, Any] = queries.public(LedgerReader(conn).history(batch))
    except NotFound:
        return None
    return result if tenant is None else views.history(result, tenant)


def trace_for(
    conn: Connection, tenant: str | None, batch: str, back: bool
) -> dict[str, Any] | None:
    """A trace back or forward as the caller may see it; None as for `history_for`."""
    try:
        reader = LedgerReader(conn)
        result: dict[str, Any] = queries.public(
            (reader.trace_back if back else reader.trace_forward)(batch)
        )
    except NotFound:
        return None
    if tenant is None:
        return result
    visible = held_batches(conn, tenant, views.trace_batches(result))
    view = views.trace_back if back else views.trace_forward
    return view(result, tenant, visible)
