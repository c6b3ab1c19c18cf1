"""Keruen's ledger as EPCIS 2.0 JSON-LD (the reverse of `keruen.epcis.mapping`).

An event imported from EPCIS gives back the EPCIS event it came from (same CBV 2.0 hash);
a contract event becomes the EPCIS event the mapping table names, with Keruen's own party
and batch URIs and its `keruen:` extensions, so that importing the export gives the same
contract events. Every event type has an EPCIS form; a cancel whose target is not in the
ledger is counted as skipped. Pure except `kept_epcis`, the one read of stored JSON the read
port does not offer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import msgspec
from sqlalchemy.engine import Connection

from keruen.epcis import vocab
from keruen.epcis.document import STANDARD_PREFIXES
from keruen.epcis.mapping import (
    CBV,
    CONSIGNMENT,
    DOCUMENT,
    KNS,
    POST,
    SEAL,
    TRANSIT,
    batch_uri,
    k,
    party_uri,
)
from keruen.jurisdiction import Jurisdiction
from keruen.model import events as ev
from keruen.settings import get_settings
from keruen.store.port import LedgerReader, StoredEvent

__all__ = ["EPCIS_CONTEXT", "Exported", "contract_to_epcis", "export_events", "to_json_ld"]

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_WRITE_OFF_STEP = {
    "retail": "retail_selling",
    "destruction": "destroying",
    "consumption": "decommissioning",
    "loss": "decommissioning",
}
_CBV_BTT = set(vocab.BIZ_TRANSACTION_TYPES)


@dataclass
class Exported:
    events: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- contract -> EPCIS


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _time(e: ev.Event) -> tuple[str, str]:
    offset = e.time.strftime("%z")
    zone = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    return e.time.isoformat(), zone


def _owner(side: str, uri: str) -> list[dict[str, str]]:
    return [{"type": CBV + "SDT-owning_party", side: uri}]


def _document(doc: ev.Document, kind: str | None = None) -> list[dict[str, str]]:
    kind = kind or doc.kind
    btt = CBV + "BTT-" + kind if kind in _CBV_BTT else KNS + "BTT-" + quote(kind, safe="")
    number = f"{DOCUMENT}{quote(doc.kind, safe='')}/{quote(doc.number, safe='')}"
    return [{"type": btt, "bizTransaction": number}]


def _quantity(batch: str, quantity: Any, unit: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": batch_uri(batch), "quantity": _text(abs(quantity))}
    if unit:
        element["uom"] = unit
    return element


def _struct(value: Any) -> dict[str, Any]:
    raw = msgspec.to_builtins(value)
    return {
        k(key): _text(v) if not isinstance(v, dict) else _struct_dict(v) for key, v in raw.items()
    }


def _struct_dict(raw: dict[str, Any]) -> dict[str, Any]:
    return {k(key): _text(v) for key, v in raw.items()}


def _base(e: ev.Event, kind: str, home: str) -> dict[str, Any]:
    time, zone = _time(e)
    return {
        "type": kind,
        "eventTime": time,
        "eventTimeZoneOffset": zone,
        k("id"): e.id,
        k("type"): str(e.__struct_config__.tag),
    }


def _entry(e: ev.Import, home: str) -> dict[str, Any]:
    out = _base(e, "ObjectEvent", home) | {
        "action": "ADD",
        "bizStep": CBV + "BizStep-receiving",
        "quantityList": [_quantity(e.batch, e.quantity, e.goods.unit)],
        "bizTransactionList": _document(e.document, _entry_kind(e)),
        "sourceList": _owner("source", party_uri(e.seller.tax_id, e.seller.country, e.seller.name)),
        "destinationList": _owner("destination", party_uri(e.holder, home)),
        "ilmd": {k("goods"): _struct(e.goods)},
        k("value"): _struct(e.value),
        k("post"): e.post,
        k("seller"): _struct(e.seller),
        k("document"): _struct(e.document),
    }
    return _mass(out, e.mass_kg)


def _entry_kind(e: ev.Import) -> str | None:
    """An import's document is its customs declaration; an arrival keeps its own kind."""
    return None if isinstance(e, ev.Arrival) else "customs_declaration"


