"""Validation of an EPCIS 2.0 document in named layers, each reported on its own.

* `syntax`  — the bytes are a JSON or XML EPCIS document with an event list;
* `schema`  — GS1's JSON Schema (JSON, JSON-LD) or XSD (XML); query bodies against the REST
  binding's query schema;
* `cbv`     — what the schema alone misses: CBV 2.0 vocabularies (bizStep, disposition,
  business transaction, source/destination and sensor types), time formats, the fields an
  event type needs, extensions without a namespace;
* `ledger`  — Keruen's own rules (added by the import, `keruen.epcis.mapping`).

An issue names the layer, the event (index and CBV 2.0 hash), the JSON pointer or XPath,
the rule and the reason. Pure apart from the schemas shipped in the package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from jsonschema.exceptions import ValidationError, best_match
from lxml import etree

from keruen.epcis import schemas, vocab
from keruen.epcis.document import (
    EVENT_TYPES,
    Document,
    EpcisFormatError,
    parse_document,
    parse_json_object,
)
from keruen.epcis.hashing import event_hash

__all__ = [
    "Issue",
    "Report",
    "check_cbv",
    "decode_json",
    "events_in_body",
    "read_layers",
    "schema_valid_slice",
    "validate_bytes",
]

LAYERS = ("syntax", "schema", "cbv", "ledger")


@dataclass(frozen=True)
class Issue:
    layer: str
    event: int | None
    pointer: str
    rule: str
    reason: str
    hash: str | None = None


@dataclass
class Report:
    document: str
    events: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    parsed: Document | None = None
    hashes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def public(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "valid": self.valid,
            "events": self.events,
            "errors": [asdict(e) for e in self.errors],
            "warnings": [asdict(w) for w in self.warnings],
        }


# ---------------------------------------------------------------- schema layer


def _json_pointer(path: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in path)


def _event_index(path: list[Any]) -> int | None:
    for i in range(len(path) - 1):
        if path[i] == "eventList" and isinstance(path[i + 1], int):
            return int(path[i + 1])
    return None


def _schema_issue(error: ValidationError) -> Issue:
    cause = best_match(error.context) if error.context else error
    path = list(cause.absolute_path)
    reason = cause.message if len(cause.message) <= 300 else cause.message[:297] + "..."
    return Issue(
        "schema", _event_index(path), _json_pointer(path), f"json-schema/{cause.validator}", reason
    )


def _is_query_body(doc: Any) -> bool:
    context = doc.get("@context") if isinstance(doc, dict) else None
    return isinstance(context, str) and context.endswith("query-schema.json")


def json_schema_issues(doc: Any) -> list[Issue]:
    query = _is_query_body(doc)
    if schemas.fast_validators()[query].is_valid(doc):
        return []
    validator = schemas.query_schema() if query else schemas.document_schema()
    return [_schema_issue(e) for e in validator.iter_errors(doc)]


def events_in_body(doc: Any) -> bool:
    """Whether a decoded JSON document is an EPCISDocument whose events are its
    `epcisBody.eventList` (where `schema_valid_slice` can check them slice by slice)."""
    if not isinstance(doc, dict):  # a JSON string, number or list: the whole schema says why
        return False
    body = doc.get("epcisBody")
    return (
        doc.get("type") == "EPCISDocument"
        and isinstance(body, dict)
        and isinstance(body.get("eventList"), list)
        and not _is_query_body(doc)
    )


def schema_valid_slice(doc: dict[str, Any], lo: int, hi: int) -> bool:
    """Whether the document with only events `lo` to `hi` in its event list passes GS1's
    JSON Schema (`events_in_body(doc)` must hold). The schema checks each item of an event
    list on its own (no uniqueItems, no bounds on the list), so the whole document is valid
    exactly when every slice is; a slice that is not says only that `json_schema_issues` of
    the whole has something to say."""
    body = doc["epcisBody"]
    part = {**doc, "epcisBody": {**body, "eventList": body["eventList"][lo:hi]}}
    return bool(schemas.fast_validators()[False].is_valid(part))


def xsd_issues(data: bytes) -> tuple[list[Issue], list[Issue]]:
    """XSD errors and warnings of an XML document."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        return [Issue("syntax", None, "/", "xml", f"not well-formed XML: {e}")], []
    qname = etree.QName(root)
    if qname.localname in EVENT_TYPES:
        reason = "a bare event: the XSD declares no global event element; CBV rules only"
        return [], [Issue("schema", None, "/", "xsd/bare-event", reason)]
    name = schemas.XSD_BY_NAMESPACE.get(qname.namespace or "")
    if name is None:
        reason = f"root element {root.tag} is not an EPCIS 2.0 document, query or master data"
        return [Issue("schema", None, "/", "xsd/root", reason)], []
    schema = schemas.xsd(name)
    if schema.validate(root):
        return [], []
    errors = [
        Issue("schema", None, entry.path or "/", "xsd", f"line {entry.line}: {entry.message}")
        for entry in schema.error_log
    ]
    return errors, []


