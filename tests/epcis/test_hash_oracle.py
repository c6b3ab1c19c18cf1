"""The one-pass CBV 2.0 hash against the implementation it replaced, on generated events.

Events are drawn with every kind of field the canonicalisation treats apart: the ordered
fields, EPC and quantity lists, typed lists, sensor data, extensions at every level, stray
fields, and values that canonicalise (numbers, times, CBV URNs, EPC URIs, Digital Links,
padding) alongside JSON numbers, flags and nulls.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen.epcis import hashing
from tests.epcis import hash_oracle

TEXTS = [
    "", " ", "abc", " padded ", "007", "0", "42", "1.50", "+5", "-0.0", "1e3", ".5", "1E-7",
    "123456789012345678901234", "12345678901234567", "NaN", "inf",
    "2024-01-01T10:00:00Z", "2024-01-01T10:00:00.1234+02:00", "2024-02-30T10:00:00Z",
    "2024-01-01T23:59:59.9996-05:30", "2024-01-01 10:00", "0999-01-01T00:00:00Z",
    "urn:epcglobal:cbv:bizstep:shipping", "urn:epcglobal:cbv:disp:in_transit",
    "urn:epcglobal:cbv:btt:po", "urn:epc:id:sgtin:0614141.107346.2017",
    "urn:epc:class:lgtin:4012345.012345.998877", "urn:epc:id:sgln:4012345.00001.0",
    "https://id.gs1.org/01/09520123456788/10/ABC", "https://example.com/01/9520123456788/21/1",
    "https://keruen.kz/party/KZ/150249184449", "https://ref.gs1.org/cbv/BizStep-receiving",
    "example:Ghi", "ни:кириллица", "+00:00", "-05:30", "٢٠٢٤-01-01T10:00:00Z",
    "2024-02-29T10:00:00Z", "2023-02-29T10:00:00Z", "2024-04-31T10:00:00Z", "1999-12-31T24:00:00Z",
    "https://id.gs1.org/01/0952012345678\n8", "https://example.com/gtin/9520123456788/lot/A1",
    "https://example.com/itip/952012345678801/22", "https://keruen.kz/document/ESF/ESF-2",
]  # fmt: skip
KEYS = ["{https://ns.example.com/}a", "{https://ns.example.com/}b", "{urn:x}z", "bizRules",
        "stray", "#text", "@value", "type", "id", "value"]  # fmt: skip

scalar = st.one_of(
    st.sampled_from(TEXTS),
    st.text(max_size=8),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
tree = st.recursive(
    scalar,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(KEYS), kids, max_size=3)
    ),
    max_leaves=8,
)
text = st.sampled_from(TEXTS)


def _with(fixed: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A standard structure with, at times, extension and stray fields beside its own."""
    extra = st.dictionaries(st.sampled_from(KEYS), tree, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, fixed, extra)


quantity = _with(
    st.fixed_dictionaries(
        {}, optional={"epcClass": text, "quantity": scalar, "uom": st.sampled_from(["KGM", "PCE"])}
    )
)
typed_keys = ("type", "source", "destination", "bizTransaction")
typed = st.one_of(
    text, st.fixed_dictionaries({}, optional={**{f: text for f in typed_keys}, "{urn:x}z": tree})
)
report = _with(
    st.fixed_dictionaries(
        {},
        optional={f: scalar for f in ("type", "value", "component", "uom", "time", "stringValue")},
    )
)
element = _with(
    st.fixed_dictionaries(
        {},
        optional={
            "sensorMetadata": st.one_of(
                _with(st.fixed_dictionaries({}, optional={"time": text})),
                st.lists(report, max_size=2),
            ),
            "sensorReport": st.one_of(st.lists(report, max_size=3), report),
        },
    )
)
location = st.one_of(text, _with(st.fixed_dictionaries({}, optional={"id": text})))
fields: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["ObjectEvent", "AggregationEvent", "TransformationEvent", ""]),
    "eventTime": text,
    "eventTimeZoneOffset": text,
    "recordTime": text,
    "eventID": text,
    "certificationInfo": st.one_of(text, st.lists(text, max_size=2)),
    "parentID": text,
    "epcList": st.one_of(st.lists(scalar, max_size=3), text),
    "childEPCs": st.lists(text, max_size=3),
    "inputEPCList": st.lists(text, max_size=2),
    "outputEPCList": st.lists(text, max_size=2),
    "quantityList": st.one_of(st.lists(st.one_of(quantity, text), max_size=3), quantity),
    "childQuantityList": st.lists(quantity, max_size=2),
    "inputQuantityList": st.lists(quantity, max_size=2),
    "outputQuantityList": st.lists(quantity, max_size=2),
    "action": st.one_of(st.sampled_from(["ADD", "OBSERVE", "DELETE"]), scalar),
    "transformationID": text,
    "bizStep": st.one_of(text, st.lists(text, max_size=2)),
    "disposition": text,
    "persistentDisposition": st.one_of(
        st.fixed_dictionaries({}, optional={"set": st.lists(text, max_size=2), "unset": text}),
        text,
    ),
    "readPoint": location,
    "bizLocation": location,
    "sensorElementList": st.one_of(st.lists(st.one_of(element, text), max_size=2), element),
    "bizTransactionList": st.lists(typed, max_size=3),
    "sourceList": st.lists(typed, max_size=3),
    "destinationList": st.one_of(st.lists(typed, max_size=2), typed),
    "ilmd": tree,
    "errorDeclaration": tree,
}
events = st.builds(
    lambda a, b: {**a, **b},
    st.fixed_dictionaries({}, optional=fields),
    st.dictionaries(st.sampled_from(KEYS), tree, max_size=3),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_one_pass_hash_equals_the_one_it_replaced(event: dict[str, Any]) -> None:
    assert hashing.prehash(event) == hash_oracle.prehash(event)
