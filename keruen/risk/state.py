"""The ledger as the detectors see it: live events in ledger order, indexed. Pure, no I/O.

The storage adapter (`keruen.risk.store`) reads the events that stand (not cancelled, not
cancels) and builds this once per run; every detector reads it and nothing else of the ledger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never, cast

from keruen.ledger.rules import micros
from keruen.model import events as ev

Outflow = ev.Dispatch  # dispatches and exports (Export subclasses Dispatch)


@dataclass(slots=True)
class Ledger:
    events: list[ev.Event] = field(default_factory=list)
    by_id: dict[str, ev.Event] = field(default_factory=dict)
    time_us: dict[str, int] = field(default_factory=dict)
    goods: dict[str, ev.Goods] = field(default_factory=dict)  # batch -> goods
    created_by: dict[str, ev.Event] = field(default_factory=dict)  # batch -> creating event
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # output -> input batches
    receipts: dict[str, list[ev.Receipt]] = field(default_factory=lambda: defaultdict(list))
    transits: dict[str, ev.TransitOpen] = field(default_factory=dict)
    closes: dict[str, ev.TransitClose] = field(default_factory=dict)  # mrn -> its close
    outflows: list[Outflow] = field(default_factory=list)
    latest_us: int = 0

    def add(self, e: ev.Event, t: int | None = None) -> None:
        """Index one event (at time `t`, else its own); events come in ledger order."""
        t = micros(e.time) if t is None else t
        self.events.append(e)
        self.by_id[e.id] = e
        self.time_us[e.id] = t
        self.latest_us = max(self.latest_us, t)
        e = cast(ev.AnyEvent, e)  # every event is one of the contract's types
        match e:
            case ev.Import():  # and Arrival
                self.goods[e.batch] = e.goods
                self.created_by[e.batch] = e
            case ev.Transform():
                for o in e.outputs:
                    self.goods[o.batch] = o.goods
                    self.created_by[o.batch] = e
                    self.inputs[o.batch] = tuple(p.batch for p in e.inputs)
            case ev.Dispatch():  # and Export
                self.outflows.append(e)
            case ev.Receipt():
                self.receipts[e.ref].append(e)
            case ev.TransitOpen():
                self.transits[e.mrn] = e
            case ev.TransitClose():
                self.closes[e.mrn] = e
            case (
                ev.Transfer()
                | ev.WriteOff()
                | ev.Adjust()
                | ev.SealPing()
                | ev.Checkpoint()
                | ev.Incident()
                | ev.Cancel()
            ):
                pass  # in `events`, `by_id` and `time_us` only
            case _:
                assert_never(e)

    def ancestors(self, batch: str) -> list[str]:
        """The batch and every batch it was made from, nearest first."""
        seen, order, frontier = {batch}, [batch], [batch]
        while frontier:
            nxt = [p for b in frontier for p in self.inputs.get(b, ()) if p not in seen]
            seen.update(nxt)
            order.extend(nxt)
            frontier = nxt
        return order

    def at(self, e: ev.Event) -> int:
        return self.time_us[e.id]


def build(events: Iterable[ev.Event]) -> Ledger:
    """A ledger state from live events in ledger order."""
    ledger = Ledger()
    for e in events:
        ledger.add(e)
    return ledger


def build_timed(events: Iterable[tuple[ev.Event, int]]) -> Ledger:
    """The same from (event, time in microseconds) pairs, as the store reads them."""
    ledger = Ledger()
    for e, t in events:
        ledger.add(e, t)
    return ledger


def kind(e: ev.Event) -> str:
    return str(e.__struct_config__.tag)