# ---------------------------------------------------------------- cbv layer

_TOP = {
    "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "certificationInfo",
    "errorDeclaration", "epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList",
    "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList", "action",
    "transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint",
    "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
    "ilmd", "#text", "id",
}  # fmt: skip
_QUANTITY = {"epcClass", "quantity", "uom"}
_METADATA = {"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
             "dataProcessingMethod", "bizRules"}  # fmt: skip
_REPORT = {"type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
           "time", "microorganism", "chemicalSubstance", "value", "component", "stringValue",
           "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue",
           "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
           "bizRules"}  # fmt: skip
_ERROR_DECLARATION = {"declarationTime", "reason", "correctiveEventIDs"}
_ACTIONS = {"ADD", "OBSERVE", "DELETE"}
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
_OFFSET = re.compile(r"[+-](0\d|1[0-4]):[0-5]\d")

_VOCABULARIES: dict[str, tuple[frozenset[str], str]] = {
    "bizStep": (frozenset(vocab.BIZ_STEPS.values()), "https://ref.gs1.org/cbv/BizStep-"),
    "disposition": (frozenset(vocab.DISPOSITIONS.values()), "https://ref.gs1.org/cbv/Disp-"),
    "bizTransactionType": (
        frozenset(vocab.BIZ_TRANSACTION_TYPES.values()),
        "https://ref.gs1.org/cbv/BTT-",
    ),
    "sourceDestType": (frozenset(vocab.SOURCE_DEST_TYPES.values()), "https://ref.gs1.org/cbv/SDT-"),
    "sensorType": (frozenset(vocab.SENSOR_TYPES.values()), "https://gs1.org/voc/"),
    "component": (frozenset(vocab.COMPONENTS.values()), "https://ref.gs1.org/cbv/Comp-"),
    "errorReason": (frozenset(vocab.ERROR_REASONS.values()), "https://ref.gs1.org/cbv/ER-"),
}


@dataclass
class _Checker:
    """Collects the CBV issues of one event; `at` is the event's pointer in the source."""

    index: int
    at: str
    xml: bool
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def add(self, where: str, rule: str, reason: str, warn: bool = False) -> None:
        pointer = self.at + ("/" + where if where else "")
        issue = Issue("cbv", self.index, pointer, f"cbv/{rule}", reason)
        (self.warnings if warn else self.issues).append(issue)

    def vocabulary(self, where: str, kind: str, value: Any) -> None:
        terms, web = _VOCABULARIES[kind]
        if not isinstance(value, str):
            return
        if value in terms or (kind == "sensorType" and ":" in value):
            return
        if kind == "sensorType":  # the context's @vocab makes any bare type a gs1: term
            self.add(where, kind, f"{value!r} is not in the CBV 2.0 context's sensor types", True)
        elif value.startswith(web):
            self.add(where, kind, f"{value!r} is not a CBV 2.0 {kind} term")
        elif ":" not in value:
            self.add(where, kind, f"{value!r} is not a CBV 2.0 {kind}; a private one must be a URI")

    def time(self, where: str, value: Any) -> None:
        if value is None:
            return
        text = str(value)
        ok = bool(_TIME.fullmatch(text))
        if ok:
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                ok = False
        if not ok:
            self.add(where, "time", f"{text!r} is not an RFC 3339 date-time with an offset")
        elif text.count(":") < 2 + text[19:].count(":"):
            self.add(where, "time", f"{text!r} has no seconds (RFC 3339 requires them)", True)

    def namespaced(self, where: str, obj: Any, known: set[str]) -> None:
        if not isinstance(obj, dict):
            return
        for key in obj:
            if key not in known and not key.startswith("{") and not key.startswith("@"):
                prefix = key.split(":", 1)[0] if ":" in key else None
                why = f"prefix {prefix!r} is not declared" if prefix else "it has no namespace"
                self.add(f"{where}/{key}".lstrip("/"), "namespace", f"field {key!r}: {why}")