def _mass(out: dict[str, Any], mass: Any) -> dict[str, Any]:
    if mass is not None:
        out[k("mass_kg")] = _text(mass)
    return out


def _transfer(e: ev.Transfer, home: str) -> dict[str, Any]:
    out = _base(e, "ObjectEvent", home) | {
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-shipping",
        "quantityList": [_quantity(e.batch, e.quantity)],
        "bizTransactionList": _document(e.document),
        "sourceList": _owner("source", party_uri(e.from_, home)),
        "destinationList": _owner("destination", party_uri(e.to, home)),
        k("value"): _struct(e.value),
    }
    return _mass(out, e.mass_kg)


def _dispatch(e: ev.Dispatch, home: str) -> dict[str, Any]:
    out = _base(e, "ObjectEvent", home) | {
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-departing",
        "quantityList": [_quantity(e.batch, e.quantity)],
        "bizTransactionList": _document(e.document),
        "sourceList": _owner("source", party_uri(e.holder, home)),
        "destinationList": _owner(
            "destination", party_uri(e.buyer.tax_id, e.buyer.country, e.buyer.name)
        ),
        k("value"): _struct(e.value),
        k("post"): e.post,
        k("buyer"): _struct(e.buyer),
    }
    return _mass(out, e.mass_kg)


def _write_off(e: ev.WriteOff, home: str) -> dict[str, Any]:
    return _base(e, "ObjectEvent", home) | {
        "action": "DELETE",
        "bizStep": CBV + "BizStep-" + _WRITE_OFF_STEP[e.reason],
        "quantityList": [_quantity(e.batch, e.quantity)],
        "sourceList": _owner("source", party_uri(e.holder, home)),
        k("reason"): e.reason,
    }


def _adjust(e: ev.Adjust, home: str) -> dict[str, Any]:
    return _base(e, "ObjectEvent", home) | {
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-cycle_counting",
        "quantityList": [_quantity(e.batch, e.quantity)],
        "sourceList": _owner("source", party_uri(e.holder, home)),
        k("quantity"): _text(e.quantity),
        k("reason"): e.reason,
    }


def _transform(e: ev.Transform, home: str) -> dict[str, Any]:
    return _base(e, "TransformationEvent", home) | {
        "inputQuantityList": [_quantity(p.batch, p.quantity) for p in e.inputs],
        "outputQuantityList": [_quantity(o.batch, o.quantity, o.goods.unit) for o in e.outputs],
        "bizStep": CBV + "BizStep-commissioning",
        "sourceList": _owner("source", party_uri(e.holder, home)),
        "ilmd": {k("goods"): [_struct(o.goods) for o in e.outputs]},
    }


def _seal_ping(e: ev.SealPing, home: str) -> dict[str, Any]:
    out = _base(e, "ObjectEvent", home) | {
        "epcList": [SEAL + quote(e.seal, safe="")],
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-sensor_reporting",
        "sensorElementList": [{"sensorReport": _position(e.lat, e.lon)}],
        k("state"): e.state,
    }
    if e.code is not None:
        out[k("code")] = e.code
    return out


def _transit_epc(mrn: str) -> str:
    return TRANSIT + quote(mrn, safe="")


def _post(post: str) -> dict[str, str]:
    return {"id": POST + quote(post, safe="")}


def _position(lat: float, lon: float) -> list[dict[str, Any]]:
    """A place as GS1 sensor reports: latitude and longitude in decimal degrees."""
    return [
        {
            "type": "https://gs1.org/voc/Angle",
            "component": CBV + f"Comp-{axis}",
            "value": _text(value),
            "uom": "DD",
        }
        for axis, value in (("latitude", lat), ("longitude", lon))
    ]


def _checkpoint(e: ev.Checkpoint, home: str) -> dict[str, Any]:
    """A post passed: the transit observed at the post while being transported."""
    return _base(e, "ObjectEvent", home) | {
        "epcList": [_transit_epc(e.mrn)],
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-transporting",
        "disposition": CBV + "Disp-in_transit",
        "readPoint": _post(e.post),
        k("mass_kg"): _text(e.mass_kg),
    }


