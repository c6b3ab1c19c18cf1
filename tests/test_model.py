"""The event contract: what is accepted, and what is refused with which field and reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keruen.errors import InvalidEvent
from keruen.jurisdiction import kz_bin_problem
from keruen.model.events import EVENT_TYPES, json_schema
from keruen.model.validate import MAX_DECIMALS, MAX_QUANTITY, parse, quantity_problem
from keruen.settings import get_settings
from tests import factory as f

DOCS = Path(__file__).parent.parent / "docs"


def with_(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with the dotted `path` set to `value` (None removes it)."""
    event = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    node = event
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return event


IMPORT = f.import_("e1", "55501/010324/0000001/001")

# (change, expected field, a word of the reason)
INVALID = [
    (("batch", None), "batch", "required"),
    (("quantity", "abc"), "quantity", "decimal"),
    (("quantity", 0), "quantity", "greater than zero"),
    (("quantity", "-5"), "quantity", "greater than zero"),
    (("quantity", "1.0000001"), "quantity", "decimal places"),
    (("quantity", "NaN"), "quantity", "finite"),
    (("quantity", True), "quantity", "bool"),
    (("time", "2024-03-01T10:00:00"), "time", "timezone"),
    (("time", "yesterday"), "time", "RFC3339"),
    (("holder", "123456789012"), "holder", "check digit"),
    (("holder", "12345"), "holder", "12 digits"),
    (("goods.hs", "8542"), "goods.hs", "length"),
    (("goods.hs", "85423a"), "goods.hs", "6 to 10 digits"),
    (("goods.hs", "999999"), "goods.hs", "does not exist"),
    (("goods.unit", "ZZZ"), "goods.unit", "Rec 20"),
    (("goods.origin", "XX"), "goods.origin", "ISO 3166"),
    (("goods.origin", "cn"), "goods.origin", "ISO 3166"),
    (("goods.unit", "pce"), "goods.unit", "Rec 20"),
    (("post", "KZNOWHERE-ROAD"), "post", "border post"),
    (("batch", "55501/310224/0000001/001"), "batch", "not a date"),
    (("batch", "B-1"), "batch", "office/ddmmyy"),
    (("seller.country", "RU"), "seller.country", "outside the customs union"),
    (("value.amount", "-1"), "value.amount", "non-negative"),
    (("value.currency", "usd"), "value.currency", "ISO 4217"),
    (("value.currency", "ZZZ"), "value.currency", "ISO 4217"),
    (("value.currency", "BYR"), "value.currency", "withdrawn"),  # replaced by BYN in 2016
    (("quantity", "0.1"), "quantity", "whole"),
    (("seller.tax_id", 7), "seller.tax_id", "str"),
    (("batch", ""), "batch", "length"),
    (("type", "teleport"), "type", "unknown event type"),
    (("type", None), "type", "required"),
]


@pytest.mark.parametrize(("change", "field", "word"), INVALID)
def test_invalid_import_names_field_and_reason(
    change: tuple[str, Any], field: str, word: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse(f.line(with_(IMPORT, *change)))
    assert info.value.field == field
    assert word.lower() in info.value.reason.lower()


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,2]", b"null", b'"import"', b"\xff\xfe"])
def test_malformed_input_is_an_invalid_event(raw: bytes) -> None:
    with pytest.raises(InvalidEvent):
        parse(raw)


VALID = [
    IMPORT,
    with_(with_(IMPORT, "type", "arrival"), "seller.country", "RU"),
    f.transfer("e2", "B", f.A, f.B, "1.5"),
    f.transform("e3", f.A, [("B", 2)], "P-1", 1),
    f.dispatch("e4", "B", f.A, 1),
    with_(with_(f.dispatch("e5", "B", f.A, 1), "type", "export"), "buyer.country", "TR"),
    f.write_off("e6", "B", f.A, 1),
    f.adjust("e7", "B", f.A, "-2"),
    f.cancel("e8", "e1"),
    f.transit_open("e9", "24KZ0001"),
    {
        "type": "seal_ping",
        "id": "e10",
        "time": f.t(2),
        "seal": "S-1",
        "lat": 45.1,
        "lon": 79.5,
        "state": "intact",
        "code": "05",
    },
    {
        "type": "checkpoint",
        "id": "e11",
        "time": f.t(2),
        "mrn": "M",
        "post": "KZDOS-RAIL",
        "mass_kg": 1200,
    },
    {
        "type": "transit_close",
        "id": "e12",
        "time": f.t(3),
        "mrn": "M",
        "post": "KZZS1-RAIL",
        "mass_kg": "1199.5",
        "seals_intact": True,
    },
    {
        "type": "incident",
        "id": "e13",
        "time": f.t(3),
        "mrn": "M",
        "kind": "transhipment",
        "lat": 47.0,
        "lon": 60.1,
        "note": "reloaded",
    },
    {
        "type": "receipt",
        "id": "e14",
        "time": f.t(6),
        "ref": "e4",
        "quantity": 1,
        "country": "RU",
        "document": {"kind": "CMR", "number": "1"},
    },
]