def _check_event(c: _Checker, event: dict[str, Any]) -> None:
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        c.add("type", "eventType", f"{kind!r} is not an EPCIS 2.0 event type")
        return
    _required(c, event, str(kind))
    c.time("eventTime", event.get("eventTime"))
    c.time("recordTime", event.get("recordTime"))
    offset = event.get("eventTimeZoneOffset")
    if offset is not None and not _OFFSET.fullmatch(str(offset)):
        c.add("eventTimeZoneOffset", "offset", f"{offset!r} is not a time zone offset (+hh:mm)")
    action = event.get("action")
    if action is not None and action not in _ACTIONS:
        c.add("action", "action", f"{action!r} is not ADD, OBSERVE or DELETE")
    c.vocabulary("bizStep", "bizStep", event.get("bizStep"))
    c.vocabulary("disposition", "disposition", event.get("disposition"))
    _structures(c, event)
    c.namespaced("", event, _TOP)


def _required(c: _Checker, event: dict[str, Any], kind: str) -> None:
    for name in ("eventTime", "eventTimeZoneOffset"):
        if name not in event:
            c.add(name, "required", f"{kind} needs {name}")
    if kind != "TransformationEvent" and "action" not in event:
        c.add("action", "required", f"{kind} needs action")
    identified = any(event.get(k) for k in ("epcList", "quantityList", "sensorElementList"))
    if kind == "ObjectEvent" and not identified:
        c.add("epcList", "required", "ObjectEvent needs an epcList, quantityList or sensor data")
    if kind == "TransactionEvent" and not event.get("bizTransactionList"):
        c.add("bizTransactionList", "required", "TransactionEvent needs a bizTransactionList")
    sides = ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList")
    if kind == "TransformationEvent" and not any(event.get(k) for k in sides):
        c.add("inputEPCList", "required", "TransformationEvent needs inputs or outputs")


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _structures(c: _Checker, event: dict[str, Any]) -> None:
    present = event.keys() & _STRUCTURES  # most events carry few of them
    if not present:
        return
    persistent = event.get("persistentDisposition")
    for key in ("set", "unset"):
        for i, v in _items(persistent.get(key) if isinstance(persistent, dict) else None):
            c.vocabulary(f"persistentDisposition/{key}/{i}", "disposition", v)
    for i, t in _items(event.get("bizTransactionList")):
        if isinstance(t, dict):
            c.vocabulary(f"bizTransactionList/{i}/type", "bizTransactionType", t.get("type"))
    for name in ("sourceList", "destinationList"):
        for i, t in _items(event.get(name)):
            if isinstance(t, dict):
                c.vocabulary(f"{name}/{i}/type", "sourceDestType", t.get("type"))
    for name in _QUANTITY_LISTS:
        for i, q in _items(event.get(name)):
            c.namespaced(f"{name}/{i}", q, _QUANTITY)
            _quantity(c, f"{name}/{i}/quantity", q)
    for name in ("readPoint", "bizLocation"):
        c.namespaced(name, event.get(name), {"id"})
    c.namespaced("ilmd", event.get("ilmd"), set())
    if "errorDeclaration" in present or "sensorElementList" in present:
        _errors_and_sensors(c, event)


_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_STRUCTURES = frozenset({"persistentDisposition", "bizTransactionList", "sourceList",
                         "destinationList", *_QUANTITY_LISTS, "readPoint", "bizLocation", "ilmd",
                         "errorDeclaration", "sensorElementList"})  # fmt: skip


def _quantity(c: _Checker, where: str, q: Any) -> None:
    value = q.get("quantity") if isinstance(q, dict) else None
    if value is None or isinstance(value, bool):
        return
    try:
        float(value)
    except (TypeError, ValueError):
        c.add(where, "quantity", f"{value!r} is not a number")


def _errors_and_sensors(c: _Checker, event: dict[str, Any]) -> None:
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, dict):
        c.time("errorDeclaration/declarationTime", declaration.get("declarationTime"))
        c.vocabulary("errorDeclaration/reason", "errorReason", declaration.get("reason"))
        c.namespaced("errorDeclaration", declaration, _ERROR_DECLARATION)
    for i, element in _items(event.get("sensorElementList")):
        if not isinstance(element, dict):
            continue
        at = f"sensorElementList/{i}"
        metadata = element.get("sensorMetadata")
        c.namespaced(f"{at}/sensorMetadata", metadata, _METADATA)
        for name in ("time", "startTime", "endTime"):
            c.time(f"{at}/sensorMetadata/{name}", (metadata or {}).get(name))
        for j, report in _items(element.get("sensorReport")):
            if isinstance(report, dict):
                c.namespaced(f"{at}/sensorReport/{j}", report, _REPORT)
                c.vocabulary(f"{at}/sensorReport/{j}/type", "sensorType", report.get("type"))
                c.vocabulary(
                    f"{at}/sensorReport/{j}/component", "component", report.get("component")
                )
                c.time(f"{at}/sensorReport/{j}/time", report.get("time"))


