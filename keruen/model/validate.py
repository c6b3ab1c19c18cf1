"""Decoding and validating one event: every rejection names the field and the reason.

`parse` turns the bytes of one JSON object into a typed event plus its canonical form: the
JSON of the event as submitted (unknown fields kept), with contract fields normalised
(decimals as strings, times in RFC 3339), keys sorted. The canonical bytes are what the
ledger stores, hashes and compares for idempotency.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

import msgspec

from keruen import reference
from keruen.errors import InvalidEvent
from keruen.jurisdiction import Jurisdiction
from keruen.model import events as ev
from keruen.model import strict
from keruen.settings import get_settings

MAX_QUANTITY = Decimal("1e15")
MAX_DECIMALS = 6
# bounds on what one line may hold: a real event is a few kilobytes, nested a few levels
MAX_LINE_BYTES = 1 << 20
MAX_DEPTH = 64
BOM = b"\xef\xbb\xbf"
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")

_typed = msgspec.json.Decoder(ev.AnyEvent)
_raw = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(order="sorted")
_MSGSPEC_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


class Parsed(msgspec.Struct, frozen=True):
    """An event as the ledger judges it: typed, its canonical bytes and their digest. (A
    Struct: made once per line, 0.04 µs where a frozen dataclass took 1.)"""

    event: ev.Event
    canonical: bytes
    digest: str


def parse(line: bytes | str, jurisdiction: Jurisdiction | None = None) -> Parsed:
    """Decode and validate one event, or raise `InvalidEvent` naming the field and the reason.

    The checks against the home country are `jurisdiction`'s, by default the configured one
    (`KERUEN_JURISDICTION`).

    Whatever the bytes, the only exception is `InvalidEvent`: a line the checks below did not
    foresee still ends as a rejection with a reason, never as a crash of the whole ingest.
    """
    try:
        return _parse(line, jurisdiction or get_settings().jurisdiction)
    except InvalidEvent:
        raise
    except Exception as e:  # the ingest boundary: one line never takes the others down
        reason = f"cannot be read as an event ({type(e).__name__}: {e})"[:300]
        raise InvalidEvent("", reason) from None


def _parse(line: bytes | str, jurisdiction: Jurisdiction) -> Parsed:
    line = _bounded(line)
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
    typed = msgspec.to_builtins(event, builtin_types=(Decimal, datetime))
    canonical = _encoder.encode(_merge(raw, _canonical(typed)))
    if b"\\u0000" in canonical and (where := _nul_at(raw)) is not None:
        # PostgreSQL's text cannot hold it, and no identifier or name needs it
        raise InvalidEvent(where, "a NUL character (\\u0000) is not allowed", event_id)
    return Parsed(event, canonical, hashlib.sha256(canonical).hexdigest())


# What a parse worker process sends back per line: (canonical, digest) or (field, reason, id)
Outcome = tuple[bytes, str] | tuple[str, str, str | None]


def parse_many(lines: list[bytes], jurisdiction: Jurisdiction) -> list[Outcome]:
    """`parse` for many lines, in a form cheap to send between processes; the jurisdiction is
    passed, not read from the parse process's settings."""
    out: list[Outcome] = []
    for line in lines:
        if (fast := _parse_strict(line, jurisdiction)) is not None:
            out.append(fast)
            continue
        try:
            p = parse(line, jurisdiction)
        except InvalidEvent as e:
            out.append((e.field, e.reason, e.event_id))
        else:
            out.append((p.canonical, p.digest))
    return out


def _parse_strict(line: bytes, jurisdiction: Jurisdiction) -> tuple[bytes, str] | None:
    """`parse`'s answer for a line with no field beyond the contract (but a canonical
    `epcis`, see `keruen.model.strict`) and no `null`, or None (then `parse` says what the
    line is). Such a line's canonical form is its typed event alone: no raw decode, no merge
    (40 % of the parse's time)."""
    if line[:3] == BOM or len(line) > MAX_LINE_BYTES:
        return None
    event = strict.decode(line)
    if event is None:
        return None
    if _CHECKS[type(event)](event, jurisdiction):  # (`first_problem`, one call fewer)
        return None
    if getattr(event, strict.KEPT) is not msgspec.UNSET and not _kept_as_parsed(line, event):
        return None
    try:
        if not strict.normalise(event):
            return None
    except OverflowError:  # a time in year 1 at +05:00 (before year 1 in UTC): parse says so
        return None
    canonical = _encoder.encode(event)
    # (a backslash first: one byte's search, and `find`, as `in` tries the bytes as an int)
    if canonical.find(b"\\") >= 0 and b"\\u0000" in canonical:
        return None
    return canonical, hashlib.sha256(canonical).hexdigest()


