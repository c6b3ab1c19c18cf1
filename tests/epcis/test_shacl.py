"""The opt-in SHACL layer (GS1's shapes, repaired in memory) on a valid and an invalid document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keruen.epcis.document import parse_document
from keruen.epcis.export import export_events, to_json_ld
from keruen.ingest import ingest_lines
from keruen.store.port import LedgerReader
from tests.factory import import_

pytest.importorskip("pyshacl")
from keruen.epcis.shacl import shacl_issues


def test_gs1_example_conforms_and_an_invalid_action_is_named(conformance: Path) -> None:
    good = conformance / "JSON" / "Example_9.6.1-ObjectEvent.jsonld"
    assert shacl_issues(parse_document(good.read_bytes())) == ([], [])
    bad = next(conformance.rglob("ObjectEvent_with_invalid_action.json"))
    errors, _ = shacl_issues(parse_document(bad.read_bytes()))
    assert [e.rule for e in errors] == ["shacl/ActionShape"]
    assert "CREATE" in errors[0].reason


def test_known_conflicts_are_warnings_not_errors(conformance: Path) -> None:
    example = conformance / "JSON" / "Example_9.6.2-ObjectEvent.jsonld"
    errors, warnings = shacl_issues(parse_document(example.read_bytes()))
    assert errors == []
    assert {w.rule for w in warnings} == {
        "shacl/QuantityShape",
        "shacl/SourceOrDestinationTypeShape",
    }


def test_keruens_export_conforms_apart_from_the_known_conflicts(sqlite_engine: Engine) -> None:
    events = [json.dumps(e).encode() for e in (import_("i1", "55501/010324/0000777/001"),)]
    ingest_lines(sqlite_engine, events)
    with sqlite_engine.connect() as conn:
        exported = export_events(conn, LedgerReader(conn).select_events())
    data = json.dumps(to_json_ld(exported.events, "2024-04-01T00:00:00Z")).encode()
    errors, _ = shacl_issues(parse_document(data))
    assert errors == []


def test_every_event_type_keruen_exports_conforms(sqlite_engine: Engine) -> None:
    """Checkpoints, closes, incidents, receipts and the rest: GS1's JSON Schema and its SHACL
    shapes (apart from the two known conflicts, which are warnings)."""
    from keruen.epcis.schemas import document_schema
    from tests.epcis.test_roundtrip import _contract_events

    events = _contract_events()
    report = ingest_lines(sqlite_engine, [json.dumps(e).encode() for e in events])
    assert report.rejected == 0, report.public()
    with sqlite_engine.connect() as conn:
        exported = export_events(conn, LedgerReader(conn).select_events())
    doc = to_json_ld(exported.events, "2024-04-01T00:00:00Z")
    assert len(doc["epcisBody"]["eventList"]) == len(events)
    assert list(document_schema().iter_errors(doc)) == []
    errors, warnings = shacl_issues(parse_document(json.dumps(doc).encode()))
    assert errors == []
    assert {w.rule for w in warnings} <= {
        "shacl/QuantityShape",
        "shacl/SourceOrDestinationTypeShape",
    }
