"""Who takes part in an event: every tax id it names, whatever the role (pure, no I/O)."""

from __future__ import annotations

from typing import assert_never

from keruen.model import events as ev


def parties(event: ev.AnyEvent) -> frozenset[str]:
    """The tax ids an event names: holders, giver and taker, seller, buyer, carrier,
    consignee. Seal pings, checkpoints, closes, incidents, receipts and cancels name none
    (a cancel's parties are those of the moves it reverses, which the ledger stores)."""
    match event:
        case ev.Import() | ev.Arrival():
            return frozenset((event.holder, event.seller.tax_id))
        case ev.Transfer():
            return frozenset((event.from_, event.to))
        case ev.Dispatch() | ev.Export():
            return frozenset((event.holder, event.buyer.tax_id))
        case ev.Transform() | ev.WriteOff() | ev.Adjust():
            return frozenset((event.holder,))
        case ev.TransitOpen():
            return frozenset((event.carrier.tax_id, event.consignee.tax_id))
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
