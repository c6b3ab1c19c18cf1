"""The parse's fast path (strict twins, keruen.model.strict) gives the full parse's answer for
every line it takes, and leaves every other line to it: property-tested on the bench's events
varied in notation, time offsets, unknown and null fields, and on the crash corpus."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen.bench.streams import StreamGen
from keruen.errors import InvalidEvent
from keruen.model import events as ev
from keruen.model import strict
from keruen.model.validate import _parse_strict, decimal_text, parse, parse_many
from keruen.settings import get_settings
from tests import factory as f
from tests.reliability.corpus import corpus

BASE = [json.loads(line) for line in StreamGen(seed=3, holders=30, live=60).events(300)]
OTHERS = [
    json.loads(f.line(e))
    for e in (
        f.cancel("c-1", "ev-000000001"),
        f.adjust("a-1", "55501/010323/0000123/001", f.A, "-2"),
        f.transit_open("t-1", "24KZ0000000000001"),
        {
            "type": "seal_ping",
            "id": "p-1",
            "time": f.t(2),
            "seal": "S1",
            "lat": 43,
            "lon": 76.5,
            "state": "intact",
            "code": "01",
        },
        {
            "type": "receipt",
            "id": "r-1",
            "time": f.t(3),
            "ref": "ev-000000001",
            "country": "RU",
            "document": {"kind": "CMR", "number": "1"},
            "mass_kg": "10.50",
        },
    )
]


def full(line: bytes) -> tuple[bytes, str] | None:
    try:
        p = parse(line, get_settings().jurisdiction)
    except InvalidEvent:
        return None
    return p.canonical, p.digest


DECIMALS = {"quantity", "amount", "mass_kg"}


def _numbers(value: Any, draw: Any) -> Any:
    """Each decimal-looking value written another way: a JSON number, trailing zeros, an
    exponent."""
    if isinstance(value, dict):
        return {
            k: _numbers(v, draw) if isinstance(v, dict | list) or k in DECIMALS else v
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_numbers(v, draw) for v in value]
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            q = Decimal(str(value))
        except ArithmeticError:
            return value
        if not q.is_finite() or not str(value).lstrip("-").replace(".", "").isdigit():
            return value
        form = draw(st.sampled_from(["as is", "zeros", "exp", "number"]))
        if form == "zeros":
            return f"{q:.3f}"
        if form == "exp":
            return f"{q:E}"
        if form == "number" and q == q.to_integral_value():
            return int(q)
    return value


KEPT = st.recursive(
    st.text(max_size=4) | st.integers(-5, 5) | st.sampled_from([1.5, 1e300, True, "\u00e9"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def lines(draw: Any) -> bytes:
    event = dict(draw(st.sampled_from(BASE + OTHERS)))
    event = _numbers(event, draw) if draw(st.booleans()) else event
    if draw(st.booleans()) and "time" in event:
        offset = draw(st.sampled_from(["+05:00", "-03:30", "Z", "+00:00"]))
        event["time"] = event["time"][:19] + draw(st.sampled_from(["", ".5", ".000123"])) + offset
    extra = draw(st.sampled_from(["none", "unknown", "null", "nested unknown", "drop", "epcis"]))
    if extra == "epcis":  # the bridge's kept event: canonical (sorted, text) or not
        event["epcis"] = draw(KEPT)
        event["note"] = draw(st.text(max_size=5))
    elif extra == "null":
        event["mass_kg"] = None
    elif extra == "nested unknown" and isinstance(event.get("value"), dict):
        event["value"] = {**event["value"], "rate": 1.5}
    elif extra == "drop":
        event.pop(draw(st.sampled_from(sorted(event))))
    compact = {"separators": (",", ":"), "sort_keys": True} if draw(st.booleans()) else {}
    return json.dumps(event, ensure_ascii=draw(st.booleans()), **compact).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=lines())
def test_the_fast_path_gives_the_full_parse_answer(line: bytes) -> None:
    j = get_settings().jurisdiction
    fast, answer = _parse_strict(line, j), full(line)
    if fast is not None:
        assert fast == answer
    outcome = parse_many([line], j)[0]
    assert outcome == answer if answer is not None else len(outcome) == 3


def test_lines_with_more_than_the_contract_take_the_full_path() -> None:
    j = get_settings().jurisdiction
    event = dict(BASE[1])
    assert _parse_strict(json.dumps(event).encode(), j) is not None
    for changed in (
        {**event, "note": "kept"},
        {**event, "value": {**event["value"], "rate": "1"}},
        {**event, "mass_kg": None},
    ):
        line = json.dumps(changed).encode()
        assert _parse_strict(line, j) is None
        outcome = full(line)
        assert outcome is not None and parse_many([line], j)[0] == outcome


def _deep(depth: int) -> str:
    """A marker that `_nested` writes as arrays nested `depth` levels deep (json.dumps
    cannot: it recurses)."""
    return f"@deep{depth}"


def _nested(event: dict[str, Any], sort_keys: bool) -> bytes:
    line = json.dumps(event, separators=(",", ":"), sort_keys=sort_keys)
    for depth in (63, 64, 5000):
        line = line.replace(f'"{_deep(depth)}"', "[" * depth + "]" * depth)
    return line.encode()


IMPORT, TRANSIT = BASE[0], OTHERS[2]
NULL_ROWS = [  # an explicit null anywhere a twin's field is optional: the full parse keeps it
    {**IMPORT, "mass_kg": None},
    {**IMPORT, "seller": {**IMPORT["seller"], "tax_id": None}},
    {**IMPORT, "goods": {**IMPORT["goods"], "brand": None, "gtin": None}},
    {**IMPORT, "goods": {**IMPORT["goods"], "manufacturer_country": None}},
    {**TRANSIT, "route": None},
    {**TRANSIT, "guarantee": None},
    {**OTHERS[3], "code": None},
    {**OTHERS[4], "quantity": None},
]


@pytest.mark.parametrize("event", NULL_ROWS)
def test_an_explicit_null_takes_the_full_path(event: dict[str, Any]) -> None:
    j = get_settings().jurisdiction
    line = json.dumps(event).encode()
    assert _parse_strict(line, j) is None
    assert parse_many([line], j)[0] == full(line) or len(parse_many([line], j)[0]) == 3


DEPTH_ROWS = [  # (event, whether the full parse refuses it for its depth)
    ({**IMPORT, "epcis": _deep(63)}, False),  # 64 levels with the event itself
    ({**IMPORT, "epcis": _deep(64)}, True),
    ({**IMPORT, "epcis": _deep(5000)}, True),  # deeper than the decoder recurses
    ({"note": _deep(5000), **IMPORT}, True),  # skipped before the type is known
    ({**IMPORT, "note": _deep(5000)}, True),
    ({**TRANSIT, "route": [{"lat": 43, "lon": 76}] * 70}, False),  # many brackets, shallow
]


@pytest.mark.parametrize(("event", "too_deep"), DEPTH_ROWS)
def test_nesting_gets_the_full_parse_answer(event: dict[str, Any], too_deep: bool) -> None:
    j = get_settings().jurisdiction
    line = _nested(event, sort_keys="note" not in event)
    fast, answer = _parse_strict(line, j), full(line)
    assert fast is None or fast == answer
    outcome = parse_many([line], j)[0]
    assert outcome == answer if answer is not None else len(outcome) == 3
    assert ("nested deeper" in str(outcome[1])) == too_deep


def test_the_crash_corpus_never_takes_the_fast_path_wrongly() -> None:
    j = get_settings().jurisdiction
    for _, line in corpus():
        fast = _parse_strict(line, j)
        assert fast is None or fast == full(line)


def test_the_bridge_lines_take_the_fast_path_when_their_kept_event_is_canonical() -> None:
    """The EPCIS bridge's `epcis` field, written with sorted keys and no floats, is taken as
    it stands; written any other way, the full parse writes it."""
    j = get_settings().jurisdiction
    kept = {"hash": "ni:///sha-256;ab?ver=CBV2.0", "index": 0, "event": {"b": ["x"], "a": "1"}}
    event = {**BASE[1], "epcis": kept}
    line = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    assert _parse_strict(line, j) == full(line) is not None
    for other in (
        json.dumps(event, separators=(",", ":")).encode(),  # keys unsorted
        json.dumps(event, sort_keys=True).encode(),  # spaces
        json.dumps({**event, "epcis": {**kept, "rate": 1.5}}, sort_keys=True).encode(),
    ):
        assert _parse_strict(other, j) is None
        assert parse_many([other], j)[0] == full(other) is not None


def test_every_event_type_has_a_checked_twin() -> None:
    assert set(strict.STRICT_TYPES) == set(ev.EVENT_TYPES.values())
    for cls, twin in strict.STRICT_TYPES.items():
        assert issubclass(twin, cls)
        assert twin.__struct_config__.forbid_unknown_fields
        assert twin.__struct_config__.tag == cls.__struct_config__.tag


def test_the_bench_stream_stays_valid_past_ten_million_events() -> None:
    """A declaration number has 7 digits: the stream's 10,000,000th event and those after it
    still make valid imports (their numbers start over, on another date), so a 10 M+ bench
    does not turn into a stream of rejections."""
    gen = StreamGen(seed=5, holders=30, live=60)
    gen.n = 9_999_990
    lines = list(gen.events(200))
    outcomes = parse_many(lines, get_settings().jurisdiction)
    assert all(len(o) == 2 for o in outcomes), [o for o in outcomes if len(o) != 2][:2]
    assert any(b'"type":"import"' in line and b"/0000001/" in line for line in lines)


def test_the_bench_stream_with_uuid_ids_is_the_same_stream_with_other_ids() -> None:
    """`bench ingest --uuid-ids`: random version-4 UUIDs, unique, and nothing else changed."""
    plain = list(StreamGen(seed=5, holders=30, live=60).events(500))
    uuids = list(StreamGen(seed=5, holders=30, live=60, uuid_ids=True).events(500))
    ids = [json.loads(line)["id"] for line in uuids]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i).version == 4 for i in ids)
    for a, b in zip(plain, uuids, strict=True):
        assert {**json.loads(a), "id": ""} == {**json.loads(b), "id": ""}
    outcomes = parse_many(uuids, get_settings().jurisdiction)
    assert all(len(o) == 2 for o in outcomes)


PLAIN_ROWS = [  # (decimal as written, what the canonical form writes, or None: the full parse)
    ("12.5", "12.5"),
    ("100", "100"),
    ("-3", "-3"),
    ("0.000001", "0.000001"),
    ("10.50", "10.5"),
    ("1E+2", "100"),
    ("1.0E+3", "1000"),
    ("0", "0"),
    ("-0", "0"),
    ("0.000", "0"),
    ("-0.0", "0"),
    ("1E-7", None),
    ("0.00000010", None),
    ("1108856050133.6396692209205444", "1108856050133.639669220920544"),  # 28 digits at most
]


@pytest.mark.parametrize(("written", "plain"), PLAIN_ROWS)
def test_a_decimal_is_written_plain_or_left_to_the_full_parse(written: str, plain: str) -> None:
    q = strict._plain(Decimal(written))
    assert (None if q is None else str(q)) == plain


@given(q=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15))
def test_the_plain_form_is_the_full_parses_text(q: Decimal) -> None:
    p = strict._plain(q)
    if p is None:  # only what the plain notation cannot write within six places
        assert q != 0 and q.normalize().adjusted() < -6
    else:
        assert str(p) == decimal_text(q)
