"""`keruen epcis conformance PATH`: the whole external EPCIS material, run and tabulated.

PATH is the `conformance/epcis` folder (GS1's examples, the event-hash reference answers,
OpenEPCIS's valid and invalid documents); users pass it since the package does not ship it.
Each row: what was checked, how many passed of how many, and the misses with their reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from keruen.epcis.document import EpcisFormatError, parse_document
from keruen.epcis.hashing import event_hash, prehash
from keruen.epcis.validate import validate_bytes

__all__ = ["EXPECTED_REJECTIONS", "Row", "run_conformance"]

# The right reason for each deliberately invalid OpenEPCIS document: a text every accepted
# answer names in one error's rule, pointer or reason (read from the documents themselves).
EXPECTED_REJECTIONS: dict[str, str] = {
    "Combination_of_events_with_missing_mandatory_fields.json": "required",
    "Combination_of_multiple_invalid_fields.json": "/action",
    "Combination_of_non_standard_bizStep_and_disposition.json": "cbv/disposition",
    "EPCISDocument_without_context.json": "'@context' is a required property",
    "ObjectEvent_with_ilmd_field_without_namespace.json": "/ilmd/materialType",
    "ObjectEvent_with_invalid_action.json": "/action",
    "ObjectEvent_with_invalid_certificationInfo.json": "/certificationInfo",
    "ObjectEvent_with_invalid_eventTime_format.json": "/eventTime",
    "ObjectEvent_with_non_standard_bizStep.json": "cbv/bizStep",
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": "/eventList/1/bizStep",
    "ObjectEvent_with_non_standard_disposition.json": "cbv/disposition",
    "ObjectEvent_with_quantity_as_text.json": "/quantityList/0/quantity",
    "ObjectEvent_with_unknown_field_in_quantityList.json": "weight",
    "ObjectEvent_without_action_and_eventTime.json": "'eventTime' is a required property",
    "ObjectEvent_without_identifier_list.json": "epcList",
    "QueryDocument_with_invalid_action.json": "/action",
    "QueryDocument_with_invalid_eventType.json": "cbv/eventType",
    "Query_with_invalid_values.json": "'SHIPPED' is not one of",
    "Query_with_unknown_parameter.json": "GE_eventDate",
    "ObjectEvent_bare_event_without_action.xml": "needs action",
    "ObjectEvent_with_invalid_action.xml": "/action",
    "ObjectEvent_with_invalid_eventTime_format.xml": "/eventTime",
    "ObjectEvent_with_near_miss_action.xml": "'OBSERV'",
    "ObjectEvent_with_unknown_element.xml": "madeUpField",
    "ObjectEvent_with_wrong_element_order.xml": "This element is not expected",
    "ObjectEvent_without_eventTime.xml": "needs eventTime",
    "QueryDocument_with_invalid_action.xml": "'INVALIDACTION'",
    "QueryDocument_with_invalid_eventType.xml": "cbv/eventType",
    "QueryDocument_with_missing_value.xml": "Expected is ( value )",
    "Query_without_queryName.xml": "Expected is ( queryName )",
}


@dataclass
class Row:
    check: str
    passed: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    target: bool = True  # False: a measure of the upstream material, not a pass/fail target

    def add(self, ok: bool, name: str, why: str = "") -> None:
        self.total += 1
        self.passed += ok
        if not ok:
            self.misses.append(f"{name}: {why}" if why else name)


def _documents(folder: Path, suffixes: Iterable[str]) -> list[Path]:
    wanted = tuple(suffixes)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(wanted))


def _is_event_document(path: Path) -> bool:
    """Capture jobs, CBV vocabularies and master data carry no events: not counted."""
    head = path.read_bytes()[:2000]
    return not any(t in head for t in (b"EPCISCaptureJob", b"EPCISMasterData", b"<Vocabulary"))


def _parsed_row(check: str, paths: list[Path], root: Path) -> Row:
    """Every valid document parses; its schema errors are upstream inconsistencies (warnings)."""
    row = Row(check)
    for path in paths:
        report = validate_bytes(path.read_bytes(), path.name)
        name = str(path.relative_to(root))
        row.add(report.parsed is not None, name, _first(report.errors))
        own = [e for e in report.errors if e.layer == "cbv"]
        if report.parsed is not None and own:
            row.misses.append(f"{name}: our CBV layer rejects it: {_first(own)}")
            row.passed -= 1
        elif report.errors:
            row.warnings.append(f"{name}: upstream inconsistency: {_first(report.errors)}")
    return row


def _first(issues: list[Any]) -> str:
    if not issues:
        return ""
    i = issues[0]
    return f"[{i.layer}] {i.pointer} {i.rule}: {i.reason}"[:240]


def _invalid_row(paths: list[Path]) -> Row:
    row = Row("OpenEPCIS invalid documents rejected for the right reason")
    for path in paths:
        report = validate_bytes(path.read_bytes(), path.name)
        needle = EXPECTED_REJECTIONS.get(path.name)
        texts = [f"{e.rule} {e.pointer} {e.reason}" for e in report.errors]
        right = needle is not None and any(needle in t for t in texts)
        why = "accepted" if report.valid else f"wrong reason: {_first(report.errors)}"
        row.add(right, path.name, why)
        if right:
            row.warnings.append(f"{path.name}: {_first(report.errors)}")
    return row


def _hashes(path: Path) -> list[str]:
    return [event_hash(e) for e in parse_document(path.read_bytes(), path.name).events]


def _hash_rows(oracle: Path) -> list[Row]:
    answers = Row("event hashes equal to the reference answers (documents)")
    for answer in sorted((oracle / "examples").glob("*.hashes")):
        for source in (answer.with_suffix(".jsonld"), answer.with_suffix(".xml")):
            if source.exists():
                got = _safe_hashes(source)
                answers.add(got == answer.read_text().split(), source.name, "hashes differ")
    equal = Row("expected_equal documents whose events all hash alike")
    for path in sorted((oracle / "expected_equal").iterdir()):
        got = _safe_hashes(path)
        equal.add(len(got) > 1 and len(set(got)) == 1, path.name, f"{len(set(got))} hashes")
    return [answers, equal]


def _safe_hashes(path: Path) -> list[str]:
    try:
        return _hashes(path)
    except EpcisFormatError as e:
        return [f"error: {e.reason}"]


def _same_events_row(check: str, pairs: list[tuple[Path, Path]]) -> Row:
    """Pairs whose events differ are listed with the first difference of their pre-hashes
    (upstream files that differ in content, event order or an empty element)."""
    row = Row(check, target=False)
    for a, b in pairs:
        ha, hb = _safe_hashes(a), _safe_hashes(b)
        row.add(ha == hb and bool(ha), f"{a.name} vs {b.name}", _first_difference(a, b))
    return row


def _first_difference(a: Path, b: Path) -> str:
    try:
        ea = parse_document(a.read_bytes(), a.name).events
        eb = parse_document(b.read_bytes(), b.name).events
    except EpcisFormatError as e:
        return e.reason
    if len(ea) != len(eb):
        return f"{len(ea)} vs {len(eb)} events"
    for i, (x, y) in enumerate(zip(ea, eb, strict=True)):
        px, py = prehash(x), prehash(y)
        if px != py:
            at = next((k for k in range(min(len(px), len(py))) if px[k] != py[k]), 0)
            left, right = px[max(0, at - 30) : at + 50], py[max(0, at - 30) : at + 50]
            return f"event {i}: ...{left}... vs ...{right}..."
    return "same pre-hashes"


def _pairs(left: list[Path], right: list[Path], key: Any) -> list[tuple[Path, Path]]:
    index = {key(p): p for p in right}
    return [(p, index[key(p)]) for p in left if key(p) in index]


def run_conformance(root: Path) -> list[Row]:
    gs1_json = _documents(root / "JSON", [".jsonld", ".json"])
    gs1_simple = _documents(root / "JSON-simple-context", [".jsonld", ".json"])
    gs1_xml = [p for p in _documents(root / "XML", [".xml"]) if _is_event_document(p)]
    oe = root / "openepcis-test-resources" / "2.0" / "EPCIS"
    oe_all = _documents(oe, [".json", ".jsonld", ".xml"])
    oe_valid = [p for p in oe_all if "Invalid" not in p.parts and "Queries" not in p.parts]
    oe_json = [p for p in oe_valid if p.suffix != ".xml"]
    oe_xml = [p for p in oe_valid if p.suffix == ".xml"]
    rows = [
        _parsed_row("GS1 examples parsed: JSON-LD", gs1_json, root),
        _parsed_row("GS1 examples parsed: simple-context JSON", gs1_simple, root),
        _parsed_row("GS1 examples parsed: XML", gs1_xml, root),
        _parsed_row("OpenEPCIS valid documents parsed: JSON", oe_json, root),
        _parsed_row("OpenEPCIS valid documents parsed: XML", oe_xml, root),
        _invalid_row([p for p in oe_all if "Invalid" in p.parts]),
        *_hash_rows(root / "event-hash-oracle"),
    ]
    rows.append(
        _same_events_row(
            "JSON-LD and simple-context JSON of the same GS1 example: same events and hashes",
            _pairs(gs1_json, gs1_simple, lambda p: p.relative_to(root).parts[1:]),
        )
    )
    rows.append(
        _same_events_row(
            "XML and JSON of the same OpenEPCIS document: same events and hashes",
            _pairs(oe_xml, oe_json, lambda p: (p.parent.name, p.stem)),
        )
    )
    return rows


def public(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
