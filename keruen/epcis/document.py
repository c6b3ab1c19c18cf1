"""EPCIS 2.0 documents (JSON-LD, simple-context JSON, XML) read into one event form.

Every event becomes a plain dict shaped like EPCIS JSON (`epcList` a list of strings,
`bizTransactionList` a list of `{"type", "bizTransaction"}`, `readPoint` `{"id"}`, ...),
whatever the syntax it came in, with:

* extension keys written `{namespace}localName` (JSON-LD prefixes and XML namespaces
  resolved alike), standard keys bare;
* CBV vocabulary values as web URIs (`shipping`, `cbv:BizStep-shipping` and
  `urn:epcglobal:cbv:bizstep:shipping` all become `https://ref.gs1.org/cbv/BizStep-shipping`);
* XML `extension`/`baseExtension` wrappers (EPCIS 1.x style) flattened away.

Pure: the caller reads the bytes. XML is parsed with entities and network access off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from keruen.epcis import vocab
from keruen.epcis.hashing import NATIVE
from keruen.errors import KeruenError
from keruen.settings import get_settings

__all__ = [
    "EVENT_TYPES",
    "Document",
    "EpcisFormatError",
    "parse_document",
    "parse_json",
    "parse_json_object",
    "parse_xml",
]

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}
_URN_VOCAB = {
    "urn:epcglobal:cbv:bizstep:": "https://ref.gs1.org/cbv/BizStep-",
    "urn:epcglobal:cbv:disp:": "https://ref.gs1.org/cbv/Disp-",
    "urn:epcglobal:cbv:btt:": "https://ref.gs1.org/cbv/BTT-",
    "urn:epcglobal:cbv:sdt:": "https://ref.gs1.org/cbv/SDT-",
    "urn:epcglobal:cbv:er:": "https://ref.gs1.org/cbv/ER-",
}
_COMMENTS = {"comment", "rdfs:comment", "{http://www.w3.org/2000/01/rdf-schema#}comment"}


class EpcisFormatError(KeruenError):
    """The bytes are not an EPCIS 2.0 document this reader understands."""

    def __init__(self, reason: str, pointer: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.pointer = pointer


@dataclass
class Document:
    """One EPCIS document: its syntax, its events in the one form, where each event sits."""

    syntax: str  # "json-ld", "json" (simple context) or "xml"
    kind: str  # "EPCISDocument", "EPCISQueryDocument" or "event" (a bare event)
    events: list[dict[str, Any]]
    pointers: list[str]  # JSON pointer or XPath of each event in the source
    raw: Any = None  # the parsed JSON object (for the JSON Schema), None for XML
    namespaces: dict[str, str] = field(default_factory=dict)
    unread: _Unread | None = None  # JSON events left as decoded until `read` (lazy)

    def read(self, lo: int, hi: int) -> None:
        """Events `lo` to `hi` in the one form: a no-op unless they were left unread
        (`parse_json_object(..., lazy=True)`), as the EPCIS import's forked helper reads
        only the slices it prepares."""
        if self.unread is not None:
            self.unread.read(self.events, lo, hi)


def vocabulary_uri(value: str, terms: dict[str, str], namespaces: dict[str, str]) -> str:
    """A vocabulary value as its web URI: bare term, CURIE or CBV 1.x URN alike."""
    if value in terms:
        return terms[value]
    for urn, web in _URN_VOCAB.items():
        if value.startswith(urn):
            return web + value[len(urn) :]
    return expand_curie(value, namespaces)


def expand_curie(value: str, namespaces: dict[str, str]) -> str:
    prefix, sep, rest = value.partition(":")
    if sep and prefix in namespaces and not rest.startswith("//"):
        return namespaces[prefix] + rest
    return value


def expand_key(key: str, namespaces: dict[str, str]) -> str:
    prefix, sep, rest = key.partition(":")
    if sep and prefix in namespaces:
        return "{" + namespaces[prefix] + "}" + rest
    return key


# ---------------------------------------------------------------- vocabulary values


def _vocab_fields(event: dict[str, Any], ns: dict[str, str]) -> None:
    for name, terms in (("bizStep", vocab.BIZ_STEPS), ("disposition", vocab.DISPOSITIONS)):
        if isinstance(event.get(name), str):
            event[name] = vocabulary_uri(event[name], terms, ns)
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, dict):
        for key in ("set", "unset"):
            if isinstance(persistent.get(key), list):
                persistent[key] = [_vocab(v, vocab.DISPOSITIONS, ns) for v in persistent[key]]
    _typed_list(event.get("bizTransactionList"), vocab.BIZ_TRANSACTION_TYPES, ns)
    _typed_list(event.get("sourceList"), vocab.SOURCE_DEST_TYPES, ns)
    _typed_list(event.get("destinationList"), vocab.SOURCE_DEST_TYPES, ns)
    error = event.get("errorDeclaration")
    if isinstance(error, dict) and isinstance(error.get("reason"), str):
        error["reason"] = vocabulary_uri(error["reason"], vocab.ERROR_REASONS, ns)
    for element in event.get("sensorElementList") or []:
        reports = element.get("sensorReport") if isinstance(element, dict) else None
        for report in reports if isinstance(reports, list) else []:
            if isinstance(report, dict):
                _sensor_report(report, ns)


def _vocab(value: Any, terms: dict[str, str], ns: dict[str, str]) -> Any:
    return vocabulary_uri(value, terms, ns) if isinstance(value, str) else value


def _typed_list(entries: Any, terms: dict[str, str], ns: dict[str, str]) -> None:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            entry["type"] = vocabulary_uri(entry["type"], terms, ns)


def _sensor_report(report: dict[str, Any], ns: dict[str, str]) -> None:
    kind = report.get("type")
    if isinstance(kind, str) and kind.isidentifier():  # the context's @vocab is gs1:
        report["type"] = "https://gs1.org/voc/" + kind
    for key, terms in (
        ("type", vocab.SENSOR_TYPES),
        ("exception", vocab.SENSOR_EXCEPTIONS),
        ("component", vocab.COMPONENTS),
    ):
        if isinstance(report.get(key), str):
            report[key] = vocabulary_uri(report[key], terms, ns)


# ---------------------------------------------------------------- JSON and JSON-LD


def _context_namespaces(context: Any) -> dict[str, str]:
    found = dict(STANDARD_PREFIXES)
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and not value.startswith("@"):
                    found[key] = value
    return found


class _Memo(dict[str, str]):
    """`expand_key` or `expand_curie` under one set of namespaces, each text worked out once."""

    def __init__(self, ns: dict[str, str], expand: Callable[[str, dict[str, str]], str]) -> None:
        super().__init__()
        self.ns = ns
        self.expand = expand

    def __missing__(self, text: str) -> str:
        self[text] = found = self.expand(text, self.ns)
        return found


@dataclass
class _Names:
    """A document's (or an event's) namespaces, with the expansions of keys and values."""

    ns: dict[str, str]
    keys: _Memo = field(init=False)
    values: _Memo = field(init=False)

    def __post_init__(self) -> None:
        self.keys = _Memo(self.ns, expand_key)
        self.values = _Memo(self.ns, expand_curie)


def _json_value(value: Any, names: _Names) -> Any:
    kind = type(value)  # the exact JSON types first; no colon, nothing to expand
    if kind is str:
        return names.values[value] if ":" in value else value
    if kind is dict:
        return _json_dict(value, names)
    if kind is list:
        return _json_list(value, names)
    if isinstance(value, dict):
        return {
            names.keys[k]: _json_value(v, names) for k, v in value.items() if k not in _COMMENTS
        }
    if isinstance(value, list):
        return [_json_value(v, names) for v in value]
    if isinstance(value, str):
        return names.values[value]
    return value


def _json_dict(value: dict[str, Any], names: _Names) -> dict[str, Any]:
    """`_json_value` of an object, its text values and nested objects handled in line."""
    keys, values = names.keys, names.values
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k in _COMMENTS:
            continue
        if ":" in k:
            k = keys[k]
        kind = type(v)
        if kind is str:
            out[k] = values[v] if ":" in v else v
        elif kind is dict:
            out[k] = _json_dict(v, names)
        else:
            out[k] = _json_value(v, names)
    return out


def _json_list(value: list[Any], names: _Names) -> list[Any]:
    values = names.values
    return [
        (values[v] if ":" in v else v)
        if type(v) is str
        else _json_dict(v, names)
        if type(v) is dict
        else _json_value(v, names)
        for v in value
    ]


def _json_event(raw: dict[str, Any], names: _Names, ignore: set[str]) -> dict[str, Any]:
    """One JSON event in the one form: in C where it was compiled (`NATIVE`, see
    `keruen.epcis.hashing`; None for an event with its own prefixes or odd containers),
    else `python_json_event`, the specification."""
    if NATIVE is not None and get_settings().native:
        event = NATIVE.read_event(raw, names.keys, names.values, names, ignore)
        if event is not None:
            _vocab_fields(event, names.ns)
            return event
    return python_json_event(raw, names, ignore)


def python_json_event(raw: dict[str, Any], names: _Names, ignore: set[str]) -> dict[str, Any]:
    if "@context" in raw:  # an event may declare its own prefixes
        names = _Names({**names.ns, **_context_namespaces(raw["@context"])})
    event: dict[str, Any] = {}
    for key, value in raw.items():
        name = names.keys[key]
        if key in _COMMENTS or name in _COMMENTS or name in ignore or key == "@context":
            continue
        event[name] = _json_value(value, names)
    _vocab_fields(event, names.ns)
    return event


if NATIVE is not None:
    NATIVE.configure_read(_json_value, _COMMENTS)


def _json_ignored(holder: Any, ns: dict[str, str]) -> set[str]:
    """Fields a document declares left out of its events' hashes (`<prefix>:ignoreFields`)."""
    names: set[str] = set()
    for key, value in holder.items() if isinstance(holder, dict) else []:
        if expand_key(key, ns).endswith("ignoreFields") and isinstance(value, list):
            names.update(expand_key(v, ns) for v in value if isinstance(v, str))
    return names


