"""Ground truth: what each planted scheme (or labelled bait) involves, kept out of the events.

A record collects the ids of the events it emits, the batches, parties and MRNs they touch,
and the diverted quantity and value. Records are written only to truth.jsonl / bait.jsonl;
nothing in events.jsonl tells a scheme from ordinary trade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

Event = dict[str, Any] | msgspec.Raw  # a dict, or a line already encoded (seal pings)


@dataclass(slots=True)
class Record:
    id: str
    kind: str
    variant: str = ""
    events: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    mrns: list[str] = field(default_factory=list)
    hs: list[str] = field(default_factory=list)
    quantity: float = 0.0
    unit: str = ""
    value_usd: float = 0.0
    note: str = ""
    start: str = ""

    def take(self, t: int, ev: Event) -> tuple[int, Event]:
        """Note an event as part of this record and pass it on (`yield rec.take(t, ev)`)."""
        fields = msgspec.json.decode(ev) if isinstance(ev, msgspec.Raw) else ev
        self._note(fields)
        return t, ev

    def _note(self, ev: dict[str, Any]) -> None:
        self.events.append(ev["id"])
        self.start = self.start or ev["time"]
        for key in ("batch", "mrn"):
            if key in ev:
                self._add(self.batches if key == "batch" else self.mrns, ev[key])
        for out in ev.get("outputs", ()):
            self._add(self.batches, out["batch"])

    def party(self, *tax_ids: str) -> None:
        for tax_id in tax_ids:
            self._add(self.parties, tax_id)

    def divert(self, units: float, unit: str, value: float, hs: str) -> None:
        """Count goods that left for where the law forbids (or vanished)."""
        self.quantity += units
        self.unit = self.unit or unit
        self.value_usd += value
        self._add(self.hs, hs)

    def goods(self, hs: str) -> None:
        self._add(self.hs, hs)

    @staticmethod
    def _add(values: list[str], value: str) -> None:
        if value not in values:
            values.append(value)

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "variant": self.variant,
            "start": self.start,
            "events": self.events,
            "batches": self.batches,
            "parties": self.parties,
            "mrns": self.mrns,
            "hs": self.hs,
            "quantity": f"{self.quantity:.3f}",
            "unit": self.unit,
            "value_usd": f"{self.value_usd:.2f}",
        }
        if self.note:
            out["note"] = self.note
        return out
