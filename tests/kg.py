"""A small Kyrgyz ledger: the second home country, as `KERUEN_JURISDICTION=KG` ingests it.

Servers (HS 847150, on the Common High Priority List) come in from China over Torugart, pass
through two Kyrgyz companies, one registered weeks before, and are dispatched to Russia over
Ak-Zhol; a Kazakh seller's goods arrive from the union partner Kazakhstan; a transit from China
to Uzbekistan leaves at another post than declared. Tax ids are real
in shape: 0 + registration date DDMMYYYY + five digits (`keruen.jurisdiction.kg_inn_problem`).
"""

from __future__ import annotations

import json
from typing import Any

OLD = "01512200910114"  # an organisation registered 15 Dec 2009
NEW = "01002202210057"  # registered 10 Feb 2022: weeks old when it sells
SHOP = "21507198510023"  # a person (2: male, born 15 Jul 1985) - a sole trader
RU_BUYER = {"tax_id": "7701234567", "name": "ООО Северный Путь", "country": "RU"}
KZ_SELLER = {"tax_id": "150340000019", "name": "ТОО Жибек Жолы", "country": "KZ"}
CN_SELLER = {"tax_id": "91650100MA77", "name": "Kashgar Trade Co", "country": "CN"}
BATCH = "41700000/150322/0000064/001"  # office (8 digits) / ddmmyy / number / item
FROM_KZ = "ARR-KZ-2022-7"


def _t(day: str) -> str:
    return f"{day}T10:00:00+06:00"


def story() -> list[dict[str, Any]]:
    servers = {"hs": "847150", "description": "servers", "unit": "PCE", "origin": "CN"}
    flour = {"hs": "110100", "description": "wheat flour", "unit": "KGM", "origin": "KZ"}
    return [
        {
            "type": "import",
            "id": "kg-imp-1",
            "time": _t("2022-03-15"),
            "batch": BATCH,
            "holder": OLD,
            "goods": servers,
            "quantity": "400",
            "value": {"amount": "2400000", "currency": "USD"},
            "seller": CN_SELLER,
            "post": "KGTG1-ROAD",
            "document": {"kind": "DT", "number": BATCH},
        },
        {
            "type": "transfer",
            "id": "kg-tr-1",
            "time": _t("2022-03-20"),
            "batch": BATCH,
            "from": OLD,
            "to": NEW,
            "quantity": "400",
            "value": {"amount": "2500000", "currency": "USD"},
            "document": {"kind": "ESF", "number": "ESF-kg-1"},
        },
        {
            "type": "dispatch",
            "id": "kg-dsp-1",
            "time": _t("2022-03-28"),
            "batch": BATCH,
            "holder": NEW,
            "quantity": "400",
            "value": {"amount": "2600000", "currency": "USD"},
            "buyer": RU_BUYER,
            "post": "KGAZ1-ROAD",
            "document": {"kind": "MN", "number": "MN-kg-1"},
        },
        {
            "type": "arrival",
            "id": "kg-arr-1",
            "time": _t("2022-04-02"),
            "batch": FROM_KZ,
            "holder": SHOP,
            "goods": flour,
            "quantity": "20000",
            "value": {"amount": "9000", "currency": "USD"},
            "seller": KZ_SELLER,
            "post": "KGAZ1-ROAD",
            "document": {"kind": "CMR", "number": "CMR-kg-7"},
        },
    ]


def lines(events: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in events)


MRN = "22KG41700T0000017"


def transit() -> list[dict[str, Any]]:
    """Laptops from China to Uzbekistan across Kyrgyzstan, declared out at Dostuk (UZ), leaving
    instead at Ak-Zhol, the post towards Kazakhstan (and Russia beyond)."""
    return [
        {
            "type": "transit_open",
            "id": "kg-tro-1",
            "time": _t("2022-04-05"),
            "mrn": MRN,
            "entry_post": "KGIR1-ROAD",
            "exit_post": "KGDS1-ROAD",
            "destination": "UZ",
            "deadline": _t("2022-04-12"),
            "carrier": {"tax_id": "91653000MA78", "name": "Kashgar Logistics", "country": "CN"},
            "consignee": {"tax_id": "305112233", "name": "Andijan Savdo", "country": "UZ"},
            "seals": ["KG-S-1"],
            "goods": [
                {
                    "hs": "847130",
                    "description": "laptops",
                    "quantity": "800",
                    "unit": "PCE",
                    "mass_kg": "2400",
                    "value": {"amount": "480000", "currency": "USD"},
                }
            ],
        },
        {
            "type": "transit_close",
            "id": "kg-trc-1",
            "time": _t("2022-04-08"),
            "mrn": MRN,
            "post": "KGAZ1-ROAD",
            "mass_kg": "2400",
            "seals_intact": True,
        },
    ]