@pytest.mark.parametrize("event", VALID, ids=lambda e: e["type"])
def test_every_contract_type_parses(event: dict[str, Any]) -> None:
    assert parse(f.line(event)).event.id == event["id"]


def test_all_types_are_covered() -> None:
    assert {e["type"] for e in VALID} == set(EVENT_TYPES)


def test_decimals_are_exact() -> None:
    by_mass = with_(IMPORT, "goods.unit", "KGM")  # pieces are whole; kilograms need not be
    event = parse(f.line(with_(by_mass, "quantity", "0.1"))).event
    assert event.quantity == Decimal("0.1")  # type: ignore[attr-defined]
    number = parse(f.line(by_mass).replace(b'"quantity": "100"', b'"quantity": 12345678901.000001'))
    assert number.event.quantity == Decimal("12345678901.000001")  # type: ignore[attr-defined]
    assert b'"quantity":"12345678901.000001"' in number.canonical


def test_a_withdrawn_currency_is_right_on_a_document_of_its_time() -> None:
    old = with_(with_(IMPORT, "value.currency", "HRK"), "time", "2022-12-31T10:00:00+01:00")
    assert parse(f.line(old)).event.value.currency == "HRK"  # type: ignore[attr-defined]


def test_a_foreign_party_needs_no_tax_id_a_home_party_does() -> None:
    foreign = parse(f.line(with_(IMPORT, "seller.tax_id", None))).event
    assert foreign.seller.tax_id is None  # type: ignore[attr-defined]
    assert foreign.seller.key == "Shenzhen Hua Tech Co (CN)"  # type: ignore[attr-defined]
    buyer = {"name": "ООО Ромашка", "country": "RU"}
    assert parse(f.line(f.dispatch("d", "B", f.A, 1, buyer=buyer))).event
    home = {"name": "ТОО Алма", "country": "KZ"}
    with pytest.raises(InvalidEvent) as info:
        parse(f.line(with_(f.dispatch("d", "B", f.A, 1), "type", "export") | {"buyer": home}))
    assert (info.value.field, "home country" in info.value.reason) == ("buyer.tax_id", True)


def test_count_units_take_whole_numbers_measures_do_not() -> None:
    for unit, quantity, ok in [("PCE", "3", True), ("SET", "2.5", False), ("KGM", "2.5", True)]:
        event = with_(with_(IMPORT, "goods.unit", unit), "quantity", quantity)
        if ok:
            assert parse(f.line(event)).event
        else:
            with pytest.raises(InvalidEvent, match="whole"):
                parse(f.line(event))


_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    _OFFSETS,
)
def test_the_same_instant_in_any_offset_is_the_same_event(when: datetime, tz: timezone) -> None:
    utc = parse(f.line(with_(IMPORT, "time", when.isoformat())))
    local = parse(f.line(with_(IMPORT, "time", when.astimezone(tz).isoformat())))
    assert utc.canonical == local.canonical and utc.digest == local.digest


@given(st.decimals(min_value=1, max_value=10**12, places=2, allow_nan=False), st.integers(0, 4))
def test_the_same_decimal_in_any_notation_is_the_same_event(amount: Decimal, zeros: int) -> None:
    plain = parse(f.line(with_(IMPORT, "value.amount", str(amount))))
    padded = f"{amount:.{2 + zeros}f}"
    exponent = f"{amount:.{2 + zeros}E}"
    scientific = exponent if Decimal(exponent) == amount else padded
    for text in (padded, scientific):
        other = parse(f.line(with_(IMPORT, "value.amount", text)))
        assert other.digest == plain.digest, text
    number = f.line(with_(IMPORT, "value.amount", "@")).replace(b'"@"', padded.encode())
    assert parse(number).digest == plain.digest  # a JSON number, not a string


def test_a_retry_in_another_offset_and_notation_is_a_duplicate_not_a_conflict() -> None:
    first = with_(with_(IMPORT, "time", "2024-03-01T04:00:00Z"), "value.amount", "1000000.00")
    retry = with_(with_(IMPORT, "time", "2024-03-01T10:00:00+06:00"), "value.amount", 1000000)
    assert parse(f.line(first)).digest == parse(f.line(retry)).digest


def test_unknown_fields_are_kept_in_the_canonical_form() -> None:
    extra = with_(with_(IMPORT, "customs_value_kzt", 1.5), "goods.colour", "black")
    canonical = json.loads(parse(f.line(extra)).canonical)
    assert canonical["customs_value_kzt"] == "1.5"
    assert canonical["goods"]["colour"] == "black"