def _kept_as_parsed(line: bytes, event: ev.Event) -> bool:
    """Whether a line's kept `epcis` is as the full parse writes it, and nested within the
    bound `_bounded` sets (a twin alone nests a few levels)."""
    return line.count(b"[") + line.count(b"{") <= MAX_DEPTH and strict.kept_is_canonical(event)


def decode_stored(canonical: bytes) -> ev.Event:
    """A stored event, typed, without judging it again: it passed the checks when it was
    admitted (a ledger written under one jurisdiction stays readable under another)."""
    return _typed.decode(canonical)


def parse_object(obj: dict[str, Any], jurisdiction: Jurisdiction | None = None) -> Parsed:
    """As `parse`, for an already decoded JSON object (API, EPCIS conversion)."""
    return parse(_encoder.encode(obj), jurisdiction)


def _bounded(line: bytes | str) -> bytes:
    """The line as bytes without a UTF-8 byte-order mark, once its size and nesting are
    known to be within bounds (deep nesting would exhaust the decoder's recursion)."""
    data = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if len(data) > MAX_LINE_BYTES:
        raise InvalidEvent("", f"the line is longer than the limit of {MAX_LINE_BYTES:,} bytes")
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise InvalidEvent("", f"JSON nested deeper than the limit of {MAX_DEPTH} levels")
    return data


def _depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", data)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _nul_at(value: Any, path: str = "") -> str | None:
    """The dotted path of the first field whose name or text holds a NUL character (the NUL
    itself written as \\u0000, so the reason can be stored anywhere), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else (k or '""')
            if "\x00" in k:
                return here.replace("\x00", "\\u0000")
            if (found := _nul_at(v, here)) is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _nul_at(v, f"{path}[{i}]")) is not None:
                return found
    return None


def decode_object(line: bytes | str) -> dict[str, Any]:
    try:
        raw = _raw.decode(line)
    except msgspec.DecodeError as e:
        raise InvalidEvent("", f"malformed JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise InvalidEvent("", f"not UTF-8: byte {e.start} cannot be decoded") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("", "an event must be a JSON object")
    kind = raw.get("type")
    if "type" in raw and not (isinstance(kind, str) and kind in ev.EVENT_TYPES):
        known = ", ".join(ev.EVENT_TYPES)
        raise InvalidEvent(
            "type",
            f"unknown event type {repr(kind)[:80]} (one of: {known})",
            raw.get("id") if isinstance(raw.get("id"), str) else None,
        )
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


def _canonical(value: Any) -> Any:
    """Equal values written alike: an instant in UTC whatever offset it was sent in
    (`10:00:00+06:00` is `04:00:00Z`), a decimal in its shortest plain notation (`1000000.00`
    and `1E+6` are `1000000`), so a retry in another notation is the same event."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def decimal_text(q: Decimal) -> str:
    """The shortest plain notation of a finite decimal: no exponent, no trailing zeros."""
    return "0" if q == 0 else format(q.normalize(), "f")


def _merge(raw: Any, typed: Any) -> Any:
    """The normalised contract fields, plus the unknown fields the submitter sent."""
    if isinstance(raw, dict) and isinstance(typed, dict):
        out = dict(typed)
        for key, value in raw.items():
            if key not in out:
                out[key] = value
            elif isinstance(value, dict | list):
                out[key] = _merge(value, out[key])
        return out
    if isinstance(raw, list) and isinstance(typed, list) and len(raw) == len(typed):
        return [_merge(r, t) for r, t in zip(raw, typed, strict=True)]
    return typed


# --- checks against code lists and the jurisdiction -------------------------------------
# Each check returns the first problem or None; `or` chains stop at the first problem, and
# field names are only built when something is wrong (this runs for every event).

Problem = tuple[str, str] | None


def first_problem(event: ev.Event, j: Jurisdiction | None = None) -> Problem:
    """The first thing wrong with a structurally valid event, or None."""
    check = _CHECKS.get(type(event))
    return check(event, j or get_settings().jurisdiction) if check else None


def _at(prefix: str, problem: Problem) -> Problem:
    return (f"{prefix}.{problem[0]}", problem[1]) if problem else None


def quantity_problem(field: str, q: Decimal, *, signed: bool = False) -> Problem:
    if not q.is_finite():
        return field, "must be a finite decimal"
    if abs(q) > MAX_QUANTITY:
        return field, f"must not exceed {MAX_QUANTITY:,.0f}"
    # a whole quantity (most are) has no decimal places to count, and quantize is the dearer
    if q != q.to_integral_value() and q != q.quantize(_STEP, rounding=ROUND_DOWN):
        return field, f"has more than {MAX_DECIMALS} decimal places"
    if signed and q == 0:
        return field, "must not be zero"
    if not signed and q <= 0:
        return field, "must be greater than zero"
    return None


