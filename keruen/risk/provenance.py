"""Where the goods of every outflow came from: FIFO lots with the path that brought them.

Replaying the live stock events in ledger order, each holder's stock of a batch is a queue of
lots; an outflow takes the oldest lots first, a transfer hands them on with one more hop, a
transform makes output lots that keep the paths of the inputs they consumed (an output is split
evenly between its input portions, each portion by its lots' quantities). The lots an outflow
took are its provenance: the imports, arrivals or stocktake gains at their roots, and the chain
of holders between. Quantities are floats: this attributes, the ledger keeps the exact figures.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from keruen.ledger.rules import stock_moves
from keruen.model import events as ev
from keruen.risk.model import Hop, Lot
from keruen.risk.state import Ledger, kind

EPS = 1e-9
Key = tuple[str, str]  # (holder, batch)


@dataclass(slots=True)
class Provenance:
    """The lots each outflow (dispatch, export, write-off, negative adjust) took."""

    exits: dict[str, list[Lot]] = field(default_factory=dict)
    stock: dict[Key, deque[Lot]] = field(default_factory=lambda: defaultdict(deque))

    def of(self, event_id: str) -> list[Lot]:
        return self.exits.get(event_id, [])


def put(queue: deque[Lot], lot: Lot) -> None:
    """Append a lot, merged into the last one when it came the same way."""
    if lot.quantity <= EPS:
        return
    if queue and queue[-1].path == lot.path:
        queue[-1].quantity += lot.quantity
    else:
        queue.append(lot)


def take(queue: deque[Lot], quantity: float, unknown: Callable[[], Hop]) -> list[Lot]:
    """The oldest lots making up `quantity` (split where needed), removed from the queue."""
    taken: list[Lot] = []
    need = quantity
    while need > EPS and queue:
        head = queue[0]
        if head.quantity <= need + EPS:
            taken.append(queue.popleft())
            need -= head.quantity
        else:
            head.quantity -= need
            taken.append(Lot(need, head.path))
            need = 0.0
    if need > EPS:  # only if cancelled events left a gap: said, not hidden
        taken.append(Lot(need, (unknown(),)))
    return taken


def hop(e: ev.Event, t: int, holder: str, batch: str, how: str | None = None) -> Hop:
    return Hop(how or kind(e), e.id, t, holder, batch)


def trace(ledger: Ledger) -> Provenance:
    """Replay the ledger's stock events into lots; return what every outflow took."""
    prov = Provenance()
    for e in ledger.events:
        _apply(prov, e, ledger.at(e))
    return prov


def _apply(prov: Provenance, e: ev.Event, t: int) -> None:
    """The event's stock moves (`keruen.ledger.rules.stock_moves`, their one home) as lots:
    a creation makes a lot, a transfer hands lots on with one more hop, an outflow takes the
    oldest; a transform's outputs keep the paths of the lots its inputs consumed."""
    if isinstance(e, ev.Transform):
        _transform(prov.stock, e, t)
        return
    stock = prov.stock
    for m in stock_moves(e):
        if m.source is None and m.target is not None:
            lot = Lot(float(m.quantity), (hop(e, t, m.target, m.batch),))
            put(stock[m.target, m.batch], lot)
        elif m.source is not None and m.target is None:
            prov.exits[e.id] = _out(stock, e, t, m.source, m.batch, float(m.quantity))
        elif m.source is not None and m.target is not None:
            step = hop(e, t, m.target, m.batch)
            for lot in _out(stock, e, t, m.source, m.batch, float(m.quantity)):
                put(stock[m.target, m.batch], Lot(lot.quantity, (*lot.path, step)))


def _out(
    stock: dict[Key, deque[Lot]], e: ev.Event, t: int, holder: str, batch: str, q: float
) -> list[Lot]:
    return take(stock[holder, batch], q, lambda: hop(e, t, holder, batch, "unknown"))


def _transform(stock: dict[Key, deque[Lot]], e: ev.Transform, t: int) -> None:
    consumed = [_out(stock, e, t, e.holder, p.batch, float(p.quantity)) for p in e.inputs]
    for o in e.outputs:
        step = hop(e, t, e.holder, o.batch)
        share = float(o.quantity) / len(consumed)
        for lots in consumed:
            for lot in _split(lots, share):
                put(stock[e.holder, o.batch], Lot(lot.quantity, (*lot.path, step)))


def _split(lots: list[Lot], total: float) -> Iterable[Lot]:
    whole = sum(lot.quantity for lot in lots) or 1.0
    return (Lot(total * lot.quantity / whole, lot.path) for lot in lots)


def holders(path: tuple[Hop, ...]) -> list[str]:
    """The chain of holders along a path, without immediate repeats."""
    chain: list[str] = []
    for h in path:
        if not chain or chain[-1] != h.holder:
            chain.append(h.holder)
    return chain
