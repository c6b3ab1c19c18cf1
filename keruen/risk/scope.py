"""What one pre-check reads (SPEC C5): the batch's lineage and a few facts, not the ledger.

A pre-check judges one planned dispatch of a batch by one holder. Everything the judgement
uses is about that batch, its holder and its buyer:

- the goods' provenance (FIFO lots of the holder's stock of the batch) replays only the
  queues of the batch and of the batches it was made from, so the events that moved those
  batches, in ledger order, give the same lots as the whole ledger (`lineage`);
- the standing risks the movement carries: alerts about the batches, the holder and the buyer
  (`alerts_about`);
- the holder's clean history: its earlier dispatches and exports that were received and
  raised nothing (`clean_outflows`);
- for a buyer in a conduit state, whether it bought before (`bought_before`).

All of it is read through the port (`keruen.store.port.LedgerReader`) and its indexes, as of
`now`: events dated up to `now` that stand then, as `keruen.risk.store.live_events` reads.
`tests/risk/test_scope.py` checks the pre-check on these reads equals the pre-check on the
whole ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.model import events as ev
from keruen.risk import tables as rt
from keruen.risk.model import Alert, Refs
from keruen.risk.state import Ledger, build_timed
from keruen.store.db import chunks
from keruen.store.port import LedgerReader, StoredEvent, time_of

OUTFLOWS = ("dispatch", "export")
STOCK = tuple(sorted(ev.STOCK_TYPES))


def _live(found: Iterable[StoredEvent], now_us: int) -> Iterable[StoredEvent]:
    return (s for s in found if s.time_us <= now_us and s.stands_at(now_us))


def lineage(conn: Connection, batch: str, now_us: int) -> Ledger:
    """The events that moved `batch` or any batch it was made from (transitively), standing
    as of `now`, in ledger order: the detectors' ledger cut to what the batch's provenance
    replays."""
    reader = LedgerReader(conn)
    end = time_of(now_us + 1)
    found: dict[int, StoredEvent] = {}
    seen, frontier = {batch}, [batch]
    while frontier:
        made_from: list[str] = []
        for b in frontier:
            for s in _live(reader.select_events(batch=b, types=STOCK, end=end), now_us):
                found[s.seq] = s
                if isinstance(s.event, ev.Transform) and b in {o.batch for o in s.event.outputs}:
                    made_from += [p.batch for p in s.event.inputs if p.batch not in seen]
        frontier = list(dict.fromkeys(made_from))
        seen.update(frontier)
    return build_timed((found[seq].event, found[seq].time_us) for seq in sorted(found))


def alerts_about(conn: Connection, subjects: Collection[tuple[str, str]]) -> list[Alert]:
    """The stored alerts and signals about these (kind, subject) pairs, as scoring reads them."""
    a = rt.risk_alerts.c
    found: list[Alert] = []
    for kind in sorted({k for k, _ in subjects}):
        names = sorted({s for k, s in subjects if k == kind})
        for part in chunks(names):
            q = sa.select(a.rule, a.subject_kind, a.subject, a.score, a.time_us).where(
                a.subject_kind == kind, a.subject.in_(part)
            )
            found += [Alert(*r, "", Refs()) for r in conn.execute(q)]
    return found


def clean_outflows(conn: Connection, holder: str, now_us: int) -> int:
    """The holder's dispatches and exports standing as of `now` that a receipt (standing then)
    confirms and that no alert or signal is about."""
    reader = LedgerReader(conn)
    end = time_of(now_us + 1)
    ids = [  # by the party index: the moves have no index by holder
        s.event.id
        for s in _live(reader.select_events(party=holder, types=OUTFLOWS, end=end), now_us)
        if isinstance(s.event, ev.Dispatch) and s.event.holder == holder
    ]
    received: set[str] = set()
    alerted: set[str] = set()
    a = rt.risk_alerts.c
    for part in chunks(ids):
        receipts = reader.select_events(mrn=part, types=("receipt",), end=end)
        received.update(
            s.event.ref for s in _live(receipts, now_us) if isinstance(s.event, ev.Receipt)
        )
        q = sa.select(a.subject).where(a.subject_kind == "event", a.subject.in_(part))
        alerted.update(conn.scalars(q))
    return sum(1 for i in ids if i in received and i not in alerted)


def bought_before(conn: Connection, buyer: ev.Party, now_us: int) -> bool:
    """Whether a dispatch or export standing as of `now` went to this buyer (its key: the tax
    id, else name and country). By tax id through the party index; a buyer without one is
    looked for among every dispatch and export."""
    reader = LedgerReader(conn)
    end = time_of(now_us + 1)
    found = reader.select_events(party=buyer.tax_id or None, types=OUTFLOWS, end=end)
    return any(
        isinstance(s.event, ev.Dispatch) and s.event.buyer.key == buyer.key
        for s in _live(found, now_us)
    )