def _transit_close(e: ev.TransitClose, home: str) -> dict[str, Any]:
    """The transit ends at its post: its packing (the AggregationEvent of the opening) undone."""
    return _base(e, "AggregationEvent", home) | {
        "parentID": _transit_epc(e.mrn),
        "action": "DELETE",
        "bizStep": CBV + "BizStep-arriving",
        "readPoint": _post(e.post),
        k("mass_kg"): _text(e.mass_kg),
        k("seals_intact"): "true" if e.seals_intact else "false",
    }


def _incident(e: ev.Incident, home: str) -> dict[str, Any]:
    """Something happened to the transit on the way, at the place the sensor reports give."""
    return _base(e, "ObjectEvent", home) | {
        "epcList": [_transit_epc(e.mrn)],
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-transporting",
        "disposition": CBV + "Disp-in_transit",
        "sensorElementList": [{"sensorReport": _position(e.lat, e.lon)}],
        k("kind"): e.kind,
        k("note"): e.note,
    }


def _receipt(e: ev.Receipt, home: str) -> dict[str, Any]:
    """The partner state or consignee confirms what arrived of the consignment `ref` names."""
    out = _base(e, "ObjectEvent", home) | {
        "epcList": [CONSIGNMENT + quote(e.ref, safe="")],
        "action": "OBSERVE",
        "bizStep": CBV + "BizStep-receiving",
        "bizTransactionList": _document(e.document),
        k("country"): e.country,
    }
    if e.quantity is not None:
        out[k("quantity")] = _text(e.quantity)
    return _mass(out, e.mass_kg)


