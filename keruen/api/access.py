"""Who may do what: roles, the acting party of an event, and tenant views. Pure, no I/O.

| role      | may                                                                  |
| --------- | -------------------------------------------------------------------- |
| admin     | manage users and keys, read the audit log                            |
| officer   | submit any event, read everything party-level, read aggregates       |
| analyst   | read aggregates only                                                 |
| declarant | submit events where it is the acting party; read what it is party to |

A declarant is *party* to a batch when it gave or received any of its quantity; what it sees
of it is `keruen.api.views`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never, cast

from keruen.model import events as ev


class Role(StrEnum):
    admin = "admin"
    officer = "officer"
    analyst = "analyst"
    declarant = "declarant"


class Can(StrEnum):
    """Capabilities; a router asks for one, never for a role."""

    submit = "submit events"
    read_party = "read party-level data"
    read_aggregates = "read aggregates"
    manage = "manage users and keys"
    read_audit = "read the audit log"
    work_cases = "work alerts into cases"


GRANTS: dict[Role, frozenset[Can]] = {
    Role.admin: frozenset({Can.manage, Can.read_audit}),
    Role.officer: frozenset({Can.submit, Can.read_party, Can.read_aggregates, Can.work_cases}),
    Role.analyst: frozenset({Can.read_aggregates}),
    Role.declarant: frozenset({Can.submit, Can.read_party}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user, through one of its keys (or a token issued for it)."""

    user_id: int
    name: str
    role: Role
    tax_id: str | None
    key_id: str

    def can(self, capability: Can) -> bool:
        return capability in GRANTS[self.role]

    @property
    def tenant(self) -> str | None:
        """The tax id whose data alone this caller may see; None sees all it may read."""
        return self.tax_id if self.role is Role.declarant else None

    @property
    def source(self) -> str:
        """The ingest source label: ties stored rejections to the user who submitted them."""
        return f"api:user/{self.user_id}"


# the field that names the party acting in each event type a declarant may submit
ACTING_FIELD: dict[str, str] = {
    "import": "holder",
    "arrival": "holder",
    "transfer": "from",
    "transform": "holder",
    "dispatch": "holder",
    "export": "holder",
    "write_off": "holder",
    "adjust": "holder",
    "transit_open": "carrier.tax_id",
}


def acting_party(event: ev.Event) -> str | None:
    """The tax id acting in an event: the one who gives, makes, declares; None for other types."""
    event = cast(ev.AnyEvent, event)  # every event is one of the contract's types
    match event:
        case ev.Transfer():
            return event.from_
        case ev.TransitOpen():
            return event.carrier.tax_id
        case ev.Import() | ev.Transform() | ev.Dispatch() | ev.WriteOff() | ev.Adjust():
            return event.holder
        case (
            ev.SealPing()
            | ev.Checkpoint()
            | ev.TransitClose()
            | ev.Incident()
            | ev.Receipt()
            | ev.Cancel()
        ):
            return None  # devices, posts and partners report these; a cancel acts as its target
        case _:
            assert_never(event)


def submit_refusal(
    tax_id: str, event: ev.Event, own_ids: Collection[str]
) -> tuple[str, str] | None:
    """Why a declarant may not submit this event, as (field, reason); None when it may.

    Judged on the typed event the ledger itself would store, never on raw JSON (duplicate
    keys must not let a raw view and the ledger disagree). A cancel is allowed only for a target
    in `own_ids`, and the reason never says whether someone else's event exists.
    """
    kind = str(event.__struct_config__.tag)
    if isinstance(event, ev.Cancel):
        if event.target in own_ids:
            return None
        return "target", "no event of yours with this id to cancel"
    if kind not in ACTING_FIELD:
        return "type", f"a declarant may not submit {kind!r} events"
    if acting_party(event) != tax_id:
        return ACTING_FIELD[kind], (
            f"must be your own tax id ({tax_id}): a declarant submits only events it acts in"
        )
    return None


# --- the batches an event moves or makes ----------------------------------------------------


def batch_refs(event: ev.Event) -> list[tuple[str, str]]:
    """(field, batch) of every existing batch an event takes quantity from or adds to."""
    event = cast(ev.AnyEvent, event)  # every event is one of the contract's types
    match event:
        case ev.Transfer() | ev.Dispatch() | ev.WriteOff() | ev.Adjust():
            return [("batch", event.batch)]
        case ev.Transform():
            return [(f"inputs[{i}].batch", p.batch) for i, p in enumerate(event.inputs)]
        case ev.Import() | ev.TransitOpen() | ev.SealPing() | ev.Checkpoint():
            return []  # an import makes its batch (created_batches); transit names no batch
        case ev.TransitClose() | ev.Incident() | ev.Receipt() | ev.Cancel():
            return []
        case _:
            assert_never(event)


def created_batches(event: ev.Event) -> list[str]:
    """The new batches an event makes (imports, arrivals, transform outputs)."""
    event = cast(ev.AnyEvent, event)  # every event is one of the contract's types
    match event:
        case ev.Import():  # and Arrival
            return [event.batch]
        case ev.Transform():
            return [o.batch for o in event.outputs]
        case ev.Transfer() | ev.Dispatch() | ev.WriteOff() | ev.Adjust() | ev.TransitOpen():
            return []
        case (
            ev.SealPing()
            | ev.Checkpoint()
            | ev.TransitClose()
            | ev.Incident()
            | ev.Receipt()
            | ev.Cancel()
        ):
            return []
        case _:
            assert_never(event)


def trace_batches(trace: dict[str, Any]) -> list[str]:
    """Every batch a trace names (kept here for callers of the earlier name)."""
    return [n["batch"] for n in trace["batches"]]