def _json_event_list(doc: dict[str, Any]) -> tuple[str, list[Any], str, Any]:
    body = doc.get("epcisBody")
    if isinstance(doc.get("type"), str) and doc["type"] in EVENT_TYPES:
        return "event", [doc], "", None
    if not isinstance(body, dict):
        raise EpcisFormatError("no epcisBody object", "/epcisBody")
    if "eventList" in body:
        return "EPCISDocument", _as_list(body["eventList"]), "/epcisBody/eventList", None
    results = body.get("queryResults")
    if isinstance(results, dict):
        events = (results.get("resultsBody") or {}).get("eventList", [])
        base = "/epcisBody/queryResults/resultsBody/eventList"
        return "EPCISQueryDocument", _as_list(events), base, results
    if isinstance(body.get("event"), dict):
        return "EPCISDocument", [body["event"]], "/epcisBody/event", None
    raise EpcisFormatError("epcisBody has no eventList, queryResults or event", "/epcisBody")


def _as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise EpcisFormatError("the event list is not an array")
    return value


def parse_json(text: str | bytes) -> Document:
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise EpcisFormatError(f"not JSON: {e}") from e
    return parse_json_object(doc)


@dataclass
class _Unread:
    """How to read a JSON document's events, and which are read already."""

    names: _Names
    ignore: set[str]
    done: bytearray

    def read(self, events: list[dict[str, Any]], lo: int, hi: int) -> None:
        for i in range(lo, hi):
            if not self.done[i]:
                events[i] = _json_event(events[i], self.names, self.ignore)
                self.done[i] = 1