def _builtins(value: Any) -> Any:
    """A contract structure as `keruen:` extension values (decimals as text)."""
    if isinstance(value, dict):
        return {k(key): _builtins(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_builtins(v) for v in value]
    return value if isinstance(value, str) else _text(value)


def _transit_open(e: ev.TransitOpen, home: str) -> dict[str, Any]:
    raw = msgspec.to_builtins(e)
    out = _base(e, "AggregationEvent", home) | {
        "parentID": TRANSIT + quote(e.mrn, safe=""),
        "childEPCs": [SEAL + quote(seal, safe="") for seal in e.seals],
        "action": "ADD",
        "bizStep": CBV + "BizStep-loading",
        "sourceList": _owner(
            "source", party_uri(e.carrier.tax_id, e.carrier.country, e.carrier.name)
        ),
        "destinationList": _owner(
            "destination", party_uri(e.consignee.tax_id, e.consignee.country, e.consignee.name)
        ),
    }
    for name in (
        "mrn",
        "entry_post",
        "exit_post",
        "destination",
        "deadline",
        "carrier",
        "consignee",
        "goods",
        "route",
        "guarantee",
    ):
        if raw.get(name) is not None:
            out[k(name)] = _builtins(raw[name])
    return out


_BUILDERS: dict[type[Any], Any] = {
    ev.TransitOpen: _transit_open,
    ev.Import: _entry,
    ev.Arrival: _entry,
    ev.Transfer: _transfer,
    ev.Dispatch: _dispatch,
    ev.Export: _dispatch,
    ev.WriteOff: _write_off,
    ev.Adjust: _adjust,
    ev.Transform: _transform,
    ev.SealPing: _seal_ping,
    ev.Checkpoint: _checkpoint,
    ev.TransitClose: _transit_close,
    ev.Incident: _incident,
    ev.Receipt: _receipt,
}


def contract_to_epcis(
    e: ev.AnyEvent, target: dict[str, Any] | None = None, j: Jurisdiction | None = None
) -> dict[str, Any] | None:
    """The EPCIS event of a contract event; a cancel is its target's event with an error
    declaration. None for a cancel without its target."""
    if isinstance(e, ev.Cancel):
        if target is None:
            return None
        declaration = {
            "declarationTime": e.time.isoformat(),
            "reason": KNS + "ER-" + quote(e.reason, safe=""),
            k("id"): e.id,
        }
        return {**target, "errorDeclaration": declaration}
    build = _BUILDERS.get(type(e))
    home = (j or get_settings().jurisdiction).home
    return None if build is None else dict(build(e, home))


# ---------------------------------------------------------------- reading the ledger


def kept_epcis(conn: Connection, seqs: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The EPCIS events kept with imported contract events (field `epcis`), by seq."""
    found: dict[int, dict[str, Any]] = {}
    for seq, stored in LedgerReader(conn).stored_objects(list(seqs)).items():
        kept = stored.get("epcis")
        if isinstance(kept, dict) and isinstance(kept.get("event"), dict):
            found[seq] = kept
    return found


def export_events(conn: Connection, selected: Iterable[StoredEvent]) -> Exported:
    """The EPCIS events of stored events, in ledger order."""
    stored = list(selected)
    kept = kept_epcis(conn, [s.seq for s in stored])
    targets = _cancel_targets(conn, stored)
    out = Exported(last_seq=stored[-1].seq if stored else 0)
    for s in stored:
        event = _one(s, kept, targets)
        if event is None:
            if not (s.seq in kept and kept[s.seq].get("index")):
                out.skipped[s.type] = out.skipped.get(s.type, 0) + 1
            continue
        out.events.append(event)
    return out


def _one(
    s: StoredEvent, kept: dict[int, dict[str, Any]], targets: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    if s.seq in kept:
        return dict(kept[s.seq]["event"]) if not kept[s.seq].get("index") else None
    target = targets.get(s.event.target) if isinstance(s.event, ev.Cancel) else None
    return contract_to_epcis(s.event, target)


def _cancel_targets(conn: Connection, stored: list[StoredEvent]) -> dict[str, dict[str, Any]]:
    ids = {s.event.target for s in stored if isinstance(s.event, ev.Cancel)}
    if not ids:
        return {}
    found = LedgerReader(conn).events_by_id(ids)
    kept = kept_epcis(conn, [s.seq for s in found.values()])
    out: dict[str, dict[str, Any]] = {}
    for event_id, s in found.items():
        event = dict(kept[s.seq]["event"]) if s.seq in kept else contract_to_epcis(s.event)
        if event is not None:
            out[event_id] = event
    return out


# ---------------------------------------------------------------- JSON-LD


def _reverse(*terms: dict[str, str]) -> dict[str, str]:
    return {uri: term for table in terms for term, uri in table.items()}


_BARE = {
    "bizStep": _reverse(vocab.BIZ_STEPS),
    "disposition": _reverse(vocab.DISPOSITIONS),
    "set": _reverse(vocab.DISPOSITIONS),
    "unset": _reverse(vocab.DISPOSITIONS),
    "type": _reverse(vocab.SENSOR_TYPES, vocab.BIZ_TRANSACTION_TYPES, vocab.SOURCE_DEST_TYPES),
    "component": _reverse(vocab.COMPONENTS),
    "exception": _reverse(vocab.SENSOR_EXCEPTIONS),
    "reason": _reverse(vocab.ERROR_REASONS),
}
_NUMBERS = {
    "quantity",
    "value",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
}


@dataclass
class _Prefixes:
    by_ns: dict[str, str] = field(default_factory=lambda: {KNS: "keruen"})

    def key(self, name: str) -> str:
        if not name.startswith("{"):
            return name
        ns, _, local = name[1:].partition("}")
        if ns not in self.by_ns:
            known = {v: p for p, v in STANDARD_PREFIXES.items()}
            self.by_ns[ns] = known.get(ns, f"ns{len(self.by_ns)}")
        return f"{self.by_ns[ns]}:{local}"

    def context(self) -> list[Any]:
        return [EPCIS_CONTEXT, {p: ns for ns, p in self.by_ns.items()}]


def _compact(value: Any, prefixes: _Prefixes, name: str = "") -> Any:
    if isinstance(value, dict):
        return {prefixes.key(key): _compact(v, prefixes, key) for key, v in value.items()}
    if isinstance(value, list):
        return [_compact(v, prefixes, name) for v in value]
    if name in _BARE and value in _BARE[name]:
        return _BARE[name][value]
    if name in _NUMBERS and isinstance(value, str):
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if name == "booleanValue" and isinstance(value, str):
        return value == "true"
    return value


def to_json_ld(events: list[dict[str, Any]], created: str) -> dict[str, Any]:
    """An EPCIS 2.0 JSON-LD document of events in the one event form."""
    prefixes = _Prefixes()
    body = [_compact(e, prefixes) for e in events]
    return {
        "@context": prefixes.context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"eventList": body},
    }
