"""What a declarant sees of the ledger's read models: the moves it gave or received. Pure.

A declarant is party to a batch when it gave or received any of its quantity (its tax id is
the source or the target of a move). Of such a batch it sees the goods (HS code, description,
unit, origin), the moves it gave or received — with the counterparty of each, which its own
document names — its own holding and its own exits (with its own buyers). It never sees the
other holders, their moves, buyers or suppliers, nor the creating import unless it was the
importer: a company that once held a batch learns nothing of where the batch went after it,
nor where it was before it came.

Each view takes the read model of `keruen.store.queries` (JSON-ready dicts) and the set of
batches the declarant is party to (`keruen.api.tenancy.held_batches`); a view of a batch the
declarant is not party to is None, which the API answers exactly as a batch that does not
exist.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

# the exits a forward trace totals, as `keruen.store.queries` names them
_TRANSFORMED = "transformed"


def gave_or_received(move: dict[str, Any], tax_id: str) -> bool:
    return move.get("from") == tax_id or move.get("to") == tax_id


def _info(info: dict[str, Any], created_by_it: bool) -> dict[str, Any]:
    """Batch facts; the creating event's id only for its creator (it is the creator's
    document number)."""
    return {**info, "event_id": info.get("event_id") if created_by_it else None}


def history(result: dict[str, Any], tax_id: str) -> dict[str, Any] | None:
    """A batch's history cut to the moves the declarant gave or received; None if none."""
    events = [e for e in result["events"] if gave_or_received(e, tax_id)]
    if not events:
        return None
    creator = result["batch"].get("event_id")
    created = any(e["id"] == creator and e["to"] == tax_id for e in events)
    return {"batch": _info(result["batch"], created), "events": events}


def _back_node(node: dict[str, Any], tax_id: str, visible: Collection[str]) -> dict[str, Any]:
    created = node["created_by"]
    own = created.get("holder") == tax_id
    return {
        **node,
        "created_by": {
            **created,
            "event": created["event"] if own else None,
            "holder": tax_id if own else None,
        },
        "holders": [h for h in node["holders"] if gave_or_received(h, tax_id)],
        "inputs": [b for b in node["inputs"] if b in visible],
    }


def trace_back(
    result: dict[str, Any], tax_id: str, visible: Collection[str]
) -> dict[str, Any] | None:
    """A trace back cut to the batches the declarant is party to and, in each, to its own
    moves; origins only of the imports it made itself."""
    if result["batch"] not in visible:
        return None
    return {
        **result,
        "origins": [
            o for o in result["origins"] if o["batch"] in visible and o.get("importer") == tax_id
        ],
        "batches": [
            _back_node(n, tax_id, visible) for n in result["batches"] if n["batch"] in visible
        ],
    }


def _forward_node(node: dict[str, Any], tax_id: str, visible: Collection[str]) -> dict[str, Any]:
    return {
        **node,
        "holders": [h for h in node["holders"] if gave_or_received(h, tax_id)],
        "held_by": [h for h in node["held_by"] if h["holder"] == tax_id],
        "exits": [x for x in node["exits"] if x.get("holder") == tax_id],
        "outputs": [b for b in node["outputs"] if b in visible],
    }


def _totals(node: dict[str, Any]) -> dict[str, str]:
    """The root's totals from what the declarant sees: its own holding and its own exits."""
    totals = {"held": sum((Decimal(h["quantity"]) for h in node["held_by"]), Decimal(0))}
    for x in node["exits"]:
        kind = _TRANSFORMED if x["type"] == "transform" else x["type"]
        totals[kind] = totals.get(kind, Decimal(0)) + Decimal(x["quantity"])
    return {k: str(v) for k, v in sorted(totals.items())}


def trace_forward(
    result: dict[str, Any], tax_id: str, visible: Collection[str]
) -> dict[str, Any] | None:
    """A trace forward cut to the batches the declarant is party to and, in each, to its own
    moves, holding and exits: where the goods went after it gave them away is not its to see."""
    if result["batch"] not in visible:
        return None
    nodes = [_forward_node(n, tax_id, visible) for n in result["batches"] if n["batch"] in visible]
    root = next(n for n in nodes if n["batch"] == result["batch"])
    return {**result, "totals": _totals(root), "batches": nodes}


def trace_batches(result: dict[str, Any]) -> list[str]:
    """Every batch a trace names (to ask which of them the declarant is party to)."""
    return [n["batch"] for n in result["batches"]]