def parse_json_object(doc: Any, lazy: bool = False) -> Document:
    """A document already decoded from JSON (`lazy`: its events left as decoded until
    `Document.read` asks for them; a malformed event list is refused all the same)."""
    if not isinstance(doc, dict):
        raise EpcisFormatError("the document is not a JSON object", "")
    ns = _context_namespaces(doc.get("@context"))
    kind, raw_events, base, results = _json_event_list(doc)
    ignore = _json_ignored(doc, ns) | _json_ignored(results, ns)
    names = _Names(ns)
    events, pointers = [], []
    for i, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            raise EpcisFormatError("an event is not a JSON object", f"{base}/{i}")
        events.append(raw if lazy else _json_event(raw, names, ignore))
        pointers.append(f"{base}/{i}" if base else "")
    syntax = "json-ld" if "@context" in doc else "json"
    unread = _Unread(names, ignore, bytearray(len(events))) if lazy else None
    return Document(syntax, kind, events, pointers, raw=doc, namespaces=ns, unread=unread)


# ---------------------------------------------------------------- XML

_EPC_LISTS = {"epcList", "childEPCs", "inputEPCList", "outputEPCList"}
_QUANTITY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source",
                "destinationList": "destination"}  # fmt: skip
_XML_PREFIXES = {"gs1:": "https://gs1.org/voc/", "cbv:": "https://ref.gs1.org/cbv/"}
_WRAPPERS = {"extension", "baseExtension"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )


