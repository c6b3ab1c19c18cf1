"""The CBV 2.0 EPCIS event hash ID (`ni:///sha-256;...?ver=CBV2.0`), section 8.9 of CBV 2.0.

An event (in the form `keruen.epcis.document` gives, whatever its syntax) becomes a
canonical pre-hash string: its fields in the canonical property order, `key=value` joined
without separators, lists sorted, times in UTC at millisecond precision, numbers without
trailing zeros, CBV values as web URIs, GS1 identifiers as constrained canonical Digital
Link URIs; the fields outside the canonical order (business transactions, sources,
destinations, ILMD, extensions) follow, sorted. The SHA-256 of that string is the hash.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Protocol

from keruen.epcis.digitallink import to_digital_link
from keruen.settings import get_settings

__all__ = ["NATIVE", "event_hash", "hash_of_prehash", "prehash", "python_prehash"]

_IGNORED = {"type", "eventID", "recordTime", "errorDeclaration"}
_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_QUANTITY_FIELDS = ("epcClass", "quantity", "uom")
_METADATA_FIELDS = ("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
                    "dataProcessingMethod", "bizRules")  # fmt: skip
_REPORT_FIELDS = ("type", "exception", "deviceID", "deviceMetadata", "rawData",
                  "dataProcessingMethod", "time", "microorganism", "chemicalSubstance", "value",
                  "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
                  "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom",
                  "coordinateReferenceSystem")  # fmt: skip
_QUANTITY_KNOWN = frozenset(_QUANTITY_FIELDS)
_METADATA_KNOWN = frozenset(_METADATA_FIELDS)
_REPORT_KNOWN = frozenset(_REPORT_FIELDS)
_ID = frozenset({"id"})
_SENSOR_ELEMENT = frozenset({"sensorMetadata", "sensorReport"})
_TIME_FIELDS = {"eventTime", "time", "startTime", "endTime"}
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source",
                "destinationList": "destination"}  # fmt: skip
_URN_VOCAB = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
_NUMBER_START = frozenset("+-.0123456789")  # what a number can begin with
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


# ---------------------------------------------------------------- values


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> str:
    """Numbers without leading `+`, leading zeros or trailing zeros; other text unchanged.

    Through an IEEE double, as the reference implementation does and as its published
    answers encode (a 24-digit numeric string keeps only 17 significant digits).
    """
    if not _NUMBER.fullmatch(text):
        return text
    number = float(text)
    if math.isinf(number):
        return text
    return str(int(number)) if number.is_integer() else repr(number)


@lru_cache(maxsize=1 << 16)
def canonical_value(text: str) -> str:
    """A value in its canonical form: CBV web URI, number, or GS1 Digital Link URI."""
    if text.isdigit() and text.isascii() and len(text) < 16 and text[0] != "0":
        return text  # a whole number an IEEE double holds exactly, already canonical
    if text.startswith("urn:epcglobal:cbv:"):
        for urn, web in _URN_VOCAB:
            if text.startswith(urn):
                text = web + text[len(urn) :]
    if text[:1] in _NUMBER_START:
        text = _number(text)
    return to_digital_link(text) or text


@lru_cache(maxsize=1 << 14)
def canonical_time(text: str) -> str:
    """A timestamp in UTC at millisecond precision (`...T10:00:30.000Z`), half-up rounded.

    A text that is no timestamp (or names an impossible one: month 13, hour 24) is kept as
    it is; the CBV layer reports it.
    """
    text = text.strip()
    m = _UTC_TIME.fullmatch(text)
    if m is not None and _possible(m):  # already UTC: no arithmetic unless rounding carries
        fraction = (m[8] or "") + "0000"
        if fraction[:3] != "999" or fraction[3] not in "56789":
            millis = int(fraction[:3]) + (1 if fraction[3] in "56789" else 0)
            return f"{m[1]}T{m[4]}.{millis:03d}Z"
    m = _TIME.fullmatch(text)
    if m is None:
        return text
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    fraction = (m.group(7) or "") + "0000"
    millis = int(fraction[:3]) + (1 if fraction[3] in "56789" else 0)
    try:
        moment = datetime(year, month, day, hour, minute, int(m[6] or 0), tzinfo=_zone(m[8]))
        moment = (moment + timedelta(milliseconds=millis)).astimezone(UTC)
    except (ValueError, OverflowError):
        return text
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_UTC_TIME = re.compile(
    r"(\d{4}-(\d{2})-(\d{2}))T((\d{2}):(\d{2}):(\d{2}))(?:\.(\d+))?(?:Z|[+-]00:00)"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


_LAST_DAY = {f"{month:02d}": f"{days:02d}" for month, days in enumerate(_DAYS, 1)}


def _possible(m: re.Match[str]) -> bool:
    """A real moment (strftime pads no year below 1000: those take the slow way)."""
    if not m.string.isascii():  # digits of other scripts: compared as numbers
        return _possible_numbers(m)
    date, month, day, _, hour, minute, second, _ = m.groups()
    if date[0] == "0" or not "01" <= month <= "12" or not "01" <= day <= _LAST_DAY[month]:
        return False
    if month == "02" and day == "29":
        year = int(date[:4])
        if not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return False
    return hour < "24" and minute < "60" and second < "60"


def _possible_numbers(m: re.Match[str]) -> bool:
    year, month, day = int(m[1][:4]), int(m[2]), int(m[3])
    if not (1 <= month <= 12 and 1 <= day <= _DAYS[month - 1] and year >= 1000):
        return False
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return False
    return int(m[5]) < 24 and int(m[6]) < 60 and int(m[7]) < 60


def _zone(offset: str | None) -> timezone:
    if not offset or offset in "Zz":
        return UTC
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))


def _leaf(name: str, value: Any) -> str:
    text = value.strip() if type(value) is str else _text(value)
    if not text:
        return ""
    if name in _TIME_FIELDS:
        return f"{name}={canonical_time(text)}"
    return f"{name}={canonical_value(text)}"


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _joined(parts: list[str]) -> str:
    """Sibling parts sorted and joined (empty parts sort first and add nothing)."""
    if len(parts) > 1:
        parts.sort()
        return "".join(parts)
    return parts[0] if parts else ""


# ---------------------------------------------------------------- fields outside the order
#
# One pass over each structure: every renderer appends its parts to the list it is given
# (no list per call), and one part needs no sort.


def _generic(name: str, value: Any, out: list[str]) -> None:
    """Extensions and the unordered standard fields: `name[=value]children`, siblings sorted."""
    if type(value) is str:
        text = value.strip()
        out.append(f"{name}={canonical_value(text)}" if text else name)
    elif isinstance(value, list):
        if name in _TYPED_LISTS:
            entry = _TYPED_LISTS[name]
            out.append(name + _joined([_typed(e, entry) for e in value]))
        else:
            for v in value:
                _generic(name, v, out)
    elif isinstance(value, dict):
        kids: list[str] = []
        for k, v in value.items():
            if k != "#text" and k != "@value":
                _generic(k, v, kids)
        text = _text(value.get("#text", value.get("@value", "")))
        own = f"{name}={canonical_value(text)}" if text else name
        out.append(own + _joined(kids))
    else:
        text = _text(value)
        out.append(f"{name}={canonical_value(text)}" if text else name)


def _typed(entry: Any, name: str) -> str:
    if not isinstance(entry, dict):
        return _leaf(name, entry)
    return _leaf("type", entry.get("type", "")) + _leaf(name, entry.get(name, ""))


def _extensions(obj: dict[str, Any], known: frozenset[str]) -> str:
    """Namespaced extensions of a standard structure, appended to it, sorted."""
    out: list[str] = []
    for k, v in obj.items():
        if k not in known and k.startswith("{"):
            _generic(k, v, out)
    return _joined(out)


def _stray(obj: Any, known: frozenset[str]) -> dict[str, Any]:
    """Fields of a standard structure that are neither standard nor namespaced."""
    if not isinstance(obj, dict):
        return {}
    return {k: v for k, v in obj.items() if k not in known and not k.startswith("{")}


def _strays(event: dict[str, Any], out: list[str]) -> None:
    """Stray fields inside standard structures, rendered as their path at the end.

    The reference implementation keeps such fields (`bizRules` in a sensor report, say)
    out of their parent and lists them with the event's other unordered fields.
    """
    if "sensorElementList" in event:  # (an absent structure has no strays)
        elements = [_sensor_strays(e) for e in _many(event["sensorElementList"])]
        if any(elements):
            out.append("sensorElementList" + _joined(elements))
    for name in _QUANTITY_LISTS:
        if name in event:
            rest = [_stray(q, _QUANTITY_KNOWN) for q in _many(event[name])]
            body = _joined(["quantityElement" + _extensions_all(r) for r in rest if r])
            if body:
                out.append(name + body)
    for name in ("readPoint", "bizLocation"):
        if name in event:
            stray = _stray(event[name], _ID)
            if stray:
                out.append(name + _extensions_all(stray))


def _sensor_strays(element: Any) -> str:
    if not isinstance(element, dict):
        return ""
    parts = [_extensions_all(_stray(element, _SENSOR_ELEMENT))]
    for name, fields in (("sensorMetadata", _METADATA_KNOWN), ("sensorReport", _REPORT_KNOWN)):
        strays = [_stray(p, fields) for p in _many(element.get(name, []))]
        parts += [name + _extensions_all(r) for r in strays if r]
    body = _joined(parts)
    return "sensorElement" + body if body else ""


def _extensions_all(obj: dict[str, Any]) -> str:
    out: list[str] = []
    for k, v in obj.items():
        _generic(k, v, out)
    return _joined(out)


# ---------------------------------------------------------------- fields in the order


def _ordered(obj: dict[str, Any], fields: Iterable[str]) -> str:
    return "".join(_simple(f, obj[f]) for f in fields if f in obj)


def _epc_list(name: str, value: Any) -> str:
    body = _joined([_leaf("epc", e) for e in _many(value)])
    return name + body if body else ""


def _quantity_list(name: str, value: Any) -> str:
    body = _joined([_quantity(q) for q in _many(value) if isinstance(q, dict)])
    return name + body if body else ""


def _quantity(element: dict[str, Any]) -> str:
    body = ""
    for f in _QUANTITY_FIELDS:
        if f in element:
            body += _simple(f, element[f])
    if not element.keys() <= _QUANTITY_KNOWN:
        body += _extensions(element, _QUANTITY_KNOWN)
    return "quantityElement" + body if body else ""


def _persistent(name: str, value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    body = _ordered(value, ("set", "unset"))
    return name + body if body else ""


def _location(name: str, value: Any) -> str:
    if not isinstance(value, dict):
        return _leaf(name, value)
    body = _ordered(value, ("id",)) + _extensions(value, _ID)
    return name + body if body else ""


def _sensor_list(name: str, value: Any) -> str:
    body = _joined([_sensor_element(e) for e in _many(value) if isinstance(e, dict)])
    return name + body if body else ""


def _sensor_element(element: dict[str, Any]) -> str:
    metadata = _joined(
        [
            _sensor_part("sensorMetadata", m, _METADATA_FIELDS, _METADATA_KNOWN)
            for m in _many(element.get("sensorMetadata", []))
        ]
    )
    reports = _joined(
        [
            _sensor_part("sensorReport", r, _REPORT_FIELDS, _REPORT_KNOWN)
            for r in _many(element.get("sensorReport", []))
        ]
    )
    body = metadata + reports + _extensions(element, _SENSOR_ELEMENT)
    return "sensorElement" + body if body else ""


def _sensor_part(name: str, part: Any, fields: tuple[str, ...], known: frozenset[str]) -> str:
    if not isinstance(part, dict):
        return ""
    body = _ordered(part, fields) + _extensions(part, known)
    return name + body if body else ""


def _simple(name: str, value: Any) -> str:
    if type(value) is str:  # one value: nothing to sort
        return _leaf(name, value)
    if isinstance(value, list):
        return _joined([_leaf(name, v) for v in value])
    return _leaf(name, value)


_Render = Callable[[str, Any], str]
_ORDER: tuple[tuple[str, _Render], ...] = (
    ("eventTime", _simple),
    ("eventTimeZoneOffset", _simple),
    ("certificationInfo", _simple),
    ("parentID", _simple),
    ("epcList", _epc_list),
    ("inputEPCList", _epc_list),
    ("childEPCs", _epc_list),
    ("quantityList", _quantity_list),
    ("childQuantityList", _quantity_list),
    ("inputQuantityList", _quantity_list),
    ("outputEPCList", _epc_list),
    ("outputQuantityList", _quantity_list),
    ("action", _simple),
    ("transformationID", _simple),
    ("bizStep", _simple),
    ("disposition", _simple),
    ("persistentDisposition", _persistent),
    ("readPoint", _location),
    ("bizLocation", _location),
    ("sensorElementList", _sensor_list),
)
_ORDERED = {name for name, _ in _ORDER}
_SKIP = frozenset(_ORDERED | _IGNORED)
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def prehash(event: dict[str, Any]) -> str:
    """The canonical pre-hash string of one event (built in C where it was compiled and
    `KERUEN_NATIVE` is not 0; the C code answers None for the shapes it leaves to this)."""
    if NATIVE is not None and get_settings().native:
        text = NATIVE.prehash(event)
        if text is not None:
            return text
    return python_prehash(event)


def python_prehash(event: dict[str, Any]) -> str:
    """The canonical pre-hash string of one event, in Python: the specification."""
    parts = ["eventType=" + _text(event.get("type", ""))]
    for name, render in _ORDER:
        if name in event:
            parts.append(render(name, event[name]))
    unordered: list[str] = []
    for k, v in event.items():
        if k not in _SKIP:
            _generic(k, v, unordered)
    _strays(event, unordered)
    parts.append(_joined(unordered))
    return "".join(parts)


class _Native(Protocol):
    """What `keruen/epcis/_bridge.pyi` declares (the pre-hash here; `plain` for
    `keruen.epcis.mapping`, `read_event` for `keruen.epcis.document`)."""

    def prehash(self, event: dict[str, Any], /) -> str | None: ...
    def configure_plain(self, plain: Callable[[Any], Any], /) -> None: ...
    def plain(self, value: Any, /) -> Any: ...
    def configure_read(
        self, json_value: Callable[[Any, Any], Any], comments: Iterable[str], /
    ) -> None: ...
    def read_event(
        self, raw: Any, keys: Any, values: Any, names: Any, ignore: set[str], /
    ) -> dict[str, Any] | None: ...


def _load_native() -> _Native | None:
    try:
        from keruen.epcis import _bridge
    except ImportError:  # not compiled (no compiler at install): Python builds every string
        return None
    _bridge.configure(canonical_value, canonical_time, _text)
    return _bridge


NATIVE = _load_native()  # the compiled pre-hash, or None


def hash_of_prehash(text: str) -> str:
    return "ni:///sha-256;" + hashlib.sha256(text.encode("utf-8")).hexdigest() + "?ver=CBV2.0"


def event_hash(event: dict[str, Any]) -> str:
    """The CBV 2.0 event hash ID of one event."""
    return hash_of_prehash(prehash(event))
