"""The ledger's rules, as pure functions from (state, event) to an effect, or a rejection.

Invariants enforced here: a batch exists before it moves and its number is never reused;
nobody gives more than it holds, so no balance goes negative; quantities move, they are not
lost or made except by import, arrival, positive adjust and transform outputs; nothing is dated
before its batch was created; a cancel reverses its target only if the balances allow it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, assert_never, cast

from keruen.clock import iso, micros
from keruen.errors import (
    BatchExists,
    CancelRefused,
    InsufficientStock,
    InvalidEvent,
    UnknownBatch,
)
from keruen.model import events as ev
from keruen.reference import COUNT_UNITS

__all__ = ["Batch", "Effect", "LedgerView", "Move", "apply", "iso", "micros", "stock_moves"]


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


def apply(view: LedgerView, event: ev.Event) -> Effect:
    """The effect of `event` on the ledger, or a `RejectedEvent` saying why it cannot apply."""
    match event:
        case ev.Import():
            return _create(view, event)
        case ev.Transfer():
            _take(view, event, event.batch, event.from_, event.quantity)
        case ev.Transform():
            return _transform(view, event)
        case ev.Dispatch() | ev.WriteOff():
            _take(view, event, event.batch, event.holder, event.quantity)
        case ev.Adjust():
            _adjust(view, event)
        case ev.Cancel():
            return _cancel(view, event)
    return Effect(moves=stock_moves(event))


def _batch_info(batch: str, goods: ev.Goods, event: ev.Event) -> Batch:
    return Batch(
        batch, goods.hs, goods.unit, goods.description, goods.origin, micros(event.time), event.id
    )


def _create(view: LedgerView, e: ev.Import) -> Effect:
    _new_batch(view, e.batch, "batch")
    return Effect(new_batches=[_batch_info(e.batch, e.goods, e)], moves=stock_moves(e))


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
    effect = Effect(moves=stock_moves(e))
    for i, p in enumerate(e.inputs):
        _take(view, e, p.batch, e.holder, p.quantity, f"inputs[{i}].batch")
    for i, o in enumerate(e.outputs):
        _new_batch(view, o.batch, f"outputs[{i}].batch")
        effect.new_batches.append(_batch_info(o.batch, o.goods, e))
        effect.links.extend((p.batch, o.batch) for p in e.inputs)
    return effect


def _adjust(view: LedgerView, e: ev.Adjust) -> None:
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
    else:
        _take(view, e, e.batch, e.holder, -e.quantity)


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


def stock_moves(event: ev.Event) -> list[Move]:
    """Each event type's effect on stock, in one place: the moves it makes, which follow from
    the event alone (the rules above only check that they may be made). A cancel's moves are
    its target's, reversed; the transit events, receipts and pings move no stock."""
    e = cast(ev.AnyEvent, event)  # every event is one of the contract's types
    match e:
        case ev.Import() | ev.Arrival():
            return [Move(e.batch, None, e.holder, e.quantity, _tag(e))]
        case ev.Transfer():
            return [Move(e.batch, e.from_, e.to, e.quantity, "transfer")]
        case ev.Transform():
            return [Move(p.batch, e.holder, None, p.quantity, "transform_in") for p in e.inputs] + [
                Move(o.batch, None, e.holder, o.quantity, "transform_out") for o in e.outputs
            ]
        case ev.Dispatch() | ev.Export() | ev.WriteOff():
            return [Move(e.batch, e.holder, None, e.quantity, _tag(e))]
        case ev.Adjust() if e.quantity > 0:
            return [Move(e.batch, None, e.holder, e.quantity, "adjust")]
        case ev.Adjust():
            return [Move(e.batch, e.holder, None, -e.quantity, "adjust")]
        case (
            ev.TransitOpen()
            | ev.SealPing()
            | ev.Checkpoint()
            | ev.TransitClose()
            | ev.Incident()
            | ev.Receipt()
            | ev.Cancel()
        ):
            return []
        case _:
            assert_never(e)


def _tag(e: ev.Event) -> str:
    return str(e.__struct_config__.tag)


def original_moves(event: ev.Event) -> Iterator[Move]:
    """The moves an accepted event made (recomputed: they follow from the event alone)."""
    return iter(stock_moves(event))


def _reverse(m: Move) -> Move:
    return Move(m.batch, m.target, m.source, m.quantity, "cancel")


def balance_deltas(moves: Iterable[Move]) -> Iterator[tuple[str, str, Decimal]]:
    """(holder, batch, signed change) for each side of each move inside the circuit."""
    for m in moves:
        if m.source is not None:
            yield m.source, m.batch, -m.quantity
        if m.target is not None:
            yield m.target, m.batch, m.quantity
