"""The ledger's rules, as pure functions from (state, event) to an effect, or a rejection.

Invariants enforced here: a batch exists before it moves and its number is never reused;
nobody gives more than it holds, so no balance goes negative; quantities move, they are not
lost or made except by import, arrival, positive adjust and transform outputs; nothing is dated
before its batch was created; a cancel reverses its target only if the balances allow it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from keruen.errors import (
    BatchExists,
    CancelRefused,
    InsufficientStock,
    InvalidEvent,
    UnknownBatch,
)
from keruen.model import events as ev
from keruen.reference import COUNT_UNITS


@dataclass(frozen=True, slots=True)
class Batch:
    batch: str
    hs: str
    unit: str
    description: str
    origin: str
    created_us: int
    event_id: str


@dataclass(frozen=True, slots=True)
class Move:
    """Quantity of a batch leaving `source` for `target`; None is outside the traced circuit."""

    batch: str
    source: str | None
    target: str | None
    quantity: Decimal
    kind: str


@dataclass(slots=True)
class Effect:
    new_batches: list[Batch] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (input batch, output batch)
    cancels: str | None = None


class LedgerView(Protocol):
    """What the rules may read of the ledger's state."""

    def batch(self, batch: str) -> Batch | None: ...

    def balance(self, holder: str, batch: str) -> Decimal: ...

    def held(self, holder: str, batch: str) -> bool:
        """Whether the holder holds or ever held some of the batch."""
        ...

    def event(self, event_id: str) -> ev.Event | None: ...

    def cancelled(self, event_id: str) -> bool: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(t: datetime) -> int:
    """A time as integer microseconds since the epoch (UTC), the ledger's time column: exact
    integer arithmetic (no float seconds), before 1970 too; a time without offset is UTC."""
    return ((t if t.tzinfo else t.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


def iso(us: int) -> str:
    """A ledger time (microseconds, UTC) as RFC 3339 with a `Z`: exact (no float seconds), and
    cheap enough for the thousands of times a trace or a history prints."""
    seconds, fraction = divmod(us, 1_000_000)
    base = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*time.gmtime(seconds)[:6])
    return f"{base}.{fraction:06d}Z" if fraction else f"{base}Z"


def apply(view: LedgerView, event: ev.Event) -> Effect:
    """The effect of `event` on the ledger, or a `RejectedEvent` saying why it cannot apply."""
    match event:
        case ev.Import():
            return _create(view, event)
        case ev.Transfer():
            _take(view, event, event.batch, event.from_, event.quantity)
            return Effect(
                moves=[Move(event.batch, event.from_, event.to, event.quantity, "transfer")]
            )
        case ev.Transform():
            return _transform(view, event)
        case ev.Dispatch() | ev.WriteOff():
            _take(view, event, event.batch, event.holder, event.quantity)
            kind = event.__struct_config__.tag
            return Effect(moves=[Move(event.batch, event.holder, None, event.quantity, str(kind))])
        case ev.Adjust():
            return _adjust(view, event)
        case ev.Cancel():
            return _cancel(view, event)
    return Effect()


def _batch_info(batch: str, goods: ev.Goods, event: ev.Event) -> Batch:
    return Batch(
        batch, goods.hs, goods.unit, goods.description, goods.origin, micros(event.time), event.id
    )


def _create(view: LedgerView, e: ev.Import) -> Effect:
    _new_batch(view, e.batch, "batch")
    kind = str(e.__struct_config__.tag)
    return Effect(
        new_batches=[_batch_info(e.batch, e.goods, e)],
        moves=[Move(e.batch, None, e.holder, e.quantity, kind)],
    )


def _new_batch(view: LedgerView, batch: str, field: str) -> None:
    if view.batch(batch) is not None:
        raise BatchExists(field, f"batch {batch!r} already exists; a batch number is never reused")


def _existing(view: LedgerView, e: ev.Event, batch: str, field: str) -> Batch:
    info = view.batch(batch)
    if info is None:
        raise UnknownBatch(field, f"batch {batch!r} does not exist; a batch exists before it moves")
    if micros(e.time) < info.created_us:
        raise InvalidEvent("time", f"{e.time.isoformat()} is before batch {batch!r} was created")
    return info


def _whole(info: Batch, quantity: Decimal, field: str) -> None:
    """A batch counted in pieces (sets, pairs, ...) moves in whole numbers."""
    if info.unit in COUNT_UNITS and quantity != quantity.to_integral_value():
        raise InvalidEvent(
            field, f"batch {info.batch!r} counts whole {info.unit}; {quantity} is not whole"
        )


def _take(
    view: LedgerView, e: ev.Event, batch: str, holder: str, quantity: Decimal, field: str = "batch"
) -> None:
    info = _existing(view, e, batch, field)
    _whole(info, quantity, "quantity" if field == "batch" else field.replace("batch", "quantity"))
    held = view.balance(holder, batch)
    if held < quantity:
        raise InsufficientStock(
            "quantity",
            f"holder {holder} holds {held} of batch {batch!r}; cannot give {quantity}",
        )


def _transform(view: LedgerView, e: ev.Transform) -> Effect:
    effect = Effect()
    for i, p in enumerate(e.inputs):
        _take(view, e, p.batch, e.holder, p.quantity, f"inputs[{i}].batch")
        effect.moves.append(Move(p.batch, e.holder, None, p.quantity, "transform_in"))
    for i, o in enumerate(e.outputs):
        _new_batch(view, o.batch, f"outputs[{i}].batch")
        effect.new_batches.append(_batch_info(o.batch, o.goods, e))
        effect.moves.append(Move(o.batch, None, e.holder, o.quantity, "transform_out"))
        effect.links.extend((p.batch, o.batch) for p in e.inputs)
    return effect


def _adjust(view: LedgerView, e: ev.Adjust) -> Effect:
    """A stocktake corrects what a holder has or had; it does not hand a batch to a stranger
    (that would be stock from nowhere, with no trail behind it)."""
    if e.quantity > 0:
        _whole(_existing(view, e, e.batch, "batch"), e.quantity, "quantity")
        if not view.held(e.holder, e.batch):
            raise InvalidEvent(
                "holder",
                f"holder {e.holder} never held batch {e.batch!r}; an adjust corrects the stock "
                "of a batch its holder holds or held",
            )
        return Effect(moves=[Move(e.batch, None, e.holder, e.quantity, "adjust")])
    _take(view, e, e.batch, e.holder, -e.quantity)
    return Effect(moves=[Move(e.batch, e.holder, None, -e.quantity, "adjust")])


def _cancel(view: LedgerView, e: ev.Cancel) -> Effect:
    target = view.event(e.target)
    if target is None:
        raise CancelRefused("target", f"event {e.target!r} does not exist")
    if isinstance(target, ev.Cancel):
        raise CancelRefused("target", f"{e.target!r} is itself a cancel; submit the event again")
    if view.cancelled(e.target):
        raise CancelRefused("target", f"event {e.target!r} is already cancelled")
    if e.time < target.time:
        raise InvalidEvent("time", f"a cancel cannot be dated before its target {e.target!r}")
    reversal = [_reverse(m) for m in original_moves(target)]
    for m in reversal:
        held = view.balance(m.source, m.batch) if m.source else m.quantity
        if held < m.quantity:
            raise CancelRefused(
                "target",
                f"cannot reverse {e.target!r}: holder {m.source} now holds {held} of batch "
                f"{m.batch!r}, the reversal needs {m.quantity}",
            )
    return Effect(moves=reversal, cancels=e.target)


def original_moves(event: ev.Event) -> Iterator[Move]:
    """The moves an accepted event made (recomputed: they follow from the event alone)."""
    match event:
        case ev.Import():
            yield Move(event.batch, None, event.holder, event.quantity, "import")
        case ev.Transfer():
            yield Move(event.batch, event.from_, event.to, event.quantity, "transfer")
        case ev.Transform():
            for p in event.inputs:
                yield Move(p.batch, event.holder, None, p.quantity, "transform_in")
            for o in event.outputs:
                yield Move(o.batch, None, event.holder, o.quantity, "transform_out")
        case ev.Dispatch() | ev.WriteOff():
            yield Move(event.batch, event.holder, None, event.quantity, "out")
        case ev.Adjust() if event.quantity > 0:
            yield Move(event.batch, None, event.holder, event.quantity, "adjust")
        case ev.Adjust():
            yield Move(event.batch, event.holder, None, -event.quantity, "adjust")


def _reverse(m: Move) -> Move:
    return Move(m.batch, m.target, m.source, m.quantity, "cancel")


def balance_deltas(moves: Iterable[Move]) -> Iterator[tuple[str, str, Decimal]]:
    """(holder, batch, signed change) for each side of each move inside the circuit."""
    for m in moves:
        if m.source is not None:
            yield m.source, m.batch, -m.quantity
        if m.target is not None:
            yield m.target, m.batch, m.quantity
