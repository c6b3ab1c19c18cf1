"""Pure types of the risk engine: alerts and the identifiers they cite, provenance of goods."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from keruen.clock import micros
from keruen.ledger.rules import iso as iso

SubjectKind = Literal["event", "batch", "transit", "party"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("event", "batch", "transit", "party")


def day(us: int) -> str:
    """A ledger time as the date a person reads in an explanation."""
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%d")


def micros_of(text: str) -> int:
    """RFC 3339 (offset optional: UTC assumed) to ledger microseconds."""
    return micros(datetime.fromisoformat(text))


@dataclass(frozen=True, slots=True)
class Refs:
    """The identifiers an alert cites: what an officer or an evaluation looks it up by."""

    events: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    tax_ids: tuple[str, ...] = ()
    mrns: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, str]]:
        """(kind, value) pairs, kinds named as in the JSON output."""
        return [
            *(("event", v) for v in self.events),
            *(("batch", v) for v in self.batches),
            *(("tax_id", v) for v in self.tax_ids),
            *(("mrn", v) for v in self.mrns),
        ]

    def public(self) -> dict[str, list[str]]:
        return {
            "event_ids": list(self.events),
            "batches": list(self.batches),
            "tax_ids": list(self.tax_ids),
            "mrns": list(self.mrns),
        }


def refs(events: Any = (), batches: Any = (), tax_ids: Any = (), mrns: Any = ()) -> Refs:
    """Refs with duplicates dropped and order kept (the first is the most important)."""
    return Refs(
        *(tuple(dict.fromkeys(x for x in v if x)) for v in (events, batches, tax_ids, mrns))
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """One finding of one rule about one subject; (rule, subject_kind, subject) is its key."""

    rule: str
    subject_kind: SubjectKind
    subject: str
    score: float
    time_us: int  # when the last fact it rests on was known (ledger time)
    explanation: str
    refs: Refs
    facts: dict[str, Any] = field(default_factory=dict)
    list_version: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.subject_kind, self.subject)


@dataclass(frozen=True, slots=True)
class Hop:
    """One step in the life of goods: who held them after it, through which event, when."""

    kind: str  # import, arrival, adjust, transfer, transform
    event_id: str
    time_us: int
    holder: str
    batch: str


@dataclass(slots=True)
class Lot:
    """A quantity of a batch held by someone, with the path that brought it there."""

    quantity: float
    path: tuple[Hop, ...]

    @property
    def root(self) -> Hop:
        return self.path[0]