def check_cbv(doc: Document, lo: int = 0, hi: int | None = None) -> tuple[list[Issue], list[Issue]]:
    """The CBV layer over the events of a parsed document (those from `lo` to `hi`, by
    default all): their errors and their warnings."""
    issues: list[Issue] = []
    warnings: list[Issue] = []
    xml = doc.syntax == "xml"
    stop = len(doc.events) if hi is None else hi
    for i in range(lo, stop):
        event, at = doc.events[i], doc.pointers[i]
        checker = _Checker(i, at, xml)
        _check_event(checker, event)
        issues += checker.issues
        warnings += checker.warnings
    return issues, warnings


# ---------------------------------------------------------------- all layers


def _with_hashes(issues: list[Issue], hashes: list[str]) -> list[Issue]:
    out = []
    for issue in issues:
        h = hashes[issue.event] if issue.event is not None and issue.event < len(hashes) else None
        out.append(Issue(issue.layer, issue.event, issue.pointer, issue.rule, issue.reason, h))
    return out


def _xml_event_of(issue: Issue, pointers: list[str]) -> int | None:
    for i in range(len(pointers) - 1, -1, -1):
        if issue.pointer == pointers[i] or issue.pointer.startswith(pointers[i] + "/"):
            return i
    return issue.event


def decode_json(data: bytes) -> Any:
    """JSON decoded by msgspec (faster); what it refuses (NaN, lone surrogates, UTF-16, a
    byte-order mark, numbers beyond a double) goes to `json`, which decides and explains."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


def validate_bytes(data: bytes, name: str = "") -> Report:
    """Every layer but the ledger's: schema first, then (if it parses) the CBV rules."""
    report, schema_issues = read_layers(data, name)
    doc = report.parsed
    if doc is None:
        return report
    hashes = report.hashes = [event_hash(e) for e in doc.events]
    errors, warnings = check_cbv(doc)
    schema = schema_issues if schema_issues is not None else json_schema_issues(doc.raw)
    report.errors = _with_hashes(schema + errors, hashes)
    report.warnings = report.warnings + _with_hashes(warnings, hashes)
    return report


def read_layers(
    data: bytes, name: str = "", lazy: bool = False, defer_schema: bool = False
) -> tuple[Report, list[Issue] | None]:
    """The syntax and schema layers, and the events read into their one form.

    `report.parsed` is the document, or None when it cannot be read (then `report.errors`
    says why); with `lazy`, a JSON document's events are read when `Document.read` asks.
    The schema issues are returned apart, each with its event (an XML one found from its
    XPath), no hash yet: the event layers (hash, CBV rules) are the caller's. With
    `defer_schema`, for an EPCISDocument read from JSON (`events_in_body`), they are None: the
    caller checks the schema slice by slice (`schema_valid_slice`, where it prepares them).
    """
    report = Report(name)
    parse: Callable[[], Document]
    is_xml = name.lower().endswith(".xml") or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    deferred = False
    if is_xml:
        schema_issues, report.warnings = xsd_issues(data)
        parse = lambda: parse_document(data, name)  # noqa: E731
    else:
        try:
            obj = decode_json(data)
        except (ValueError, UnicodeDecodeError) as e:
            report.errors = [Issue("syntax", None, "", "json", f"not JSON: {e}")]
            return report, []
        deferred = defer_schema and events_in_body(obj)
        schema_issues = [] if deferred else json_schema_issues(obj)
        if _is_query_body(obj):
            report.errors = schema_issues  # a query body: no events to read
            return report, []
        parse = lambda: parse_json_object(obj, lazy)  # noqa: E731
    try:
        doc = parse()
    except EpcisFormatError as e:
        if not is_xml and deferred:  # (refused whole: the schema's say first, as ever)
            schema_issues = json_schema_issues(obj)
        if not any(i.layer == "syntax" for i in schema_issues):
            schema_issues.append(Issue("syntax", None, e.pointer or "/", "epcis", e.reason))
        report.errors = schema_issues
        return report, []
    report.parsed = doc
    report.events = len(doc.events)
    if is_xml:
        schema_issues = [
            Issue(i.layer, _xml_event_of(i, doc.pointers), i.pointer, i.rule, i.reason)
            for i in schema_issues
        ]
    elif deferred:
        return report, None
    return report, schema_issues