_STEP = Decimal(1).scaleb(-MAX_DECIMALS)


def _amount(field: str, q: Decimal) -> Problem:
    if not q.is_finite() or q < 0:
        return field, "must be a finite, non-negative decimal"
    if q > _MAX_AMOUNT:
        return field, "is implausibly large"
    return None


_MAX_AMOUNT = MAX_QUANTITY * 1000


def _country(field: str, code: str) -> Problem:
    return (
        None if code in reference.countries() else (field, f"{code!r} is not an ISO 3166-1 country")
    )


def _hs(field: str, code: str) -> Problem:
    if not (code.isascii() and code.isdigit()):
        return field, f"{code!r} is not an HS code (6 to 10 digits)"
    if code[:6] in reference.hs_subheadings():
        return None
    return field, f"{code!r}: HS subheading {code[:6]} does not exist in the HS nomenclature"


def _unit(field: str, code: str) -> Problem:
    return (
        None if code in reference.units() else (field, f"{code!r} is not a UN/ECE Rec 20 unit code")
    )


def _post(field: str, code: str, j: Jurisdiction) -> Problem:
    return None if code in j.posts else (field, f"{code!r} is not a known border post")


def _tax_id(field: str, tax_id: str, j: Jurisdiction) -> Problem:
    problem = j.checked_tax_ids[tax_id]  # (`j.tax_id_problem`, one call fewer: two a line)
    return (field, f"{tax_id!r} {problem}") if problem else None


def _party(p: ev.Party, j: Jurisdiction) -> Problem:
    """A home-country party is identified by its checked tax id; a foreign one may have none
    (its name and country identify it), and its tax id follows no rule we know."""
    if p.country != j.home:
        return _country("country", p.country)
    if p.tax_id is None:
        return "tax_id", f"required for a party in {j.home} (the home country)"
    return _tax_id("tax_id", p.tax_id, j)


def _goods(g: ev.Goods) -> Problem:
    return (
        _hs("hs", g.hs)
        or _unit("unit", g.unit)
        or _country("origin", g.origin)
        or (
            _country("manufacturer_country", g.manufacturer_country)
            if g.manufacturer_country
            else None
        )
    )


def _money(m: ev.Money, t: datetime) -> Problem:
    return _currency("currency", m.currency, t) or _amount("amount", m.amount)


def _currency(field: str, code: str, t: datetime) -> Problem:
    """An ISO 4217 code in use at the event's time (a withdrawn code only before its
    withdrawal: an invoice of 2022 in Croatian kuna is right, one of 2024 is not)."""
    known = reference.currencies()
    if code not in known:
        return field, f"{code!r} is not an ISO 4217 currency code"
    withdrawn = known[code]
    if withdrawn is not None and t.astimezone(UTC).date() >= withdrawn:
        return field, f"{code!r} is withdrawn from ISO 4217 (not in use from {withdrawn})"
    return None


def _whole(field: str, q: Decimal, unit: str) -> Problem:
    """A count (pieces, sets, pairs) is a whole number."""
    if unit in reference.COUNT_UNITS and q != q.to_integral_value():
        return field, f"{unit} counts whole units; {q} is not a whole number"
    return None


def _mass(field: str, mass: Decimal | None) -> Problem:
    return None if mass is None else _amount(field, mass)


def _origin(e: ev.Import, j: Jurisdiction) -> Problem:
    country = e.seller.country
    if isinstance(e, ev.Arrival):
        if country not in j.partners:
            return "seller.country", f"an arrival comes from a customs union partner, not {country}"
        return None
    if country in j.union:
        return "seller.country", f"an import comes from outside the customs union, not {country}"
    problem = j.declaration_problem(e.batch)
    return ("batch", problem) if problem else None


def _check_import(e: ev.Import, j: Jurisdiction) -> Problem:
    return (
        _tax_id("holder", e.holder, j)
        or _at("goods", _goods(e.goods))
        or quantity_problem("quantity", e.quantity)
        or _whole("quantity", e.quantity, e.goods.unit)
        or _at("value", _money(e.value, e.time))
        or _at("seller", _party(e.seller, j))
        or _origin(e, j)
        or _post("post", e.post, j)
        or _mass("mass_kg", e.mass_kg)
    )


def _check_transfer(e: ev.Transfer, j: Jurisdiction) -> Problem:
    if e.from_ == e.to:
        return "to", "a transfer needs two different holders"
    return (
        _tax_id("from", e.from_, j)
        or _tax_id("to", e.to, j)
        or quantity_problem("quantity", e.quantity)
        or _at("value", _money(e.value, e.time))
        or _mass("mass_kg", e.mass_kg)
    )


