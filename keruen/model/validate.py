"""Decoding and validating one event: every rejection names the field and the reason.

`parse` turns the bytes of one JSON object into a typed event plus its canonical form: the
JSON of the event as submitted (unknown fields kept), with contract fields normalised
(decimals as strings, times in RFC 3339), keys sorted. The canonical bytes are what the
ledger stores, hashes and compares for idempotency.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from keruen import reference
from keruen.errors import InvalidEvent
from keruen.jurisdiction import KAZAKHSTAN, Jurisdiction
from keruen.model import events as ev

MAX_QUANTITY = Decimal("1e15")
MAX_DECIMALS = 6
IMPORT_BATCH = re.compile(r"^(\d{5})/(\d{2})(\d{2})(\d{2})/(\d{7})/(\d{3})$")

_typed = msgspec.json.Decoder(ev.AnyEvent)
_raw = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(order="sorted")
_MSGSPEC_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


@dataclass(frozen=True, slots=True)
class Parsed:
    event: ev.Event
    canonical: bytes
    digest: str


def parse(line: bytes | str, jurisdiction: Jurisdiction = KAZAKHSTAN) -> Parsed:
    """Decode and validate one event, or raise `InvalidEvent` naming the field and the reason."""
    raw = decode_object(line)
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    try:
        event = _typed.decode(line)
    except msgspec.ValidationError as e:
        field, reason = _explain(str(e))
        raise InvalidEvent(field, reason, event_id) from None
    problem = first_problem(event, jurisdiction)
    if problem:
        raise InvalidEvent(problem[0], problem[1], event_id)
    canonical = _encoder.encode(_merge(raw, msgspec.to_builtins(event)))
    return Parsed(event, canonical, hashlib.sha256(canonical).hexdigest())


def parse_object(obj: dict[str, Any], jurisdiction: Jurisdiction = KAZAKHSTAN) -> Parsed:
    """As `parse`, for an already decoded JSON object (API, EPCIS conversion)."""
    return parse(_encoder.encode(obj), jurisdiction)


def decode_object(line: bytes | str) -> dict[str, Any]:
    try:
        raw = _raw.decode(line)
    except msgspec.DecodeError as e:
        raise InvalidEvent("", f"malformed JSON: {e}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("", "an event must be a JSON object")
    if "type" in raw and raw["type"] not in ev.EVENT_TYPES:
        known = ", ".join(ev.EVENT_TYPES)
        raise InvalidEvent("type", f"unknown event type {raw['type']!r} (one of: {known})",
                           raw.get("id") if isinstance(raw.get("id"), str) else None)
    return raw


def _explain(message: str) -> tuple[str, str]:
    m = _MSGSPEC_AT.match(message)
    msg, path = (m.group("msg"), m.group("path") or "") if m else (message, "")
    field = _path(path)
    missing = _MISSING.match(msg)
    if missing:
        name = missing.group("name")
        return (f"{field}.{name}" if field else name), "required field is missing"
    msg = msg.replace("`", "")
    return field, msg[0].lower() + msg[1:] if msg else msg


def _path(path: str) -> str:
    """`$.goods[0].hs` -> `goods[0].hs`."""
    return path.lstrip(".")


def _merge(raw: Any, typed: Any) -> Any:
    """The submitted object with contract fields replaced by their normalised values."""
    if isinstance(raw, dict) and isinstance(typed, dict):
        out = dict(raw)
        for key, value in typed.items():
            out[key] = _merge(raw.get(key), value)
        return out
    if isinstance(raw, list) and isinstance(typed, list) and len(raw) == len(typed):
        return [_merge(r, t) for r, t in zip(raw, typed, strict=True)]
    return typed


# --- checks against code lists and the jurisdiction -------------------------------------

Problem = tuple[str, str] | None


def first_problem(event: ev.Event, j: Jurisdiction = KAZAKHSTAN) -> Problem:
    """The first thing wrong with a structurally valid event, or None."""
    check = _CHECKS.get(type(event))
    return _first(check(event, j)) if check else None


def _first(problems: Iterable[Problem]) -> Problem:
    return next((p for p in problems if p), None)


def quantity_problem(field: str, q: Decimal, *, signed: bool = False) -> Problem:
    if not q.is_finite():
        return field, "must be a finite decimal"
    if abs(q) > MAX_QUANTITY:
        return field, f"must not exceed {MAX_QUANTITY:,.0f}"
    if q.as_tuple().exponent < -MAX_DECIMALS:  # type: ignore[operator]
        return field, f"has more than {MAX_DECIMALS} decimal places"
    if signed and q == 0:
        return field, "must not be zero"
    if not signed and q <= 0:
        return field, "must be greater than zero"
    return None


def _amount(field: str, q: Decimal) -> Problem:
    if not q.is_finite() or q < 0:
        return field, "must be a finite, non-negative decimal"
    if q > MAX_QUANTITY * 1000:
        return field, "is implausibly large"
    return None


def _country(field: str, code: str) -> Problem:
    return None if code in reference.countries() else (field, f"{code!r} is not an ISO 3166-1 country")


def _hs(field: str, code: str) -> Problem:
    if code[:6] in reference.hs_subheadings():
        return None
    return field, f"{code!r}: HS subheading {code[:6]} does not exist in the HS nomenclature"


def _unit(field: str, code: str) -> Problem:
    return None if code in reference.units() else (field, f"{code!r} is not a UN/ECE Rec 20 unit code")


def _post(field: str, code: str) -> Problem:
    return None if code in reference.posts() else (field, f"{code!r} is not a known border post")


def _tax_id(field: str, tax_id: str, j: Jurisdiction) -> Problem:
    problem = j.tax_id_problem(tax_id)
    return (field, f"{tax_id!r} {problem}") if problem else None


def _party(field: str, p: ev.Party, j: Jurisdiction) -> Iterable[Problem]:
    yield _country(f"{field}.country", p.country)
    if p.country == j.home:
        yield _tax_id(f"{field}.tax_id", p.tax_id, j)


def _goods(field: str, g: ev.Goods) -> Iterable[Problem]:
    yield _hs(f"{field}.hs", g.hs)
    yield _unit(f"{field}.unit", g.unit)
    yield _country(f"{field}.origin", g.origin)
    if g.manufacturer_country:
        yield _country(f"{field}.manufacturer_country", g.manufacturer_country)


def _money(field: str, m: ev.Money) -> Problem:
    return _amount(f"{field}.amount", m.amount)


def _mass(field: str, mass: Decimal | None) -> Problem:
    return None if mass is None else _amount(field, mass)


def _import_batch(batch: str) -> Problem:
    m = IMPORT_BATCH.match(batch)
    if not m:
        return "batch", f"{batch!r} is not a declaration item number office/ddmmyy/number/item"
    day, month, year = int(m.group(2)), int(m.group(3)), 2000 + int(m.group(4))
    try:
        date(year, month, day)
    except ValueError:
        return "batch", f"{batch!r}: ddmmyy is not a date"
    return None


def _check_import(e: ev.Import, j: Jurisdiction) -> Iterable[Problem]:
    if isinstance(e, ev.Arrival):
        if e.seller.country not in j.partners:
            yield "seller.country", f"an arrival comes from a customs union partner, not {e.seller.country}"
    else:
        yield _import_batch(e.batch)
        if e.seller.country in j.union:
            yield "seller.country", f"an import comes from outside the customs union, not {e.seller.country}"
    yield _tax_id("holder", e.holder, j)
    yield from _goods("goods", e.goods)
    yield quantity_problem("quantity", e.quantity)
    yield _money("value", e.value)
    yield from _party("seller", e.seller, j)
    yield _post("post", e.post)
    yield _mass("mass_kg", e.mass_kg)


def _check_transfer(e: ev.Transfer, j: Jurisdiction) -> Iterable[Problem]:
    yield _tax_id("from", e.from_, j)
    yield _tax_id("to", e.to, j)
    if e.from_ == e.to:
        yield "to", "a transfer needs two different holders"
    yield quantity_problem("quantity", e.quantity)
    yield _money("value", e.value)
    yield _mass("mass_kg", e.mass_kg)


def _check_transform(e: ev.Transform, j: Jurisdiction) -> Iterable[Problem]:
    yield _tax_id("holder", e.holder, j)
    inputs = [p.batch for p in e.inputs]
    outputs = [o.batch for o in e.outputs]
    yield _duplicate("inputs", inputs)
    yield _duplicate("outputs", outputs)
    for i, p in enumerate(e.inputs):
        yield quantity_problem(f"inputs[{i}].quantity", p.quantity)
    for i, o in enumerate(e.outputs):
        if o.batch in inputs:
            yield f"outputs[{i}].batch", f"{o.batch!r} is also an input; outputs are new batches"
        yield from _goods(f"outputs[{i}].goods", o.goods)
        yield quantity_problem(f"outputs[{i}].quantity", o.quantity)


def _duplicate(field: str, values: list[str]) -> Problem:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            return f"{field}[{i}].batch", f"{v!r} is listed twice"
        seen.add(v)
    return None


def _check_dispatch(e: ev.Dispatch, j: Jurisdiction) -> Iterable[Problem]:
    if isinstance(e, ev.Export):
        if e.buyer.country in j.union:
            yield "buyer.country", f"an export leaves the customs union; {e.buyer.country} is a member (use dispatch)"
    elif e.buyer.country not in j.partners:
        yield "buyer.country", f"a dispatch goes to a customs union partner, not {e.buyer.country} (use export)"
    yield _tax_id("holder", e.holder, j)
    yield quantity_problem("quantity", e.quantity)
    yield _money("value", e.value)
    yield from _party("buyer", e.buyer, j)
    yield _post("post", e.post)
    yield _mass("mass_kg", e.mass_kg)


def _check_write_off(e: ev.WriteOff, j: Jurisdiction) -> Iterable[Problem]:
    yield _tax_id("holder", e.holder, j)
    yield quantity_problem("quantity", e.quantity)


def _check_adjust(e: ev.Adjust, j: Jurisdiction) -> Iterable[Problem]:
    yield _tax_id("holder", e.holder, j)
    yield quantity_problem("quantity", e.quantity, signed=True)


def _check_transit_open(e: ev.TransitOpen, j: Jurisdiction) -> Iterable[Problem]:
    yield _post("entry_post", e.entry_post)
    yield _post("exit_post", e.exit_post)
    yield _country("destination", e.destination)
    if e.deadline <= e.time:
        yield "deadline", "must be later than the declaration time"
    yield from _party("carrier", e.carrier, j)
    yield from _party("consignee", e.consignee, j)
    if len(set(e.seals)) != len(e.seals):
        yield "seals", "a seal is listed twice"
    for i, g in enumerate(e.goods):
        yield _hs(f"goods[{i}].hs", g.hs)
        yield _unit(f"goods[{i}].unit", g.unit)
        yield quantity_problem(f"goods[{i}].quantity", g.quantity)
        yield _amount(f"goods[{i}].mass_kg", g.mass_kg)
        yield _money(f"goods[{i}].value", g.value)
    if e.guarantee:
        yield _amount("guarantee.amount", e.guarantee.amount)


def _check_passage(e: ev.Checkpoint | ev.TransitClose, j: Jurisdiction) -> Iterable[Problem]:
    yield _post("post", e.post)
    yield _amount("mass_kg", e.mass_kg)


def _check_receipt(e: ev.Receipt, j: Jurisdiction) -> Iterable[Problem]:
    yield _country("country", e.country)
    if e.quantity is None and e.mass_kg is None:
        yield "quantity", "a receipt states the quantity or the mass_kg received"
    if e.quantity is not None:
        yield quantity_problem("quantity", e.quantity)
    yield _mass("mass_kg", e.mass_kg)


def _check_cancel(e: ev.Cancel, j: Jurisdiction) -> Iterable[Problem]:
    if e.target == e.id:
        yield "target", "an event cannot cancel itself"


def _no_checks(e: ev.Event, j: Jurisdiction) -> Iterable[Problem]:
    return ()


_CHECKS: dict[type[ev.Event], Callable[[Any, Jurisdiction], Iterable[Problem]]] = {
    ev.Import: _check_import,
    ev.Arrival: _check_import,
    ev.Transfer: _check_transfer,
    ev.Transform: _check_transform,
    ev.Dispatch: _check_dispatch,
    ev.Export: _check_dispatch,
    ev.WriteOff: _check_write_off,
    ev.Adjust: _check_adjust,
    ev.TransitOpen: _check_transit_open,
    ev.SealPing: _no_checks,
    ev.Checkpoint: _check_passage,
    ev.TransitClose: _check_passage,
    ev.Incident: _no_checks,
    ev.Receipt: _check_receipt,
    ev.Cancel: _check_cancel,
}
