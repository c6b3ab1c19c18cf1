"""A small Kazakh supply chain in EPCIS 2.0 (written for these tests): an import from China,
a transfer between two Kazakh holders, a dispatch to Russia and a retail write-off."""

from __future__ import annotations

import json
from typing import Any

from tests.factory import A, B

GLN_A, GLN_B = "4870000000012", "4870000000029"
GLN_CN, GLN_RU = "6901234567892", "4601234567893"
LOT = "55501%2F010324%2F0000123%2F001"
CLASS = f"https://id.gs1.org/01/04870000000104/10/{LOT}"
BATCH = "55501/010324/0000123/001"
PARTIES = [
    {"id": GLN_A, "tax_id": A, "name": "Almaty Trade LLP", "country": "KZ"},
    {"id": GLN_B, "tax_id": B, "name": "Astana Retail LLP", "country": "KZ"},
    {"id": GLN_CN, "tax_id": "CN9133", "name": "Shenzhen Hua Tech Co", "country": "CN"},
    {"id": GLN_RU, "tax_id": "7701234567", "name": "OOO Romashka", "country": "RU"},
]
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"keruen": "https://keruen.kz/epcis/"},
]


def party(kind: str, gln: str) -> list[dict[str, str]]:
    side = kind.split("List")[0]
    return [{"type": "owning_party", side: f"https://id.gs1.org/417/{gln}"}]


def quantity(qty: int) -> list[dict[str, Any]]:
    return [{"epcClass": CLASS, "quantity": qty, "uom": "PCE"}]


def event(
    time: str, action: str, step: str, qty: int, src: str, dst: str, **more: Any
) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+05:00",
        "action": action,
        "bizStep": step,
        "quantityList": quantity(qty),
        "sourceList": party("sourceList", src),
        "destinationList": party("destinationList", dst),
        **more,
    }


IMPORT = event(
    "2024-03-01T10:00:00+05:00",
    "ADD",
    "receiving",
    100,
    GLN_CN,
    GLN_A,
    bizTransactionList=[
        {
            "type": "https://keruen.kz/epcis/BTT-customs_declaration",
            "bizTransaction": "https://keruen.kz/dt/55501-010324-0000123",
        }
    ],
    ilmd={
        "keruen:goods": {
            "keruen:hs": "854231",
            "keruen:description": "processors",
            "keruen:origin": "CN",
        }
    },
    **{
        "keruen:value": {"keruen:amount": "1000.00", "keruen:currency": "USD"},
        "keruen:post": "KZHOR-ROAD",
    },
)
TRANSFER = event(
    "2024-03-02T10:00:00+05:00",
    "OBSERVE",
    "shipping",
    40,
    GLN_A,
    GLN_B,
    bizTransactionList=[{"type": "inv", "bizTransaction": "https://keruen.kz/esf/ESF-1"}],
    **{"keruen:value": {"keruen:amount": "500", "keruen:currency": "KZT"}},
)
DISPATCH = event(
    "2024-03-03T10:00:00+05:00",
    "OBSERVE",
    "departing",
    10,
    GLN_B,
    GLN_RU,
    bizTransactionList=[{"type": "desadv", "bizTransaction": "https://keruen.kz/mn/MN-7"}],
    **{
        "keruen:value": {"keruen:amount": "200", "keruen:currency": "USD"},
        "keruen:post": "KZTK1-ROAD",
    },
)
WRITE_OFF = event("2024-03-04T10:00:00+05:00", "DELETE", "retail_selling", 5, GLN_B, GLN_B)


def document(*events: dict[str, Any]) -> bytes:
    doc = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-05T10:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }
    return json.dumps(doc).encode()


def parties_json() -> str:
    return json.dumps(PARTIES)


TRANSFER_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2024-03-05T10:00:00Z" xmlns:keruen="https://keruen.kz/epcis/">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>2024-03-02T10:00:00+05:00</eventTime>
    <eventTimeZoneOffset>+05:00</eventTimeZoneOffset>
    <epcList/>
    <action>OBSERVE</action>
    <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
    <bizTransactionList>
      <bizTransaction type="urn:epcglobal:cbv:btt:inv">https://keruen.kz/esf/ESF-1</bizTransaction>
    </bizTransactionList>
    <quantityList><quantityElement><epcClass>{CLASS}</epcClass><quantity>40</quantity>
      <uom>PCE</uom></quantityElement></quantityList>
    <sourceList><source type="urn:epcglobal:cbv:sdt:owning_party"
      >https://id.gs1.org/417/{GLN_A}</source></sourceList>
    <destinationList><destination type="urn:epcglobal:cbv:sdt:owning_party"
      >https://id.gs1.org/417/{GLN_B}</destination></destinationList>
    <keruen:value><keruen:amount>500</keruen:amount><keruen:currency>KZT</keruen:currency></keruen:value>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>
""".encode()
