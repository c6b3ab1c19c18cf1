"""Validation layers against GS1's examples and OpenEPCIS's valid and invalid documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keruen.cli import app
from keruen.epcis.conformance import EXPECTED_REJECTIONS, run_conformance
from keruen.epcis.validate import validate_bytes


def _invalid(conformance: Path) -> list[Path]:
    base = conformance / "openepcis-test-resources" / "2.0" / "EPCIS"
    return sorted(p for p in base.rglob("*") if p.is_file() and "Invalid" in p.parts)


def test_all_30_invalid_documents_rejected_for_the_right_reason(conformance: Path) -> None:
    files = _invalid(conformance)
    assert len(files) == 30 and {p.name for p in files} == set(EXPECTED_REJECTIONS)
    for path in files:
        report = validate_bytes(path.read_bytes(), path.name)
        texts = [f"{e.rule} {e.pointer} {e.reason}" for e in report.errors]
        assert any(EXPECTED_REJECTIONS[path.name] in t for t in texts), (path.name, texts)


@pytest.mark.parametrize(
    ("name", "layer", "rule"),
    [
        ("ObjectEvent_with_non_standard_bizStep.json", "cbv", "cbv/bizStep"),
        ("ObjectEvent_with_non_standard_disposition.json", "cbv", "cbv/disposition"),
        ("ObjectEvent_with_ilmd_field_without_namespace.json", "cbv", "cbv/namespace"),
        ("ObjectEvent_with_invalid_eventTime_format.json", "cbv", "cbv/time"),
        ("QueryDocument_with_invalid_eventType.json", "cbv", "cbv/eventType"),
        ("ObjectEvent_with_invalid_action.json", "schema", "json-schema/enum"),
        ("ObjectEvent_with_unknown_element.xml", "schema", "xsd"),
    ],
)
def test_what_the_official_schema_misses_the_cbv_layer_names(
    conformance: Path, name: str, layer: str, rule: str
) -> None:
    path = next(p for p in _invalid(conformance) if p.name == name)
    report = validate_bytes(path.read_bytes(), path.name)
    assert any(e.layer == layer and e.rule == rule for e in report.errors)
    event_errors = [e for e in report.errors if e.event is not None]
    assert all(e.hash and e.hash.startswith("ni:///sha-256;") for e in event_errors)


def test_the_conformance_table_reaches_its_targets(conformance: Path) -> None:
    rows = {r.check: r for r in run_conformance(conformance)}
    for row in rows.values():
        if row.target:
            assert row.passed == row.total, (row.check, row.misses)
    assert rows["event hashes equal to the reference answers (documents)"].total == 39
    assert rows["expected_equal documents whose events all hash alike"].total == 11
    assert rows["OpenEPCIS invalid documents rejected for the right reason"].total == 30
    assert rows["GS1 examples parsed: JSON-LD"].total == 47
    assert rows["GS1 examples parsed: simple-context JSON"].total == 46


def test_gs1_json_ld_examples_pass_every_layer(conformance: Path) -> None:
    for path in sorted((conformance / "JSON").rglob("*.jsonld")):
        report = validate_bytes(path.read_bytes(), path.name)
        assert report.valid, (path.name, report.errors[:2])


def test_cli_validate_json_and_exit_codes(conformance: Path) -> None:
    bad = next(p for p in _invalid(conformance) if p.name.endswith("non_standard_bizStep.json"))
    result = CliRunner().invoke(app, ["epcis", "validate", "--json", str(bad)])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["valid"] is False and body["events"] == 1
    assert set(body["errors"][0]) >= {"layer", "event", "pointer", "rule", "reason"}
    good = conformance / "JSON" / "Example_9.6.1-ObjectEvent.jsonld"
    result = CliRunner().invoke(app, ["epcis", "validate", "--json", str(good)])
    assert result.exit_code == 0 and json.loads(result.stdout)["valid"] is True


def test_cli_conformance_prints_the_table(conformance: Path) -> None:
    result = CliRunner().invoke(app, ["epcis", "conformance", "--json", str(conformance)])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert any(r["passed"] == 39 and r["total"] == 39 for r in rows)


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"{not json", "json"),
        (b"<a><b></a>", "xml"),
        (b'{"@context": [], "type": "EPCISDocument"}', "epcis"),
    ],
)
def test_broken_documents_get_a_syntax_error_not_a_traceback(body: bytes, rule: str) -> None:
    report = validate_bytes(body, "x")
    assert not report.valid
    assert any(e.rule == rule for e in report.errors), report.errors
