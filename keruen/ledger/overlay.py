"""Applying a chunk of events in memory over a snapshot read from storage.

The store prefetches, in a few bulk queries, every batch, balance and event id a chunk can
touch; the chunk is then judged event by event here, without I/O, each event seeing the
effects of the ones accepted before it. The store writes the outcome in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from keruen.errors import IdConflict, InvalidEvent, RejectedEvent
from keruen.ledger.rules import Batch, Effect, apply, iso, micros
from keruen.model import events as ev
from keruen.model.validate import Parsed, decode_stored, parse


@dataclass(slots=True)
class Known:
    """An event already in the ledger (or accepted earlier in this chunk)."""

    digest: str
    canonical: bytes
    typed: ev.Event | None = None

    def event(self) -> ev.Event:
        # None, or the native judge's light shape of the event (`keruen.store.native.LIGHT`)
        if not isinstance(self.typed, ev.Event):
            self.typed = decode_stored(self.canonical)
        return self.typed


@dataclass(frozen=True, slots=True)
class Accepted:
    parsed: Parsed
    effect: Effect
    time_us: int  # the event's time as ledger microseconds, converted once


_ZERO = Decimal(0)

# batches and balances an overlay keeps between chunks, at most (about 250 bytes each)
CARRY_LIMIT = 1_000_000


@dataclass(slots=True)
class Overlay:
    """The state a chunk reads: batches and balances (None and zero for those known to be
    absent), events by id; `touched` holds the balances the chunk changed, each with its value
    now (the rows it writes, read from this small dict rather than the carried one)."""

    batches: dict[str, Batch | None] = field(default_factory=dict)
    balances: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    known: dict[str, Known] = field(default_factory=dict)
    cancelled_ids: set[str] = field(default_factory=set)
    touched: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # (holder, batch) known to have been held (read for positive adjusts, grown by moves)
    held_keys: set[tuple[str, str]] = field(default_factory=set)
    # events dated after this (µs, UTC) are refused: the ingest clock plus the tolerance
    not_after_us: int | None = None
    future_tolerance_us: int = 0
    # the ledger head (seq, hash) this state is true at; set by the store
    head: tuple[int, str] | None = None
    # `whole`: read from a ledger with no event, batch or balance, so every batch and balance
    # the ledger holds is here (one missing is absent, zero); `made`: batches the chunks judged
    # on this state made, whose every balance is here; `seen`: from an empty ledger on, a
    # filter of every id accepted (keruen/store/_judge.c: one it lacks is stored nowhere).
    # All three spare the store lookups (`prefetch`).
    whole: bool = False
    made: set[str] = field(default_factory=set)
    seen: bytearray | None = None

    def carry_over(self) -> Overlay:
        """The state worth keeping for the next chunk, if the ledger head does not move.

        Batches and balances stay (they are most of what a chunk reads, and the stream's
        next chunk mostly moves what this one made); events are looked up again by id.
        """
        if len(self.batches) + len(self.balances) > CARRY_LIMIT:  # ids are stored for good
            return Overlay(head=self.head, seen=self.seen)
        return Overlay(
            batches=self.batches,
            balances=self.balances,
            head=self.head,
            whole=self.whole,
            made=self.made,
            seen=self.seen,
        )

    # LedgerView
    def batch(self, batch: str) -> Batch | None:
        return self.batches.get(batch)

    def balance(self, holder: str, batch: str) -> Decimal:
        return self.balances.get((holder, batch), Decimal(0))

    def held(self, holder: str, batch: str) -> bool:
        key = (holder, batch)
        return key in self.held_keys or self.balances.get(key, Decimal(0)) != 0

    def event(self, event_id: str) -> ev.Event | None:
        known = self.known.get(event_id)
        return known.event() if known else None

    def cancelled(self, event_id: str) -> bool:
        return event_id in self.cancelled_ids

    def admit(self, parsed: Parsed) -> Accepted | None:
        """Accept the event (returning its effect), or None for an exact duplicate.

        Raises `RejectedEvent` when it cannot apply; the overlay is then unchanged.
        """
        known = self.known.get(parsed.event.id)
        if known is not None:
            if known.digest == parsed.digest or _same_content(known, parsed):
                return None
            raise IdConflict(
                "id", f"event id {parsed.event.id!r} was used before for other content"
            )
        time_us = micros(parsed.event.time)
        if self.not_after_us is not None and time_us > self.not_after_us:
            raise InvalidEvent(
                "time",
                f"{parsed.event.time.isoformat()} is in the future (the ingest clock reads "
                f"{iso(self.not_after_us - self.future_tolerance_us)})",
            )
        effect = apply(self, parsed.event)
        self._fold(parsed, effect)
        return Accepted(parsed, effect, time_us)

    def _fold(self, parsed: Parsed, effect: Effect) -> None:
        self.known[parsed.event.id] = Known(parsed.digest, parsed.canonical, parsed.event)
        for b in effect.new_batches:
            self.batches[b.batch] = b
        # balance_deltas, inlined: this runs for every accepted event
        balances, touched, held = self.balances, self.touched, self.held_keys
        for m in effect.moves:
            if m.source is not None:
                key = (m.source, m.batch)
                balances[key] = touched[key] = balances.get(key, _ZERO) - m.quantity
            if m.target is not None:
                key = (m.target, m.batch)
                balances[key] = touched[key] = balances.get(key, _ZERO) + m.quantity
                if m.quantity > 0:
                    held.add(key)
        if effect.cancels:
            self.cancelled_ids.add(effect.cancels)


def _same_content(known: Known, parsed: Parsed) -> bool:
    """An event stored before the canonical form was normalised (times in their offset,
    decimals as written) equals a retry in another notation once read again."""
    try:
        return parse(known.canonical).digest == parsed.digest
    except RejectedEvent:
        return False


def held_needs(events: Iterable[ev.Event]) -> set[tuple[str, str]]:
    """(holder, batch) whose past holding a positive adjust must know."""
    return {(e.holder, e.batch) for e in events if isinstance(e, ev.Adjust) and e.quantity > 0}


def needs(events: Iterable[ev.Event]) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    """The batches, (holder, batch) balances and event ids a chunk may read."""
    batches: set[str] = set()
    balances: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for e in events:
        ids.add(e.id)
        match e:
            case ev.Import():
                batches.add(e.batch)
            case ev.Transfer():
                batches.add(e.batch)
                balances.update({(e.from_, e.batch), (e.to, e.batch)})
            case ev.Transform():
                batches.update(p.batch for p in e.inputs)
                batches.update(o.batch for o in e.outputs)
                balances.update((e.holder, p.batch) for p in e.inputs)
            case ev.Dispatch() | ev.WriteOff() | ev.Adjust():
                batches.add(e.batch)
                balances.add((e.holder, e.batch))
            case ev.Cancel():
                ids.add(e.target)
    return batches, balances, ids


def cancel_needs(
    overlay: Overlay, events: Iterable[ev.Event]
) -> tuple[set[str], set[tuple[str, str]]]:
    """Batches and balances that the targets of cancels touch (known after the first fetch)."""
    from keruen.ledger.rules import original_moves

    batches: set[str] = set()
    balances: set[tuple[str, str]] = set()
    for e in events:
        if isinstance(e, ev.Cancel) and (target := overlay.event(e.target)) is not None:
            for m in original_moves(target):
                batches.add(m.batch)
                balances.update((h, m.batch) for h in (m.source, m.target) if h)
    return batches, balances


__all__ = ["Accepted", "Known", "Overlay", "RejectedEvent", "cancel_needs", "held_needs", "needs"]
