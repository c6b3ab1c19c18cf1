"""Documents as they really arrive: the `messy` preset's pass over a simulated stream.

The economy is simulated as in the other presets (same calibration); this pass then makes
its documents look like real ones, where the clean simulator is kind to a detector:

- receipts: none from EU and Chinese destinations; from customs union partners only for the
  buyers that file them (most do, under the union's VAT rules), weeks late; from other
  partners for a minority of buyers, later still; a receipt due after the period never comes;
- foreign sellers, buyers, carriers and consignees often without a tax id (name and country
  only, as declarations and CMRs carry them);
- foreign parties renamed to common, generic company names (Russian, Kazakh, Chinese) that
  share words with listed names: «Сервис», «Волга», "Guangzhou Technology Co., Ltd.";
- times written in the offsets of the places they come from (Z, +03:00, +05:00, +06:00,
  +08:00); the same instant;
- documents out of order: receipts and seal reports reach the ledger late;
- corrections: a transfer first sent wrong (half the quantity), cancelled, sent again;
- duplicates: documents resent later, in another offset and decimal notation;
- stock left in warehouses: retail write-offs of the last two months not yet reported.

Nothing a scheme or a bait case consists of is dropped or renamed; a party whose tax id is
dropped is added to the truth under the name the detectors then see (`name (country)`).
Pure: the same seed, the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

EU = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
UNION = frozenset({"AM", "BY", "KG", "RU"})
PARTY_FIELDS = ("seller", "buyer", "carrier", "consignee")
OFFSETS = {
    "KZ": (5, 6),
    "RU": (3, 5),
    "BY": (3,),
    "KG": (6,),
    "AM": (4,),
    "CN": (8,),
    "": (0, 3, 5, 6, 8),
}

GENERIC = {
    "RU": [
        "ООО «Сервис»",
        "ООО «Волга»",
        "ООО «Инвест-Компани»",
        "ООО «Техснаб»",
        "ООО «Альфа»",
        "АО «Восток»",
        "ООО «Промсервис»",
        "ООО «Стройинвест»",
        "ООО «Торговый дом»",
        "ООО «Импульс»",
    ],
    "BY": ["ООО «Сервис-Плюс»", "ЧТУП «Восток»", "ООО «Белинвест»"],
    "KG": ["ОсОО «Береке Сервис»", "ОсОО «Алтын Инвест»", "ОсОО «Нұр Құрылыс»", "ОсОО «Ак-Жол»"],
    "AM": ["ООО «Арарат Сервис»", "ООО «Инвест»"],
    "CN": [
        "Guangzhou Technology Co., Ltd.",
        "Shenzhen Trading Co., Ltd.",
        "Yiwu Import & Export Co., Ltd.",
        "Beijing Technology Development Co., Ltd.",
        "Shanghai International Trade Co., Ltd.",
        "Xinjiang Industrial Co., Ltd.",
    ],
    "": ["Global Trade Ltd", "International Service LLC", "Invest Group Ltd", "Technology Ltd"],
}


@dataclass(frozen=True)
class Mess:
    """How messy: shares and delays (days)."""

    union_filers: float = 0.85  # share of union buyers that file the receipt
    other_filers: float = 0.4
    union_delay: tuple[float, float] = (5, 60)
    other_delay: tuple[float, float] = (20, 120)
    no_tax_id: float = 0.6  # share of foreign parties known by name and country only
    generic: float = 0.2  # share of foreign parties with a common, generic name
    late_report: tuple[float, float] = (0, 3)  # seal pings and checkpoints, days
    corrections: float = 0.01  # share of transfers sent wrong, cancelled, sent again
    duplicates: float = 0.02  # share of documents resent
    unreported_days: int = 60  # write-offs of the period's last days not yet reported


@dataclass
class Pass:
    rng: random.Random
    end_us: int
    mess: Mess = field(default_factory=Mess)
    last_us: int = 0
    protected: set[str] = field(default_factory=set)  # event ids of schemes and bait
    kept_parties: set[str] = field(default_factory=set)  # tax ids of schemes and bait
    filers: dict[str, bool] = field(default_factory=dict)
    renamed: dict[str, dict[str, Any]] = field(default_factory=dict)
    stripped: dict[str, str] = field(default_factory=dict)  # tax id -> name (country)
    party_of_ref: dict[str, tuple[str, str]] = field(default_factory=dict)


def mess_up(
    events: list[dict[str, Any]],
    truth: list[dict[str, Any]],
    bait: list[dict[str, Any]],
    seed: int,
    end: datetime,
    mess: Mess | None = None,
) -> list[dict[str, Any]]:
    """The stream as it would reach the ledger; `truth` and `bait` are updated in place."""
    p = Pass(random.Random(f"{seed}:messy"), _us(end), mess or Mess())
    # the stream runs past the period while movements under way finish; a receipt due after
    # its last document never comes
    p.last_us = max((_us(_time(e["time"])) for e in events), default=p.end_us)
    for r in (*truth, *bait):
        p.protected.update(r["events"])
        p.kept_parties.update(r["parties"])
    timed: list[tuple[int, int, dict[str, Any]]] = []
    for n, e in enumerate(events):
        for t, out in _arrivals(p, e):
            timed.append((t, n, out))
    timed.sort(key=lambda x: (x[0], x[1]))
    for r in (*truth, *bait):
        r["parties"] += [p.stripped[t] for t in r["parties"] if t in p.stripped]
    return [e for _, _, e in timed]


def _arrivals(p: Pass, e: dict[str, Any]) -> Iterable[tuple[int, dict[str, Any]]]:
    """(when it reaches the ledger, as what) for one simulated event: none, one or more."""
    t = _us(_time(e["time"]))
    kind = e["type"]
    _note_refs(p, e)
    if kind == "receipt" and e["id"] not in p.protected:
        delay = _receipt_delay(p, e)
        if delay is None or t + delay > p.last_us:
            return []
        e = {**e, "time": _shifted(e["time"], delay)}
        t += delay
    if kind == "write_off" and e["id"] not in p.protected and _unreported(p, e, t):
        return []
    e = _offset(p, _parties(p, e))
    out = [(t + _report_lag(p, kind), e)]
    if kind == "transfer" and e["id"] not in p.protected and p.rng.random() < p.mess.corrections:
        out = [(t, x) for x in _corrected(e)]
    if p.rng.random() < p.mess.duplicates:
        again = _offset(p, {**e, **_renotated(e)})
        out.append((t + int(p.rng.uniform(0.1, 5) * DAY_US), again))
    return out


DAY_US = 86_400_000_000


def _note_refs(p: Pass, e: dict[str, Any]) -> None:
    """Who would file the receipt of a movement: its buyer or consignee."""
    party = e.get("buyer") or e.get("consignee")
    if isinstance(party, dict):
        key = party.get("tax_id") or party["name"]
        p.party_of_ref[e.get("mrn") or e["id"]] = (key, party["country"])


def _receipt_delay(p: Pass, e: dict[str, Any]) -> int | None:
    """How late the receipt comes, or None when it never does."""
    key, country = p.party_of_ref.get(e["ref"], (e["ref"], e["country"]))
    if country in EU or country == "CN":
        return None
    union = country in UNION
    if key not in p.filers:
        share = p.mess.union_filers if union else p.mess.other_filers
        p.filers[key] = p.rng.random() < share
    if not p.filers[key]:
        return None
    lo, hi = p.mess.union_delay if union else p.mess.other_delay
    return int(p.rng.uniform(lo, hi) * DAY_US)


def _unreported(p: Pass, e: dict[str, Any], t: int) -> bool:
    return e.get("reason") == "retail" and t > p.end_us - p.mess.unreported_days * DAY_US


def _report_lag(p: Pass, kind: str) -> int:
    if kind not in ("seal_ping", "checkpoint"):
        return 0
    lo, hi = p.mess.late_report
    return int(p.rng.uniform(lo, hi) * DAY_US) if p.rng.random() < 0.2 else 0


def _parties(p: Pass, e: dict[str, Any]) -> dict[str, Any]:
    changed = {f: _party(p, e[f]) for f in PARTY_FIELDS if isinstance(e.get(f), dict)}
    return {**e, **changed} if changed else e


def _party(p: Pass, party: dict[str, Any]) -> dict[str, Any]:
    """The party as the documents name it (decided once per party)."""
    tax_id = party.get("tax_id")
    if party["country"] == "KZ" or not tax_id:
        return party
    if tax_id not in p.renamed:
        out = dict(party)
        # a scheme's or bait's party keeps its name: renaming it would change the case
        if tax_id not in p.kept_parties and p.rng.random() < p.mess.generic:
            names = GENERIC.get(party["country"], GENERIC[""])
            out["name"] = p.rng.choice(names)
        if p.rng.random() < p.mess.no_tax_id:
            del out["tax_id"]
            p.stripped[tax_id] = f"{out['name']} ({out['country']})"
        p.renamed[tax_id] = out
    return p.renamed[tax_id]


def _corrected(e: dict[str, Any]) -> list[dict[str, Any]]:
    """A transfer sent with half the quantity, withdrawn, and sent right."""
    q = int(float(e["quantity"]) // 2) or 1
    wrong = {**e, "id": e["id"] + "-w", "quantity": str(q)}
    cancel = {
        "type": "cancel",
        "id": e["id"] + "-c",
        "time": e["time"],
        "target": wrong["id"],
        "reason": "wrong quantity on the invoice",
    }
    return [wrong, cancel, e]


def _renotated(e: dict[str, Any]) -> dict[str, Any]:
    """The same values written otherwise: decimals with trailing zeros."""
    out: dict[str, Any] = {}
    if isinstance(e.get("quantity"), str) and "." not in e["quantity"]:
        out["quantity"] = e["quantity"] + ".000"
    value = e.get("value")
    if isinstance(value, dict) and "." not in str(value["amount"]):
        out["value"] = {**value, "amount": f"{value['amount']}.00"}
    return out


def _offset(p: Pass, e: dict[str, Any]) -> dict[str, Any]:
    """Times in the offset of where the document comes from."""
    party = next((e[f] for f in PARTY_FIELDS if isinstance(e.get(f), dict)), None)
    country = "KZ" if "holder" in e or "from" in e else party["country"] if party else ""
    hours = p.rng.choice(OFFSETS.get(country, OFFSETS[""]))
    zone = timezone(timedelta(hours=hours))
    out = {**e, "time": _written(_time(e["time"]), zone)}
    if "deadline" in e:
        out["deadline"] = _written(_time(e["deadline"]), zone)
    return out


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _written(t: datetime, zone: timezone) -> str:
    text = t.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z")


def _shifted(text: str, us: int) -> str:
    t = _time(text) + timedelta(microseconds=us)
    return t.isoformat().replace("+00:00", "Z")


def _us(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
