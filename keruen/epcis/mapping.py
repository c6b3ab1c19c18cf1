"""EPCIS 2.0 events to Keruen's contract events (the table in docs/epcis.md). Pure.

An EPCIS event (the form `keruen.epcis.document` gives) maps to one contract event per
quantity element, or is refused with the field and the reason (`Unmappable`). What EPCIS
has no place for travels in extensions of Keruen's namespace `https://keruen.kz/epcis/`
(`keruen:goods`, `keruen:value`, `keruen:post`, ...); the whole EPCIS event is kept with
the contract event under `epcis` (unknown fields are kept by the ledger), so nothing is
dropped and an export gives it back with the same CBV 2.0 hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from urllib.parse import quote, unquote

from keruen.epcis.digitallink import to_digital_link
from keruen.epcis.hashing import NATIVE, canonical_value
from keruen.jurisdiction import Jurisdiction
from keruen.settings import get_settings

__all__ = [
    "KNS",
    "Parties",
    "Unmappable",
    "batch_of",
    "batch_uri",
    "k",
    "map_event",
    "party_uri",
    "plain",
    "python_plain",
]

KNS = "https://keruen.kz/epcis/"
PARTY = "https://keruen.kz/party/"
BATCH = "https://keruen.kz/batch/"
DOCUMENT = "https://keruen.kz/document/"
SEAL = "https://keruen.kz/seal/"
TRANSIT = "https://keruen.kz/transit/"
POST = "https://keruen.kz/post/"
CONSIGNMENT = "https://keruen.kz/consignment/"
CBV = "https://ref.gs1.org/cbv/"
OWNING = CBV + "SDT-owning_party"
POSSESSING = CBV + "SDT-possessing_party"
DECLARATION = re.compile(r"^\d{5}/\d{6}/\d{7}/\d{3}$")
_KEPT_OUT = {"recordTime", "eventID", "errorDeclaration"}


@cache
def k(name: str) -> str:
    """A key of Keruen's EPCIS extension namespace, in the `{namespace}local` form."""
    return "{" + KNS + "}" + name


class Unmappable(Exception):
    """The event has no Keruen meaning, or lacks what its Keruen meaning needs."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(reason)
        self.pointer = pointer
        self.reason = reason


@dataclass
class Parties:
    """Party master data: GLN, SGLN, PGLN or any party URI to `{tax_id, name, country}`."""

    by_key: dict[str, dict[str, str]] = field(default_factory=dict)
    _seen: dict[str, dict[str, str] | None] = field(default_factory=dict, repr=False, compare=False)

    def add(self, key: str, party: dict[str, str]) -> None:
        self.by_key[_party_key(key)] = party
        self._seen.clear()

    def resolve(self, uri: str) -> dict[str, str] | None:
        """The party a URI names (the caller must not change the dict it gets)."""
        if uri in self._seen:
            return self._seen[uri]
        found = self._seen[uri] = self._resolve(uri)
        return found

    def _resolve(self, uri: str) -> dict[str, str] | None:
        found = self.by_key.get(_party_key(uri))
        if found is not None:
            return found
        if uri.startswith(PARTY):  # Keruen's own: https://keruen.kz/party/<CC>/<tax id>
            country, _, tax_id = uri[len(PARTY) :].partition("/")
            if len(country) == 2 and tax_id.startswith("name:"):
                return {"name": unquote(tax_id[5:]), "country": country}
            if len(country) == 2 and tax_id:
                return {"tax_id": unquote(tax_id), "name": unquote(tax_id), "country": country}
        return None


def _party_key(uri: str) -> str:
    """GLNs stand for themselves whatever their spelling (PGLN, SGLN, Digital Link, bare)."""
    if uri.isdigit() and len(uri) == 13:
        return uri
    if _own_party(uri):
        return uri  # (what the Digital Link parse answers for it, without its 3 µs)
    link = to_digital_link(uri) or uri
    m = re.match(r"https://id\.gs1\.org/(?:414|417)/(\d{13})", link)
    return m.group(1) if m else uri


def _own_party(uri: str) -> bool:
    """Whether `uri` is Keruen's party URI of a two-letter country and one path segment: it
    holds no GS1 key followed by four digits (no key or alias is two letters; its last
    segment is followed by nothing), so it names no GLN."""
    if not uri.startswith(PARTY):
        return False
    country, _, rest = uri[len(PARTY) :].partition("/")
    return (
        len(country) == 2
        and country.isascii()
        and country.isalpha()
        and rest != ""
        and not any(c in rest for c in "/?#\t\r\n")
    )


def party_uri(tax_id: str | None, country: str, name: str = "") -> str:
    """Keruen's party URI: by tax id, or by name for a foreign party that has none."""
    if tax_id is None:
        return f"{PARTY}{country}/name:{quote(name, safe='')}"
    return f"{PARTY}{country}/{quote(tax_id, safe='')}"


