"""Who takes part in an event: every tax id it names, whatever the role (pure, no I/O)."""

from __future__ import annotations

from typing import assert_never, cast

from keruen.model import events as ev


def parties(event: ev.Event) -> frozenset[str]:
    """The tax ids an event names: holders, giver and taker, seller, buyer, carrier,
    consignee (a foreign party may have none). Seal pings, checkpoints, closes, incidents,
    receipts and cancels name none (a cancel's parties are those of the moves it reverses,
    which the ledger stores)."""
    event = cast(ev.AnyEvent, event)  # every event is one of the contract's types
    match event:
        case ev.Import() | ev.Arrival():
            return _ids(event.holder, event.seller.tax_id)
        case ev.Transfer():
            return frozenset((event.from_, event.to))
        case ev.Dispatch() | ev.Export():
            return _ids(event.holder, event.buyer.tax_id)
        case ev.Transform() | ev.WriteOff() | ev.Adjust():
            return frozenset((event.holder,))
        case ev.TransitOpen():
            return _ids(event.carrier.tax_id, event.consignee.tax_id)
        case (
            ev.SealPing()
            | ev.Checkpoint()
            | ev.TransitClose()
            | ev.Incident()
            | ev.Receipt()
            | ev.Cancel()
        ):
            return frozenset()
        case _:
            assert_never(event)


def _ids(*tax_ids: str | None) -> frozenset[str]:
    return frozenset(i for i in tax_ids if i)
