"""The bridge's compiled fast paths (keruen/epcis/_bridge.c) give Python's answers.

The CBV 2.0 pre-hash gives Python's string, character for character: on every event of the
conformance material (JSON-LD, simple context, XML), on generated events of every shape the
canonicalisation treats apart (test_hash_oracle's), and on hostile leaf values (separators,
digits and GS1 key names mixed as in Digital Links, NUL, tabs and newlines, Unicode spaces and
digits, times of every spelling, huge numbers). It answers None (Python builds the string) for
containers that are not plain dicts and lists, and `KERUEN_NATIVE=0` turns it off.

Reading a JSON event into the one form gives Python's event, key order included, on every
conformance document and on generated ones (prefixed keys and values, comments, ignored
fields, an event's own context, numbers, flags, nulls); `plain` gives Python's value (text,
not copied where nothing changes) and leaves its input as it was."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen.epcis import hashing, mapping
from keruen.epcis.document import EpcisFormatError, parse_document, parse_json_object
from keruen.settings import get_settings
from tests.epcis.test_hash_oracle import events

NATIVE = hashing.NATIVE
ON_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(
    NATIVE is None and not ON_CI, reason="keruen.epcis._bridge was not built (no compiler)"
)


def test_the_bridge_extension_is_built_on_ci() -> None:
    """`pip install -e .` compiles keruen/epcis/_bridge.c; a silent fallback to Python would
    make every comparison below Python against Python."""
    assert NATIVE is not None, "keruen.epcis._bridge did not import: the C extension was not built"


def _same(event: Any) -> None:
    assert NATIVE is not None
    try:
        expected: str | type[BaseException] = hashing.python_prehash(event)
    except Exception as e:  # (Python's exception, then, is the C code's too)
        expected = type(e)
    if isinstance(expected, str):
        got = NATIVE.prehash(event)
        assert got is not None, "a plain event was left to Python"
        assert got == expected
    else:
        with pytest.raises(expected):
            NATIVE.prehash(event)


def test_every_conformance_event(conformance: Path) -> None:
    checked = 0
    for path in sorted(conformance.rglob("*")):
        if path.suffix not in (".json", ".jsonld", ".xml"):
            continue
        try:
            document = parse_document(path.read_bytes(), path.name)
        except (EpcisFormatError, ValueError):
            continue
        for event in document.events:
            _same(event)
            checked += 1
    assert checked > 500


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_generated_events(event: dict[str, Any]) -> None:
    _same(event)


PIECES = ["/", "?", "#", ".", ":", "%2F", "0", "1", "4", "9", "00", "01", "414", "417", "8006",
          "8010", "0952012345678", "1234", "gtin", "itip", "gsrn", "gsrnp", "cpid", "grai", "giai",
          "gln", "party", "lot", "ser", "cpv", "http://", "https://", "id.gs1.org",
          "example.com", "urn:epc:", "urn:epc:id:sgtin:", "urn:epcglobal:cbv:bizstep:", "urn:ep",
          "keruen.kz/party/KZ/", "a", "Z", "z", "T", "t", "-", "+", " ", "\t", "\n", "\r", "\x00",
          "\x1c", "\xa0", "\u3000", "é", "٣", "𝟘", "e", "E"]  # fmt: skip
hostile = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@st.composite
def times(draw: st.DrawFn) -> str:
    def two(lo: int, hi: int) -> str:
        return f"{draw(st.integers(lo, hi)):02d}"

    year = draw(st.sampled_from(["2024", "2023", "1900", "2000", "0999", "0001", "9999", "٢٠٢٤"]))
    date = f"{year}-{two(0, 13)}-{two(0, 32)}"
    clock = f"{two(0, 25)}:{two(0, 61)}:{two(0, 61)}"
    fraction = draw(st.sampled_from(["", ".", ".0", ".5", ".9995", ".9994", ".999", ".1234",
                                     ".99951", ".0005", ".12345678901"]))  # fmt: skip
    zone = draw(st.sampled_from(["Z", "z", "+00:00", "-00:00", "+05:00", "+0000", "", " Z"]))
    sep = draw(st.sampled_from(["T", "T", "t", " "]))
    return f"{date}{sep}{clock}{fraction}{zone}"


leaf = st.one_of(
    hostile,
    times(),
    st.integers(-(10**40), 10**40),
    st.sampled_from(["123456789012345", "1234567890123456", "0", "-0", "١٢٣", "12"]),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(leaf, min_size=1, max_size=4), st.sampled_from(["eventTime", "{urn:x}z", "epc"]))
def test_hostile_leaves(values: list[Any], where: str) -> None:
    """Each value as a time, an extension (canonical_value) and an EPC (either, by name)."""
    _same({"type": "ObjectEvent", "eventTime": values[0], "{urn:x}z": values})
    if where == "epc":
        _same({"epcList": values, "sensorElementList": [{"sensorReport": [{"time": values[0]}]}]})
    else:
        _same({where: values[0], "readPoint": {"id": values[-1], "{urn:y}w": values}})


class Tagged(dict[str, Any]):
    pass


def test_other_containers_are_left_to_python() -> None:
    assert NATIVE is not None
    assert NATIVE.prehash(Tagged(type="ObjectEvent")) is None
    event = {"type": "ObjectEvent", "ilmd": Tagged({"{urn:x}a": "1"})}
    assert NATIVE.prehash(event) is None
    assert hashing.prehash(event) == hashing.python_prehash(event)


@contextmanager
def _native(on: bool) -> Iterator[None]:
    os.environ["KERUEN_NATIVE"] = "1" if on else "0"
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.pop("KERUEN_NATIVE")
        get_settings.cache_clear()


@pytest.fixture
def native_off() -> Iterator[None]:
    with _native(False):
        yield


def _read_both(data: Any) -> tuple[str, str]:
    """A decoded JSON document's events read in C and in Python, as ordered JSON text."""
    out = []
    for on in (True, False):
        with _native(on):
            try:
                events: Any = parse_json_object(copy.deepcopy(data)).events
            except EpcisFormatError as e:
                events = ["refused", e.reason, e.pointer]
        out.append(json.dumps(events, default=repr))
    return out[0], out[1]