_EPCIS_NAMESPACES = {"urn:epcglobal:epcis:xsd:1", "urn:epcglobal:epcis:xsd:2",
                     "urn:epcglobal:epcis-query:xsd:2"}  # fmt: skip
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_NIL = _XSI + "nil"


def _children(element: Any) -> list[Any]:
    """Element children, `extension`/`baseExtension` wrappers flattened, `xsi:nil` ones left out.

    Elements in the EPCIS namespaces get their bare local name, as unqualified ones have.
    """
    out: list[Any] = []
    for child in element:
        if not isinstance(child.tag, str) or child.get(_NIL) in ("true", "1"):
            continue
        qname = etree.QName(child)
        if qname.namespace in _EPCIS_NAMESPACES:
            child.tag = qname.localname
        if child.tag in _WRAPPERS:
            out.extend(_children(child))
        else:
            out.append(child)
    return out


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _xml_value(text: str) -> str:
    for prefix, uri in _XML_PREFIXES.items():
        if text.startswith(prefix):
            return uri + text[len(prefix) :]
    return text


def _generic(element: Any) -> Any:
    """An extension element: text, or a dict of its children and attributes."""
    kids = _children(element)
    attributes = {k: _xml_value(v) for k, v in element.attrib.items() if not k.startswith(_XSI)}
    if not kids and not attributes:
        return _xml_value(_text(element))
    out: dict[str, Any] = dict(attributes)
    for kid in kids:
        _put(out, kid.tag, _generic(kid))
    if _text(element):
        out["#text"] = _xml_value(_text(element))
    return out


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Add a child; a repeated name becomes a list (extension values are never lists)."""
    if key not in target:
        target[key] = value
    elif isinstance(target[key], list):
        target[key].append(value)
    else:
        target[key] = [target[key], value]


def _attributes_dict(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {k: _xml_value(v) for k, v in element.attrib.items()}
    for kid in _children(element):
        _put(out, kid.tag, _generic(kid))
    return out


def _sensor_element(element: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reports: list[dict[str, Any]] = []
    for kid in _children(element):
        if kid.tag == "sensorMetadata":
            out["sensorMetadata"] = _attributes_dict(kid)
        elif kid.tag == "sensorReport":
            reports.append(_attributes_dict(kid))
        else:
            _put(out, kid.tag, _generic(kid))
    if reports:
        out["sensorReport"] = reports
    return out


def _xml_field(child: Any) -> Any:
    tag = child.tag
    kids = _children(child)
    if tag in _EPC_LISTS:
        return [_text(k) for k in kids]
    if tag in _QUANTITY_LISTS:
        return [{q.tag: _text(q) for q in _children(k)} for k in kids]
    if tag in _TYPED_LISTS:
        return [_typed_entry(k, _TYPED_LISTS[tag]) for k in kids]
    if tag in ("readPoint", "bizLocation"):
        return _attributes_dict(child)
    if tag == "persistentDisposition":
        grouped: dict[str, list[str]] = {}
        for k in kids:
            grouped.setdefault(k.tag, []).append(_text(k))
        return grouped
    if tag == "sensorElementList":
        return [_sensor_element(k) for k in kids]
    if tag == "errorDeclaration":
        out = _attributes_dict(child)
        ids = out.pop("correctiveEventIDs", None)
        if isinstance(ids, dict):
            found = ids.get("correctiveEventID", [])
            out["correctiveEventIDs"] = found if isinstance(found, list) else [found]
        return out
    if tag == "ilmd":
        return _attributes_dict(child)
    return _generic(child)


def _typed_entry(element: Any, name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if element.get("type") is not None:
        entry["type"] = _xml_value(element.get("type"))
    entry[name] = _text(element)
    return entry


def _xml_event(element: Any, ignore: set[str]) -> dict[str, Any]:
    event: dict[str, Any] = {"type": etree.QName(element).localname}
    for child in _children(element):
        if child.tag in ignore:
            continue
        value = _xml_field(child)
        if child.tag == "certificationInfo" and "certificationInfo" in event:
            prior = event["certificationInfo"]
            event["certificationInfo"] = [*(prior if isinstance(prior, list) else [prior]), value]
        elif child.tag in event and child.tag not in _EPC_LISTS:
            prior = event[child.tag]
            event[child.tag] = [*(prior if isinstance(prior, list) else [prior]), value]
        else:
            event[child.tag] = value
    _vocab_fields(event, dict(STANDARD_PREFIXES))
    return event


def _xml_event_elements(root: Any) -> tuple[str, list[Any], Any]:
    local = etree.QName(root).localname
    if local in EVENT_TYPES:
        return "event", [root], None
    holder = None
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "EventList":
            holder = element
            break
    if holder is None and local in ("EPCISQueryDocument", "EPCISMasterDataDocument"):
        return local, [], None  # a query (Poll) or master data: no events
    if holder is None:
        raise EpcisFormatError("no EventList element", "/")
    kind = "EPCISQueryDocument" if "Query" in local else "EPCISDocument"
    return kind, _children(holder), holder


def _xml_ignored(root: Any) -> set[str]:
    names: set[str] = set()
    for child in root:
        if isinstance(child.tag, str) and etree.QName(child).localname == "ignoreFields":
            names.update(k.tag for k in child if isinstance(k.tag, str))
    return names


def parse_xml(data: str | bytes) -> Document:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as e:
        raise EpcisFormatError(f"not well-formed XML: {e}") from e
    kind, elements, holder = _xml_event_elements(root)
    ignore = _xml_ignored(root)
    if holder is not None and holder.getparent() is not None:
        ignore |= _xml_ignored(holder.getparent())
    events = [_xml_event(e, ignore) for e in elements]
    tree = root.getroottree()
    pointers = [tree.getpath(e) for e in elements]
    return Document("xml", kind, events, pointers, raw=None, namespaces=dict(root.nsmap or {}))


def parse_document(data: str | bytes, name: str = "") -> Document:
    """Read a document; XML if named `.xml` or starting with `<` (after a BOM and blanks)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    is_xml = raw[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    if name.lower().endswith(".xml") or is_xml:
        return parse_xml(raw)
    return parse_json(raw)