def _check_transform(e: ev.Transform, j: Jurisdiction) -> Problem:
    inputs = [p.batch for p in e.inputs]
    problem = (
        _tax_id("holder", e.holder, j)
        or _duplicate("inputs", inputs)
        or _duplicate("outputs", [o.batch for o in e.outputs])
    )
    for i, p in enumerate(e.inputs):
        problem = problem or quantity_problem(f"inputs[{i}].quantity", p.quantity)
    for i, o in enumerate(e.outputs):
        if not problem and o.batch in inputs:
            problem = (
                f"outputs[{i}].batch",
                f"{o.batch!r} is also an input; outputs are new batches",
            )
        problem = (
            problem
            or _at(f"outputs[{i}].goods", _goods(o.goods))
            or quantity_problem(f"outputs[{i}].quantity", o.quantity)
            or _whole(f"outputs[{i}].quantity", o.quantity, o.goods.unit)
        )
    return problem


def _duplicate(field: str, values: list[str]) -> Problem:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            return f"{field}[{i}].batch", f"{v!r} is listed twice"
        seen.add(v)
    return None


def _destination(e: ev.Dispatch, j: Jurisdiction) -> Problem:
    country = e.buyer.country
    if isinstance(e, ev.Export):
        if country in j.union:
            return (
                "buyer.country",
                f"an export leaves the customs union; {country} is a member (use dispatch)",
            )
    elif country not in j.partners:
        return (
            "buyer.country",
            f"a dispatch goes to a customs union partner, not {country} (use export)",
        )
    return None


def _check_dispatch(e: ev.Dispatch, j: Jurisdiction) -> Problem:
    return (
        _tax_id("holder", e.holder, j)
        or quantity_problem("quantity", e.quantity)
        or _at("value", _money(e.value, e.time))
        or _at("buyer", _party(e.buyer, j))
        or _destination(e, j)
        or _post("post", e.post, j)
        or _mass("mass_kg", e.mass_kg)
    )


def _check_write_off(e: ev.WriteOff, j: Jurisdiction) -> Problem:
    return _tax_id("holder", e.holder, j) or quantity_problem("quantity", e.quantity)


def _check_adjust(e: ev.Adjust, j: Jurisdiction) -> Problem:
    return _tax_id("holder", e.holder, j) or quantity_problem("quantity", e.quantity, signed=True)


def _check_transit_goods(i: int, g: ev.TransitGoods, t: datetime) -> Problem:
    return _at(
        f"goods[{i}]",
        _hs("hs", g.hs)
        or _unit("unit", g.unit)
        or quantity_problem("quantity", g.quantity)
        or _whole("quantity", g.quantity, g.unit)
        or _amount("mass_kg", g.mass_kg)
        or _at("value", _money(g.value, t)),
    )


def _check_transit_open(e: ev.TransitOpen, j: Jurisdiction) -> Problem:
    problem = (
        _post("entry_post", e.entry_post, j)
        or _post("exit_post", e.exit_post, j)
        or _country("destination", e.destination)
        or _at("carrier", _party(e.carrier, j))
        or _at("consignee", _party(e.consignee, j))
    )
    if not problem and e.deadline <= e.time:
        problem = "deadline", "must be later than the declaration time"
    if not problem and len(set(e.seals)) != len(e.seals):
        problem = "seals", "a seal is listed twice"
    for i, g in enumerate(e.goods):
        problem = problem or _check_transit_goods(i, g, e.time)
    if not problem and e.guarantee:
        guarantee = e.guarantee
        problem = _currency("guarantee.currency", guarantee.currency, e.time) or _amount(
            "guarantee.amount", guarantee.amount
        )
    return problem


def _check_passage(e: ev.Checkpoint | ev.TransitClose, j: Jurisdiction) -> Problem:
    return _post("post", e.post, j) or _amount("mass_kg", e.mass_kg)


def _check_receipt(e: ev.Receipt, j: Jurisdiction) -> Problem:
    if e.quantity is None and e.mass_kg is None:
        return "quantity", "a receipt states the quantity or the mass_kg received"
    return (
        _country("country", e.country)
        or (quantity_problem("quantity", e.quantity) if e.quantity is not None else None)
        or _mass("mass_kg", e.mass_kg)
    )


def _check_cancel(e: ev.Cancel, j: Jurisdiction) -> Problem:
    return ("target", "an event cannot cancel itself") if e.target == e.id else None


def _no_checks(e: ev.Event, j: Jurisdiction) -> Problem:
    return None


_CHECKS: dict[type[ev.Event], Callable[[Any, Jurisdiction], Problem]] = {
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
_CHECKS.update({strict.STRICT_TYPES[cls]: check for cls, check in list(_CHECKS.items())})