def batch_uri(batch: str) -> str:
    return BATCH + quote(batch, safe="")


@lru_cache(maxsize=1 << 14)
def batch_of(epc_class: str) -> tuple[str, str | None]:
    """(Keruen batch, GTIN or None) of an EPC class: Keruen's batch URI, or an LGTIN whose
    lot is the batch when it is a declaration item number, else `01/<GTIN>/10/<lot>`."""
    if epc_class.startswith(BATCH):
        return unquote(epc_class[len(BATCH) :]), None
    link = to_digital_link(epc_class) or epc_class
    m = re.fullmatch(r"https://id\.gs1\.org/01/(\d{14})/10/(.+)", link)
    if m is None:
        raise Unmappable("epcClass", f"{epc_class!r} is not a batch (an LGTIN or Keruen batch)")
    gtin, lot = m.group(1), unquote(m.group(2))
    return (lot if DECLARATION.match(lot) else f"01/{gtin}/10/{lot}"), gtin


# ---------------------------------------------------------------- reading an event


@dataclass(slots=True)
class _Reader:
    """One EPCIS event with the lookups the mappings share."""

    event: dict[str, Any]
    parties: Parties
    j: Jurisdiction
    kept: dict[str, Any] | None = None  # the event as kept with its contract events

    def ext(self, name: str, default: Any = None) -> Any:
        return self.event.get(k(name), default)

    def need(self, name: str) -> Any:
        value = self.ext(name)
        if value is None:
            raise Unmappable(f"keruen:{name}", f"this event needs keruen:{name} ({KNS})")
        return value

    def party(self, side: str, kind: str = OWNING) -> dict[str, str] | None:
        """The party on one side (`source` or `destination`) of the given type."""
        for entry in self.event.get(_SIDE_LISTS[side]) or []:
            if isinstance(entry, dict) and entry.get("type") == kind:
                uri = str(entry.get(side, ""))
                found = self.parties.resolve(uri)
                if found is None:
                    raise Unmappable(
                        f"{side}List", f"party {uri!r} is not in the party master data"
                    )
                return dict(found)
        return None

    def home(self, party: dict[str, str] | None) -> bool:
        return party is not None and party.get("country") == self.j.home

    def quantities(self, name: str = "quantityList") -> list[dict[str, Any]]:
        items = self.event.get(name) or []
        if self.event.get(name.replace("Quantity", "EPC").replace("quantity", "epc")):
            raise Unmappable(name, "instance-level EPCs are not batches; send class quantities")
        return [q for q in items if isinstance(q, dict)]

    def document(self, prefer: str | None = None) -> dict[str, str]:
        entries = [t for t in self.event.get("bizTransactionList") or [] if isinstance(t, dict)]
        if prefer:
            entries = sorted(entries, key=lambda t: _btt_kind(t.get("type")) != prefer)
        if not entries:
            raise Unmappable(
                "bizTransactionList", "a business transaction (the document) is needed"
            )
        number = str(entries[0].get("bizTransaction", ""))
        if number.startswith(DOCUMENT):  # Keruen's own: .../document/<kind>/<number>
            kind, _, rest = number[len(DOCUMENT) :].partition("/")
            return {"kind": unquote(kind), "number": unquote(rest)}
        return {"kind": _btt_kind(entries[0].get("type")), "number": number}

    def has_document(self, kind: str) -> bool:
        entries = self.event.get("bizTransactionList") or []
        return any(isinstance(t, dict) and _btt_kind(t.get("type")) == kind for t in entries)


_SIDE_LISTS = {"source": "sourceList", "destination": "destinationList"}


def _btt_kind(uri: Any) -> str:
    text = str(uri or "document")
    for prefix in (CBV + "BTT-", KNS + "BTT-"):
        if text.startswith(prefix):
            return unquote(text[len(prefix) :])
    return text.rsplit("/", 1)[-1][-64:] or "document"


