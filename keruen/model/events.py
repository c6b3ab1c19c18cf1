"""The event contract (SPEC "Event contract"): one typed struct per event type.

This module is the single source of truth for the event schema; `docs/event-schema.json`
is generated from it (`keruen schema`). Structural checks (required fields, types, RFC 3339
times with an offset, decimals that never pass through binary floats) happen while decoding;
the checks against code lists and the home jurisdiction live in `keruen.model.validate`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct, field

Text = Annotated[str, Meta(min_length=1, max_length=500)]
# No regex here: msgspec runs patterns per value, and these fields are on the hot path;
# `keruen.model.validate` checks them against their code lists instead.
Code = Annotated[str, Meta(min_length=1, max_length=64, description="identifier, no spaces")]
Country = Annotated[
    str,
    Meta(min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["RU", "CN", "DE"]),
]
Currency = Annotated[str, Meta(min_length=3, max_length=3, description="ISO 4217 alphabetic code")]
HsCode = Annotated[str, Meta(min_length=6, max_length=10, description="HS code, 6 to 10 digits")]
Unit = Annotated[str, Meta(min_length=2, max_length=3, description="UN/ECE Rec 20 unit code")]
Time = Annotated[datetime, Meta(tz=True, description="RFC 3339 with an offset")]
Quantity = Annotated[Decimal, Meta(description="decimal, as a string or a JSON number")]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lon = Annotated[float, Meta(ge=-180, le=180)]


class Model(Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=False):
    """Base of all contract structs: unknown fields are accepted (and kept with the raw event)."""


class Party(Model):
    """A counterparty. A home-country party carries its tax id; a foreign one often has only
    a name and a country (what declarations and CMRs carry for the foreign side)."""

    name: Text
    country: Country
    tax_id: Code | None = None

    @property
    def key(self) -> str:
        """How the party is referred to: its tax id, else `name (country)` (no identifier)."""
        return self.tax_id or f"{self.name} ({self.country})"


class Goods(Model):
    hs: HsCode
    description: Text
    unit: Unit
    origin: Country
    brand: Text | None = None
    manufacturer: Text | None = None
    manufacturer_country: Country | None = None
    model: Text | None = None
    gtin: Annotated[str, Meta(pattern=r"^\d{8,14}$")] | None = None


class Money(Model):
    amount: Quantity
    currency: Currency


class Document(Model):
    kind: Code
    number: Text


class Event(Model, tag_field="type"):
    id: Code
    time: Time


class Import(Event, tag="import"):
    """Released into free circulation from outside the customs union."""

    batch: Code
    holder: Code
    goods: Goods
    quantity: Quantity
    value: Money
    seller: Party
    post: Code
    document: Document
    mass_kg: Quantity | None = None


class Arrival(Import, tag="arrival"):
    """Arrived from another member state of the customs union (no customs declaration)."""


class Transfer(Event, tag="transfer"):
    """Change of holder inside the country (e-invoice, waybill)."""

    batch: Code
    from_: Code = field(name="from")
    to: Code
    quantity: Quantity
    value: Money
    document: Document
    mass_kg: Quantity | None = None


class Portion(Model):
    batch: Code
    quantity: Quantity


class Output(Model):
    batch: Code
    goods: Goods
    quantity: Quantity


class Transform(Event, tag="transform"):
    """Processing, assembly or repacking by one holder: inputs consumed, outputs created."""

    holder: Code
    inputs: Annotated[list[Portion], Meta(min_length=1)]
    outputs: Annotated[list[Output], Meta(min_length=1)]


class Dispatch(Event, tag="dispatch"):
    """Leaves for another member state of the customs union (movement notification)."""

    batch: Code
    holder: Code
    quantity: Quantity
    value: Money
    buyer: Party
    post: Code
    document: Document
    mass_kg: Quantity | None = None


class Export(Dispatch, tag="export"):
    """Leaves for outside the customs union under an export declaration."""


class WriteOff(Event, tag="write_off"):
    """Leaves the traced circuit inside the country."""

    batch: Code
    holder: Code
    quantity: Quantity
    reason: Literal["retail", "consumption", "destruction", "loss"]


class Adjust(Event, tag="adjust"):
    """Stocktake correction; the quantity is signed."""

    batch: Code
    holder: Code
    quantity: Quantity
    reason: Text


class LatLon(Model):
    lat: Lat
    lon: Lon


class Guarantee(Model):
    reference: Text
    amount: Quantity
    currency: Currency


class TransitGoods(Model):
    hs: HsCode
    description: Text
    quantity: Quantity
    unit: Unit
    mass_kg: Quantity
    value: Money


class TransitOpen(Event, tag="transit_open"):
    """Transit declared at the entry post."""

    mrn: Code
    entry_post: Code
    exit_post: Code
    destination: Country
    deadline: Time
    carrier: Party
    consignee: Party
    seals: list[Code]
    goods: Annotated[list[TransitGoods], Meta(min_length=1)]
    route: list[Annotated[str, Meta(pattern=r"^[A-Z]{2}[A-Z0-9]{3}$")] | LatLon] | None = None
    guarantee: Guarantee | None = None


class SealPing(Event, tag="seal_ping"):
    """An electronic seal's report; `code` is the EAEU navigation-seal event code."""

    seal: Code
    lat: Lat
    lon: Lon
    state: Literal["intact", "opened", "tampered"]
    code: Literal["01", "02", "03", "04", "05", "06", "07"] | None = None


class Checkpoint(Event, tag="checkpoint"):
    mrn: Code
    post: Code
    mass_kg: Quantity


class TransitClose(Event, tag="transit_close"):
    mrn: Code
    post: Code
    mass_kg: Quantity
    seals_intact: bool


class Incident(Event, tag="incident"):
    mrn: Code
    kind: Code
    lat: Lat
    lon: Lon
    note: Annotated[str, Meta(max_length=2000)]


class Receipt(Event, tag="receipt"):
    """The partner state or consignee confirms what arrived."""

    ref: Code
    country: Country
    document: Document
    quantity: Quantity | None = None
    mass_kg: Quantity | None = None


class Cancel(Event, tag="cancel"):
    """Withdraws an earlier event; the ledger reverses its effect if balances allow."""

    target: Code
    reason: Text


AnyEvent = (
    Import
    | Arrival
    | Transfer
    | Transform
    | Dispatch
    | Export
    | WriteOff
    | Adjust
    | TransitOpen
    | SealPing
    | Checkpoint
    | TransitClose
    | Incident
    | Receipt
    | Cancel
)

EVENT_TYPES: dict[str, type[Event]] = {
    str(cls.__struct_config__.tag): cls for cls in AnyEvent.__args__
}

STOCK_TYPES = frozenset(
    {"import", "arrival", "transfer", "transform", "dispatch", "export", "write_off", "adjust"}
)
TRANSIT_TYPES = frozenset({"transit_open", "seal_ping", "checkpoint", "transit_close", "incident"})


def json_schema() -> dict[str, object]:
    """The JSON Schema of one event (any type), generated from the structs above."""
    schema = msgspec.json.schema(AnyEvent)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Keruen event"
    return schema