def test_every_conformance_json_document_reads_the_same(conformance: Path) -> None:
    checked = 0
    for path in sorted(conformance.rglob("*")):
        if path.suffix not in (".json", ".jsonld"):
            continue
        try:
            data = json.loads(path.read_bytes())
        except ValueError:
            continue
        native, python = _read_both(data)
        assert native == python, path.name
        checked += 1
    assert checked > 150


NAME_KEYS = ["type", "ex:a", "ex:b", "cbvmda:lot", "rdfs:comment", "comment", "@context",
             "{urn:x}z", "bizStep", "gs1:x", "ex:ignored", "epcList", "quantity"]  # fmt: skip
NAME_VALUES = ["ex:v", "cbv:BizStep-shipping", "shipping", "https://example.com/a:b", "a:b:c",
               "urn:epc:id:sgtin:0614141.107346.2017", "plain", "", "gs1:Temperature",
               "ex://not-a-curie"]  # fmt: skip
json_leaf = st.one_of(
    st.sampled_from(NAME_VALUES),
    st.text(max_size=6),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
json_tree = st.recursive(
    json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(NAME_KEYS), kids, max_size=3)
    ),
    max_leaves=10,
)
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
raw_event = st.dictionaries(st.sampled_from(NAME_KEYS), json_tree, max_size=6)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_event, min_size=1, max_size=3), st.booleans())
def test_generated_json_events_read_the_same(events: list[dict[str, Any]], ignore: bool) -> None:
    document: dict[str, Any] = {
        "@context": [CONTEXT, {"ex": "https://ex.example/"}],
        "type": "EPCISDocument",
        "epcisBody": {"eventList": events},
    }
    if ignore:
        document["ex:ignoreFields"] = ["ex:ignored", "quantity"]
    native, python = _read_both(document)
    assert native == python


plain_tree = st.recursive(
    st.one_of(json_leaf, st.integers(-(2**60), 2**60), st.sampled_from([2**53, -(2**53), 10**400])),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(NAME_KEYS), kids, max_size=3)
    ),
    max_leaves=10,
)


def _plain_same(value: Any) -> None:
    assert NATIVE is not None
    before = repr(value)
    try:
        expected: Any = mapping.python_plain(value)
    except Exception as e:
        with pytest.raises(type(e)):
            NATIVE.plain(value)
        return
    got = NATIVE.plain(value)
    assert repr(got) == repr(expected)
    assert (got is value) == (expected is value)  # copied only where something changed
    assert repr(value) == before


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_tree)
def test_plain_gives_pythons_value(value: Any) -> None:
    _plain_same(value)
    _plain_same(Tagged(a=value))


def test_keruen_native_0_builds_in_python(
    native_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refuses:
        def prehash(self, event: dict[str, Any]) -> str:
            raise AssertionError("the compiled pre-hash was called")

    monkeypatch.setattr(hashing, "NATIVE", Refuses())
    event = {"type": "ObjectEvent", "eventTime": "2024-01-01T10:00:00Z"}
    assert hashing.prehash(event) == hashing.python_prehash(event)