def _base(r: _Reader, kind: str, ehash: str, i: int) -> dict[str, Any]:
    own = r.ext("id")
    ids = own if isinstance(own, list) else [own] if own else []
    event_id = str(ids[i]) if i < len(ids) else f"epcis:{ehash.split(';')[1][:48]}:{i}"
    kept = r.kept
    if kept is None:  # the same for every quantity element of the event
        kept = r.kept = {
            key: v if type(v) is str else plain(v)
            for key, v in r.event.items()
            if key not in _KEPT_OUT and (v or not isinstance(v, list | dict))
        }
    return {
        "type": kind,
        "id": event_id,
        "time": r.event.get("eventTime"),
        "epcis": {"hash": ehash, "index": i, "event": kept},
    }


def plain(value: Any) -> Any:
    """Scalars as canonical text, so that XML and JSON of one event keep the same content.

    Copy on write: a list or object holding only text is returned as it is, not copied (the
    event is read, never changed, after this). In C where it was compiled (`NATIVE`, see
    `keruen.epcis.hashing`), with this function for the values it leaves to Python.
    """
    if NATIVE is not None and get_settings().native:
        return NATIVE.plain(value)
    return python_plain(value)


def python_plain(value: Any) -> Any:
    """`plain` in Python: the specification."""
    kind = type(value)  # the exact JSON types first: most values are text
    if kind is str:
        return value
    if kind is dict:
        out: Any = None
        for key, v in value.items():
            if type(v) is not str and (p := python_plain(v)) is not v:
                if out is None:
                    out = dict(value)
                out[key] = p
        return value if out is None else out
    if kind is list:
        out = None
        for i, v in enumerate(value):
            if type(v) is not str and (p := python_plain(v)) is not v:
                if out is None:
                    out = list(value)
                out[i] = p
        return value if out is None else out
    if isinstance(value, dict):
        return {key: python_plain(v) for key, v in value.items()}
    if isinstance(value, list):
        return [python_plain(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return canonical_value(str(int(value) if float(value).is_integer() else value))
    return value


if NATIVE is not None:
    NATIVE.configure_plain(python_plain)


def _quantity(q: dict[str, Any]) -> str:
    value = q.get("quantity")
    if value is None:
        raise Unmappable("quantity", "a class-level quantity needs its quantity")
    return str(value)


def _goods(r: _Reader, i: int, gtin: str | None, unit: Any) -> dict[str, Any]:
    ilmd = r.event.get("ilmd")
    goods = (ilmd.get(k("goods")) if isinstance(ilmd, dict) else None) or r.ext("goods")
    if isinstance(goods, list):
        goods = goods[i] if i < len(goods) else None
    if not isinstance(goods, dict):
        raise Unmappable(
            "ilmd/keruen:goods", "new goods need keruen:goods (hs, description, origin)"
        )
    out = {key.rpartition("}")[2]: v for key, v in goods.items()}
    out.setdefault("unit", str(unit or "PCE"))
    if gtin and "gtin" not in out:
        out["gtin"] = gtin
    return out


def _value(r: _Reader) -> dict[str, Any]:
    value = r.need("value")
    if not isinstance(value, dict):
        raise Unmappable("keruen:value", "keruen:value is {amount, currency}")
    return {key.rpartition("}")[2]: v for key, v in value.items()}


def _optional(out: dict[str, Any], r: _Reader, *names: str) -> dict[str, Any]:
    for name in names:
        value = r.ext(name)
        if value is not None:
            out[name] = value
    return out


def _tin(party: dict[str, str]) -> str:
    if not party.get("tax_id"):
        raise Unmappable("sourceList", f"holder {party.get('name')!r} has no tax id")
    return party["tax_id"]


def _party_object(party: dict[str, str] | None, r: _Reader, name: str) -> dict[str, str]:
    given = r.ext(name)
    if isinstance(given, dict):
        return {key.rpartition("}")[2]: str(v) for key, v in given.items()}
    if party is None:
        raise Unmappable(name, f"the {name} needs an owning party or keruen:{name}")
    return party


# ---------------------------------------------------------------- the mappings


def _entry(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    source, dest = r.party("source"), r.party("destination")
    kind = r.ext("type") or ("import" if r.has_document("customs_declaration") else "arrival")
    holder = dest or r.party("destination", POSSESSING)
    if holder is None:
        raise Unmappable("destinationList", "the new holder is the destination's owning party")
    out = []
    for i, q in enumerate(r.quantities()):
        batch, gtin = batch_of(str(q.get("epcClass", "")))
        event = _base(r, kind, ehash, i) | {
            "batch": batch,
            "holder": _tin(holder),
            "quantity": _quantity(q),
            "goods": _goods(r, i, gtin, q.get("uom")),
            "value": _value(r),
            "seller": _party_object(source, r, "seller"),
            "post": r.need("post"),
            "document": r.document("customs_declaration"),
        }
        out.append(_optional(event, r, "mass_kg"))
    return out


def _moves(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    source, dest = r.party("source"), r.party("destination")
    if source is None or dest is None:
        raise Unmappable("sourceList", "a change of holder needs owning parties on both sides")
    if not r.home(source):
        raise Unmappable("sourceList", "the giving holder must be a home-country party")
    out = []
    for i, q in enumerate(r.quantities()):
        batch, _ = batch_of(str(q.get("epcClass", "")))
        quantity, value = _quantity(q), _value(r)  # (their refusals come first)
        if r.home(dest):
            event = _base(r, "transfer", ehash, i)
            event["batch"], event["quantity"], event["value"] = batch, quantity, value
            event["from"], event["to"], event["document"] = _tin(source), _tin(dest), r.document()
        else:
            buyer = _party_object(dest, r, "buyer")
            kind = "dispatch" if buyer.get("country") in r.j.partners else "export"
            event = _base(r, kind, ehash, i)
            event["batch"], event["quantity"], event["value"] = batch, quantity, value
            event["holder"], event["buyer"] = _tin(source), buyer
            event["post"], event["document"] = r.need("post"), r.document()
        out.append(_optional(event, r, "mass_kg"))
    return out


_WRITE_OFF = {
    "retail_selling": "retail",
    "destroying": "destruction",
    "decommissioning": "consumption",
    "dispensing": "consumption",
}


def _leaves(r: _Reader, ehash: str, step: str) -> list[dict[str, Any]]:
    holder = r.party("source") or r.party("source", POSSESSING)
    if holder is None:
        raise Unmappable("sourceList", "the holder is the source's owning party")
    reason = r.ext("reason") or ("loss" if "stolen" in str(r.event.get("disposition")) else None)
    reason = reason or _WRITE_OFF.get(step, "consumption")
    out = []
    for i, q in enumerate(r.quantities()):
        batch, _ = batch_of(str(q.get("epcClass", "")))
        out.append(
            _base(r, "write_off", ehash, i)
            | {
                "batch": batch,
                "holder": _tin(holder),
                "quantity": _quantity(q),
                "reason": reason,
            }
        )
    return out


def _adjust(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    holder = r.party("source") or r.party("destination")
    if holder is None:
        raise Unmappable("sourceList", "a stocktake names its holder as an owning party")
    out = []
    for i, q in enumerate(r.quantities()):
        batch, _ = batch_of(str(q.get("epcClass", "")))
        signed = r.ext("quantity") if len(r.quantities()) == 1 else None
        out.append(
            _base(r, "adjust", ehash, i)
            | {
                "batch": batch,
                "holder": _tin(holder),
                "quantity": str(signed or _quantity(q)),
                "reason": str(r.ext("reason") or "stocktake"),
            }
        )
    return out


def _transform(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    holder = r.party("source") or r.party("destination")
    if holder is None:
        raise Unmappable("sourceList", "a transformation names its holder as an owning party")
    inputs = [
        {"batch": batch_of(str(q.get("epcClass", "")))[0], "quantity": _quantity(q)}
        for q in r.quantities("inputQuantityList")
    ]
    outputs = []
    for i, q in enumerate(r.quantities("outputQuantityList")):
        batch, gtin = batch_of(str(q.get("epcClass", "")))
        outputs.append(
            {"batch": batch, "quantity": _quantity(q), "goods": _goods(r, i, gtin, q.get("uom"))}
        )
    event = _base(r, "transform", ehash, 0)
    return [event | {"holder": _tin(holder), "inputs": inputs, "outputs": outputs}]


def _position(r: _Reader, what: str) -> dict[str, float]:
    """`lat` and `lon` from the event's sensor reports of latitude and longitude."""
    position: dict[str, float] = {}
    for element in r.event.get("sensorElementList") or []:
        for report in element.get("sensorReport") or [] if isinstance(element, dict) else []:
            component = str(report.get("component", "")) if isinstance(report, dict) else ""
            for axis in ("latitude", "longitude"):
                if component.endswith("Comp-" + axis):
                    try:
                        position[axis[:3]] = float(report["value"])
                    except (KeyError, TypeError, ValueError):
                        raise Unmappable(
                            "sensorElementList", f"the {axis} reading has no numeric value"
                        ) from None
    if set(position) != {"lat", "lon"}:
        raise Unmappable("sensorElementList", f"{what} needs latitude and longitude readings")
    return position


def _seal_ping(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    epcs = r.event.get("epcList") or []
    if len(epcs) != 1:
        raise Unmappable("epcList", "a seal report names exactly one seal")
    position = _position(r, "a seal report")
    state = r.ext("state") or ("tampered" if _alarm(r.event) else "intact")
    seal = str(epcs[0])
    seal = unquote(seal[len(SEAL) :]) if seal.startswith(SEAL) else seal
    event = _base(r, "seal_ping", ehash, 0) | {"seal": seal, "state": state, **position}
    return [_optional(event, r, "code")]


def _strip(value: Any) -> Any:
    """A `keruen:` structure with its keys' namespaces taken off."""
    if isinstance(value, dict):
        return {key.rpartition("}")[2]: _strip(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _transit_open(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    """An AggregationEvent packing goods under seals: the transit declared at the entry post."""
    seals = [str(c) for c in r.event.get("childEPCs") or []]
    seals = [unquote(c[len(SEAL) :]) if c.startswith(SEAL) else c for c in seals]
    if not seals:
        raise Unmappable("childEPCs", "a transit's packing names its seals as child EPCs")
    goods = _strip(r.need("goods"))
    event = _base(r, "transit_open", ehash, 0) | {
        "mrn": r.need("mrn"),
        "entry_post": r.need("entry_post"),
        "exit_post": r.need("exit_post"),
        "destination": r.need("destination"),
        "deadline": r.need("deadline"),
        "carrier": _party_object(r.party("source"), r, "carrier"),
        "consignee": _party_object(r.party("destination"), r, "consignee"),
        "seals": seals,
        "goods": goods if isinstance(goods, list) else [goods],
    }
    for name in ("route", "guarantee"):
        if r.ext(name) is not None:
            event[name] = _strip(r.ext(name))
    return [event]


def _transit_of(r: _Reader) -> str:
    """The MRN of the transit an event is about: its transit URI (EPC or parent) or keruen:mrn."""
    for uri in [r.event.get("parentID"), *(r.event.get("epcList") or [])]:
        if isinstance(uri, str) and uri.startswith(TRANSIT):
            return unquote(uri[len(TRANSIT) :])
    return str(r.need("mrn"))


def _post_of(r: _Reader) -> str:
    """The customs post: the read point (Keruen's post URI, or any id) or keruen:post."""
    point = r.event.get("readPoint")
    uri = point.get("id") if isinstance(point, dict) else None
    if isinstance(uri, str) and uri:
        return unquote(uri[len(POST) :]) if uri.startswith(POST) else uri
    return str(r.need("post"))


def _flag(r: _Reader, name: str) -> bool:
    value = r.need(name)
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise Unmappable(f"keruen:{name}", f"keruen:{name} is true or false, not {value!r}")


def _checkpoint(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    event = _base(r, "checkpoint", ehash, 0)
    return [event | {"mrn": _transit_of(r), "post": _post_of(r), "mass_kg": r.need("mass_kg")}]


def _transit_close(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    event = _base(r, "transit_close", ehash, 0) | {
        "mrn": _transit_of(r),
        "post": _post_of(r),
        "mass_kg": r.need("mass_kg"),
        "seals_intact": _flag(r, "seals_intact"),
    }
    return [event]


def _incident(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    event = _base(r, "incident", ehash, 0) | {
        "mrn": _transit_of(r),
        "kind": r.need("kind"),
        **_position(r, "an incident"),
        "note": str(r.ext("note") or ""),
    }
    return [event]


def _receipt(r: _Reader, ehash: str) -> list[dict[str, Any]]:
    ref = r.ext("ref")
    epcs = [e for e in r.event.get("epcList") or [] if isinstance(e, str)]
    if ref is None and len(epcs) == 1 and epcs[0].startswith(CONSIGNMENT):
        ref = unquote(epcs[0][len(CONSIGNMENT) :])
    if ref is None:
        raise Unmappable(
            "epcList", f"a receipt names the consignment it confirms ({CONSIGNMENT}<ref>)"
        )
    event = _base(r, "receipt", ehash, 0) | {
        "ref": ref,
        "country": r.need("country"),
        "document": r.document(),
    }
    return [_optional(event, r, "quantity", "mass_kg")]


def _alarm(event: dict[str, Any]) -> bool:
    return "ALARM_CONDITION" in str(event.get("sensorElementList"))


_BY_TYPE = {
    "import": "entry",
    "arrival": "entry",
    "transfer": "moves",
    "dispatch": "moves",
    "export": "moves",
    "adjust": "adjust",
    "transform": "transform",
    "seal_ping": "seal_ping",
    "checkpoint": "checkpoint",
    "transit_close": "transit_close",
    "incident": "incident",
    "receipt": "receipt",
}


def _kind(r: _Reader) -> str:
    e = r.event
    declared = r.ext("type")
    if declared in _BY_TYPE:
        return _BY_TYPE[declared]
    if declared == "write_off":
        return "leaves:" + str(e.get("bizStep", "")).removeprefix(CBV + "BizStep-")
    step = str(e.get("bizStep", "")).removeprefix(CBV + "BizStep-")
    kind, action = e.get("type"), e.get("action")
    if kind == "TransformationEvent":
        return "transform"
    if kind == "AggregationEvent" and action == "ADD" and r.ext("mrn") is not None:
        return "transit_open"
    if kind == "AggregationEvent" and action == "DELETE" and _about(e, TRANSIT):
        return "transit_close"
    if kind != "ObjectEvent":
        raise Unmappable("type", f"a {kind} has no meaning in the ledger (not imported)")
    if _about(e, TRANSIT):  # the transit itself observed on its way
        return "incident" if e.get("sensorElementList") else "checkpoint"
    if _about(e, CONSIGNMENT) and step in ("receiving", "accepting", "arriving"):
        return "receipt"
    if e.get("sensorElementList") and e.get("epcList"):
        return "seal_ping"
    if action == "ADD" and step in ("commissioning", "receiving", "arriving", "accepting"):
        return "entry"
    if action in ("OBSERVE", "DELETE") and step in ("shipping", "departing"):
        return "moves"
    if action == "DELETE" and step in _WRITE_OFF:
        return "leaves:" + step
    if step == "cycle_counting":
        return "adjust"
    raise Unmappable("bizStep", f"{kind} with action {action} and bizStep {step!r} is not mapped")


def _about(event: dict[str, Any], prefix: str) -> bool:
    """Whether the event is about one thing of Keruen's kind `prefix` (EPC or parent)."""
    parent = event.get("parentID")
    if isinstance(parent, str):
        return parent.startswith(prefix)
    epcs = event.get("epcList") or []
    return len(epcs) == 1 and isinstance(epcs[0], str) and epcs[0].startswith(prefix)


_OTHERS = {
    "adjust": _adjust,
    "transform": _transform,
    "seal_ping": _seal_ping,
    "transit_open": _transit_open,
    "checkpoint": _checkpoint,
    "transit_close": _transit_close,
    "incident": _incident,
    "receipt": _receipt,
}


def map_event(
    event: dict[str, Any], ehash: str, parties: Parties, j: Jurisdiction | None = None
) -> list[dict[str, Any]]:
    """The contract events of one EPCIS event (with an `errorDeclaration`: their cancels)."""
    r = _Reader(event, parties, j or get_settings().jurisdiction)
    kind = _kind(r)
    if kind == "entry":
        mapped = _entry(r, ehash)
    elif kind == "moves":
        mapped = _moves(r, ehash)
    elif kind.startswith("leaves:"):
        mapped = _leaves(r, ehash, kind.split(":", 1)[1])
    else:
        mapped = _OTHERS[kind](r, ehash)
    declaration = event.get("errorDeclaration")
    return _cancels(mapped, declaration) if isinstance(declaration, dict) else mapped


def _cancels(mapped: list[dict[str, Any]], declaration: dict[str, Any]) -> list[dict[str, Any]]:
    """An error declaration withdraws the events the corrected event had mapped to."""
    own = declaration.get(k("id"))
    ids = own if isinstance(own, list) else [own] if own else []
    reason = unquote(str(declaration.get("reason", "")).rpartition("ER-")[2]) or "error declared"
    out = []
    for i, target in enumerate(mapped):
        cancel_id = str(ids[i]) if i < len(ids) else f"{target['id']}:x"
        out.append(
            {
                "type": "cancel",
                "id": cancel_id,
                "time": declaration.get("declarationTime"),
                "target": target["id"],
                "reason": reason,
            }
        )
    return out
