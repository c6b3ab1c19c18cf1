"""Typed ledger events to flat rows (pure): one row per event, or per goods line of a transit
and per output of a transform. Dispatches and exports carry no goods: their HS code, origin and
unit come from the batch, which the `batches` rows record where a batch is created; `resolve`
copies them onto the rows (and a cancel's target seq onto the cancel), so readers need no join
for them.

Times are kept in UTC; `day` is the UTC date, the one calendar every engine agrees on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from keruen.errors import AnalyticsError
from keruen.model import events as ev

SCALE = 6  # decimal places kept for quantities, masses and amounts: decimal(18, 6)
PRECISION = 18
_EXACT = Decimal(1).scaleb(-SCALE)
_LIMIT = Decimal(10) ** (PRECISION - SCALE)

EVENT_FIELDS = (
    "seq", "id", "hash", "type", "time", "day", "line", "batch", "holder", "counterparty",
    "partner", "hs", "origin", "quantity", "unit", "mass_kg", "amount", "currency", "post",
    "mrn", "document", "target", "target_seq",
)  # fmt: skip
BATCH_FIELDS = ("seq", "batch", "hs", "origin", "unit", "description")


@dataclass
class Flat:
    """The rows one stretch of the ledger flattens to."""

    events: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)


def exact(value: Decimal | None, name: str, event_id: str) -> Decimal | None:
    """The value at the stored scale; more decimal places are an error, never a rounding."""
    if value is None:
        return None
    kept = value.quantize(_EXACT)
    if kept != value:
        raise AnalyticsError(
            f"event {event_id}: {name} {value} has more than {SCALE} decimal places"
        )
    if abs(kept) >= _LIMIT:
        raise AnalyticsError(
            f"event {event_id}: {name} {value} is out of range (at most {PRECISION - SCALE} "
            "digits before the decimal point)"
        )
    return kept


def utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def base(seq: int, digest: str, e: ev.Event) -> dict[str, Any]:
    when = utc(e.time)
    row: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
    row.update(seq=seq, id=e.id, hash=digest, type=ev_type(e), time=when, day=when.date())
    return row


def ev_type(e: ev.Event) -> str:
    return str(type(e).__struct_config__.tag)


def money(row: dict[str, Any], m: ev.Money, event_id: str) -> None:
    row["amount"] = exact(m.amount, "value.amount", event_id)
    row["currency"] = m.currency


def goods_row(seq: int, batch: str, g: ev.Goods) -> dict[str, Any]:
    return {
        "seq": seq,
        "batch": batch,
        "hs": g.hs,
        "origin": g.origin,
        "unit": g.unit,
        "description": g.description,
    }


def _import(row: dict[str, Any], e: ev.Import, out: Flat) -> None:
    row.update(
        batch=e.batch,
        holder=e.holder,
        counterparty=e.seller.tax_id,
        partner=e.seller.country,
        hs=e.goods.hs,
        origin=e.goods.origin,
        unit=e.goods.unit,
        quantity=exact(e.quantity, "quantity", e.id),
        mass_kg=exact(e.mass_kg, "mass_kg", e.id),
        post=e.post,
        document=e.document.number,
    )
    money(row, e.value, e.id)
    out.events.append(row)
    out.batches.append(goods_row(row["seq"], e.batch, e.goods))


def _dispatch(row: dict[str, Any], e: ev.Dispatch, out: Flat) -> None:
    row.update(
        batch=e.batch,
        holder=e.holder,
        counterparty=e.buyer.tax_id,
        partner=e.buyer.country,
        quantity=exact(e.quantity, "quantity", e.id),
        mass_kg=exact(e.mass_kg, "mass_kg", e.id),
        post=e.post,
        document=e.document.number,
    )
    money(row, e.value, e.id)
    out.events.append(row)


def _transfer(row: dict[str, Any], e: ev.Transfer, out: Flat) -> None:
    row.update(
        batch=e.batch,
        holder=e.from_,
        counterparty=e.to,
        quantity=exact(e.quantity, "quantity", e.id),
        mass_kg=exact(e.mass_kg, "mass_kg", e.id),
        document=e.document.number,
    )
    money(row, e.value, e.id)
    out.events.append(row)


def _transform(row: dict[str, Any], e: ev.Transform, out: Flat) -> None:
    for n, o in enumerate(e.outputs):
        line = dict(row, line=n, batch=o.batch, holder=e.holder, hs=o.goods.hs)
        line.update(origin=o.goods.origin, unit=o.goods.unit)
        line["quantity"] = exact(o.quantity, f"outputs[{n}].quantity", e.id)
        out.events.append(line)
        out.batches.append(goods_row(row["seq"], o.batch, o.goods))


def _transit(row: dict[str, Any], e: ev.TransitOpen, out: Flat) -> None:
    for n, g in enumerate(e.goods):
        line = dict(row, line=n, mrn=e.mrn, holder=e.carrier.tax_id, post=e.entry_post)
        line.update(counterparty=e.consignee.tax_id, partner=e.destination, hs=g.hs, unit=g.unit)
        line["quantity"] = exact(g.quantity, f"goods[{n}].quantity", e.id)
        line["mass_kg"] = exact(g.mass_kg, f"goods[{n}].mass_kg", e.id)
        money(line, g.value, e.id)
        out.events.append(line)


def _stock(row: dict[str, Any], e: ev.WriteOff | ev.Adjust, out: Flat) -> None:
    row.update(batch=e.batch, holder=e.holder, quantity=exact(e.quantity, "quantity", e.id))
    out.events.append(row)


def _movement(row: dict[str, Any], e: ev.Checkpoint | ev.TransitClose, out: Flat) -> None:
    row.update(mrn=e.mrn, post=e.post, mass_kg=exact(e.mass_kg, "mass_kg", e.id))
    out.events.append(row)


def _receipt(row: dict[str, Any], e: ev.Receipt, out: Flat) -> None:
    row.update(target=e.ref, partner=e.country, document=e.document.number)
    row["quantity"] = exact(e.quantity, "quantity", e.id)
    row["mass_kg"] = exact(e.mass_kg, "mass_kg", e.id)
    out.events.append(row)


def _cancel(row: dict[str, Any], e: ev.Cancel, out: Flat) -> None:
    row["target"] = e.target
    out.events.append(row)


def _other(row: dict[str, Any], e: ev.Event, out: Flat) -> None:
    row["mrn"] = getattr(e, "mrn", None)
    out.events.append(row)


def flatten_one(seq: int, digest: str, e: ev.Event, out: Flat) -> None:
    row = base(seq, digest, e)
    if isinstance(e, ev.Import):  # arrival too
        _import(row, e, out)
    elif isinstance(e, ev.Dispatch):  # export too
        _dispatch(row, e, out)
    elif isinstance(e, ev.Transfer):
        _transfer(row, e, out)
    elif isinstance(e, ev.Transform):
        _transform(row, e, out)
    elif isinstance(e, ev.TransitOpen):
        _transit(row, e, out)
    elif isinstance(e, ev.WriteOff | ev.Adjust):
        _stock(row, e, out)
    elif isinstance(e, ev.Checkpoint | ev.TransitClose):
        _movement(row, e, out)
    elif isinstance(e, ev.Receipt):
        _receipt(row, e, out)
    elif isinstance(e, ev.Cancel):
        _cancel(row, e, out)
    else:
        _other(row, e, out)


def resolve(
    out: Flat,
    batches: Callable[[set[str]], dict[str, tuple[str, str, str]]],
    seqs: Callable[[set[str]], dict[str, int]],
) -> None:
    """Copy each batch's HS code, origin and unit onto the rows that name the batch without
    goods, and each cancel's target seq onto it: from this stretch first, then from `batches`
    and `seqs` (the ledger) for what earlier stretches made. Unknown ones stay null."""
    goods = {b["batch"]: (b["hs"], b["origin"], b["unit"]) for b in out.batches}
    need = {r["batch"] for r in out.events if r["hs"] is None and r["batch"]} - set(goods)
    if need:
        goods.update(batches(need))
    local = {r["id"]: r["seq"] for r in out.events}
    targets = {r["target"] for r in out.events if r["type"] == "cancel" and r["target"]}
    found = {t: local[t] for t in targets if t in local}
    if targets - set(found):
        found.update(seqs(targets - set(found)))
    for r in out.events:
        if r["hs"] is None and r["batch"] in goods:
            hs, origin, unit = goods[r["batch"]]
            r["hs"], r["origin"], r["unit"] = hs, r["origin"] or origin, r["unit"] or unit
        if r["type"] == "cancel":
            r["target_seq"] = found.get(r["target"])


def month_of(d: date) -> tuple[int, int]:
    return d.year, d.month
