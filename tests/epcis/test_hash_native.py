"""The compiled CBV 2.0 pre-hash (keruen/epcis/_hash.c) gives Python's string, character for
character: on every event of the conformance material (JSON-LD, simple context, XML), on
generated events of every shape the canonicalisation treats apart (test_hash_oracle's), and
on hostile leaf values (separators, digits and GS1 key names mixed as in Digital Links, NUL,
tabs and newlines, Unicode spaces and digits, times of every spelling, huge numbers). It
answers None (Python builds the string) for containers that are not plain dicts and lists,
and `KERUEN_NATIVE=0` turns it off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen.epcis import hashing
from keruen.epcis.document import EpcisFormatError, parse_document
from keruen.settings import get_settings
from tests.epcis.test_hash_oracle import events

NATIVE = hashing.NATIVE
ON_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(
    NATIVE is None and not ON_CI, reason="keruen.epcis._hash was not built (no compiler)"
)


def test_the_compiled_prehash_is_built_on_ci() -> None:
    """`pip install -e .` compiles keruen/epcis/_hash.c; a silent fallback to Python would
    make every comparison below Python against Python."""
    assert NATIVE is not None, "keruen.epcis._hash did not import: the C extension was not built"


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


@pytest.fixture
def native_off() -> Iterator[None]:
    os.environ["KERUEN_NATIVE"] = "0"
    get_settings.cache_clear()
    yield
    os.environ.pop("KERUEN_NATIVE")
    get_settings.cache_clear()


def test_keruen_native_0_builds_in_python(
    native_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refuses:
        def prehash(self, event: dict[str, Any]) -> str:
            raise AssertionError("the compiled pre-hash was called")

    monkeypatch.setattr(hashing, "NATIVE", Refuses())
    event = {"type": "ObjectEvent", "eventTime": "2024-01-01T10:00:00Z"}
    assert hashing.prehash(event) == hashing.python_prehash(event)
