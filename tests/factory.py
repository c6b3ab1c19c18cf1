"""One-line factories for events in the contract (valid unless a test says otherwise)."""

from __future__ import annotations

import json
from typing import Any

from keruen.jurisdiction import kz_bin_check_digit


def bin_(serial: int, yymm: str = "1503") -> str:
    """A valid Kazakh BIN registered in `yymm` (first four digits)."""
    for extra in range(10):
        first11 = f"{yymm}4{serial % 100_000:05d}{extra}"
        check = kz_bin_check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise AssertionError("no check digit")


A, B, C, D = bin_(1), bin_(2), bin_(3), bin_(4)
RU_BUYER = {"tax_id": "7701234567", "name": "ООО Ромашка", "country": "RU"}
CN_SELLER = {"tax_id": "CN9133", "name": "Shenzhen Hua Tech Co", "country": "CN"}


def t(day: int, hour: int = 10) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:00:00+05:00"


def import_(
    id: str,
    batch: str,
    holder: str = A,
    qty: Any = "100",
    day: int = 1,
    hs: str = "854231",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "import",
        "id": id,
        "time": t(day),
        "batch": batch,
        "holder": holder,
        "goods": {"hs": hs, "description": "processors", "unit": "PCE", "origin": "CN"},
        "quantity": qty,
        "value": {"amount": "1000.00", "currency": "USD"},
        "seller": CN_SELLER,
        "post": "KZHOR-ROAD",
        "document": {"kind": "DT", "number": batch},
        **extra,
    }


def transfer(id: str, batch: str, src: str, dst: str, qty: Any, day: int = 2) -> dict[str, Any]:
    return {
        "type": "transfer",
        "id": id,
        "time": t(day),
        "batch": batch,
        "from": src,
        "to": dst,
        "quantity": qty,
        "value": {"amount": "500", "currency": "KZT"},
        "document": {"kind": "ESF", "number": f"ESF-{id}"},
    }


def transform(
    id: str, holder: str, inputs: list[tuple[str, Any]], out: str, qty: Any, day: int = 3
) -> dict[str, Any]:
    return {
        "type": "transform",
        "id": id,
        "time": t(day),
        "holder": holder,
        "inputs": [{"batch": b, "quantity": q} for b, q in inputs],
        "outputs": [
            {
                "batch": out,
                "quantity": qty,
                "goods": {"hs": "847150", "description": "servers", "unit": "PCE", "origin": "KZ"},
            }
        ],
    }


def dispatch(
    id: str, batch: str, holder: str, qty: Any, day: int = 4, buyer: dict[str, Any] = RU_BUYER
) -> dict[str, Any]:
    return {
        "type": "dispatch",
        "id": id,
        "time": t(day),
        "batch": batch,
        "holder": holder,
        "quantity": qty,
        "value": {"amount": "900", "currency": "USD"},
        "buyer": buyer,
        "post": "KZZS1-ROAD",
        "document": {"kind": "MN", "number": f"MN-{id}"},
    }


def write_off(id: str, batch: str, holder: str, qty: Any, day: int = 4) -> dict[str, Any]:
    return {
        "type": "write_off",
        "id": id,
        "time": t(day),
        "batch": batch,
        "holder": holder,
        "quantity": qty,
        "reason": "retail",
    }


def adjust(id: str, batch: str, holder: str, qty: Any, day: int = 4) -> dict[str, Any]:
    return {
        "type": "adjust",
        "id": id,
        "time": t(day),
        "batch": batch,
        "holder": holder,
        "quantity": qty,
        "reason": "stocktake",
    }


def cancel(id: str, target: str, day: int = 5) -> dict[str, Any]:
    return {"type": "cancel", "id": id, "time": t(day), "target": target, "reason": "annulled"}


def transit_open(id: str, mrn: str, day: int = 1) -> dict[str, Any]:
    return {
        "type": "transit_open",
        "id": id,
        "time": t(day),
        "mrn": mrn,
        "entry_post": "KZDOS-RAIL",
        "exit_post": "KZZS1-RAIL",
        "destination": "DE",
        "deadline": t(day + 10),
        "carrier": {"tax_id": "CN77", "name": "CR Express", "country": "CN"},
        "consignee": {"tax_id": "DE12", "name": "Bauer GmbH", "country": "DE"},
        "seals": ["S-1"],
        "goods": [
            {
                "hs": "847130",
                "description": "laptops",
                "quantity": "400",
                "unit": "PCE",
                "mass_kg": "1200",
                "value": {"amount": "200000", "currency": "USD"},
            }
        ],
    }


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def lines(*events: dict[str, Any]) -> list[bytes]:
    return [line(e) for e in events]