def test_same_content_in_other_spelling_has_the_same_digest() -> None:
    as_string = parse(f.line(IMPORT))
    as_number = parse(f.line(with_(IMPORT, "quantity", 100)))
    reordered = parse(json.dumps(dict(reversed(list(IMPORT.items())))).encode())
    assert as_string.digest == as_number.digest == reordered.digest


def test_a_transfer_needs_two_holders_and_a_transform_new_outputs() -> None:
    with pytest.raises(InvalidEvent, match="two different holders"):
        parse(f.line(f.transfer("x", "B", f.A, f.A, 1)))
    with pytest.raises(InvalidEvent) as info:
        parse(f.line(f.transform("x", f.A, [("B", 1)], "B", 1)))
    assert info.value.field == "outputs[0].batch"


def test_dispatch_goes_to_a_union_partner_and_export_outside() -> None:
    with pytest.raises(InvalidEvent) as info:
        parse(f.line(with_(f.dispatch("x", "B", f.A, 1), "buyer.country", "CN")))
    assert info.value.field == "buyer.country"
    with pytest.raises(InvalidEvent) as info:
        parse(f.line(with_(f.dispatch("x", "B", f.A, 1), "type", "export")))
    assert "use dispatch" in info.value.reason


@pytest.mark.parametrize(
    ("tax_id", "ok"),
    [
        (f.A, True),
        (f.B, True),
        ("990740000059", True),
        ("990740000058", False),
        ("150340000016", False),
        ("15034000001", False),
        ("1503400000155", False),
        ("15034000001x", False),
    ],
)
def test_kazakh_bin_check_digit(tax_id: str, ok: bool) -> None:
    assert (kz_bin_problem(tax_id) is None) is ok


def test_event_schema_in_docs_is_generated_from_the_model() -> None:
    stored = json.loads((DOCS / "event-schema.json").read_text(encoding="utf-8"))
    assert stored == json_schema(), "docs drifted: run `keruen schema --out docs/event-schema.json`"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=60), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_input_is_parsed_or_refused_with_a_reason(raw: bytes) -> None:
    try:
        parse(raw)
    except InvalidEvent as e:
        assert e.reason


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(VALID),
    st.sampled_from(["id", "time", "quantity", "batch", "holder", "goods"]),
    json_values,
)
def test_any_field_value_is_parsed_or_refused_naming_a_field(
    event: dict[str, Any], key: str, value: Any
) -> None:
    try:
        parse(f.line({**event, key: value}))
    except InvalidEvent as e:
        assert e.field and e.reason


def _quantity_problem_as_written(field: str, q: Decimal, signed: bool) -> tuple[str, str] | None:
    """quantity_problem before its whole-number shortcut: the oracle of the property below."""
    if not q.is_finite():
        return field, "must be a finite decimal"
    if abs(q) > MAX_QUANTITY:
        return field, f"must not exceed {MAX_QUANTITY:,.0f}"
    if q != q.quantize(Decimal(1).scaleb(-MAX_DECIMALS), rounding=ROUND_DOWN):
        return field, f"has more than {MAX_DECIMALS} decimal places"
    if signed and q == 0:
        return field, "must not be zero"
    if not signed and q <= 0:
        return field, "must be greater than zero"
    return None


QUANTITIES = st.decimals(allow_nan=True, allow_infinity=True) | st.builds(
    lambda digits, exp, sign: Decimal(f"{sign}{digits}E{exp}"),
    st.integers(0, 10**20),
    st.integers(-30, 20),
    st.sampled_from(["", "-"]),
)


@settings(max_examples=1000)
@given(q=QUANTITIES, signed=st.booleans())
def test_the_quantity_check_refuses_what_it_refused(q: Decimal, signed: bool) -> None:
    assert quantity_problem("q", q, signed=signed) == _quantity_problem_as_written("q", q, signed)


@pytest.mark.parametrize(
    "written",
    [
        "1",
        "1E+14",
        "1E+15",
        "1000000000000000.000001",
        "0.000001",
        "1.0000000",
        "5E-7",
        "-0",
        "sNaN",
        "-Infinity",
        "123456789012345.123456",
        "2.50",
        "1E-6",
    ],
)
def test_the_quantity_check_on_edges(written: str) -> None:
    q = Decimal(written)
    for signed in (False, True):
        assert quantity_problem("q", q, signed=signed) == _quantity_problem_as_written(
            "q", q, signed
        )


@settings(max_examples=300)
@given(dd=st.integers(0, 99), mm=st.integers(0, 99), yy=st.integers(0, 99))
def test_a_declaration_date_is_checked_as_a_date(dd: int, mm: int, yy: int) -> None:
    """(The date's check is cached by its digits: the same answer as the calendar's.)"""
    number = f"55501/{dd:02d}{mm:02d}{yy:02d}/0000001/001"
    try:
        datetime(2000 + yy, mm, dd)
        real = True
    except ValueError:
        real = False
    assert (get_settings().jurisdiction.declaration_problem(number) is None) == real
