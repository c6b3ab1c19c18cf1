"""Realistic valid event streams for benchmarks: imports, long transfer chains, splits,
transforms and exits, generated lazily (constant memory) and deterministically for a seed."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from keruen.jurisdiction import kz_bin_check_digit

_encode = msgspec.json.Encoder().encode
HS = (
    "847130",
    "851712",
    "854231",
    "870323",
    "940360",
    "300490",
    "620342",
    "848180",
    "852872",
    "640399",
    "392690",
    "731815",
    "090240",
    "220421",
    "330499",
    "950300",
)
UNITS = {"090240": "KGM", "220421": "LTR"}
SELLERS = (
    ("CN", "Shenzhen Hua Tech Co"),
    ("DE", "Bauer Maschinen GmbH"),
    ("TR", "Anadolu Dis Ticaret AS"),
    ("KR", "Hanil Electronics"),
    ("US", "Midwest Supply Inc"),
    ("AE", "Gulf Trading FZE"),
)


def make_bins(rng: random.Random, n: int) -> list[str]:
    """Valid Kazakh BINs registered 2005-2023 (first four digits: year and month)."""
    out: list[str] = []
    while len(out) < n:
        yy, mm = rng.randint(5, 23), rng.randint(1, 12)
        first11 = f"{yy:02d}{mm:02d}4{rng.randint(0, 999999):06d}"
        check = kz_bin_check_digit(first11)
        if check is not None:
            out.append(first11 + str(check))
    return out


class StreamGen:
    """Yields JSON Lines of valid events; every batch ends up consumed within `horizon` events."""

    def __init__(
        self, seed: int = 1, holders: int = 20_000, live: int = 50_000, uuid_ids: bool = False
    ) -> None:
        self.rng = random.Random(seed)
        # random UUIDs, as integrators' systems mint them, from a generator of their own (the
        # events are the same either way); else ev-000000001, ev-000000002, ...
        self.id_rng = random.Random(f"{seed}/ids") if uuid_ids else None
        self.bins = make_bins(self.rng, holders)
        self.live_cap = live
        self.t = datetime(2024, 1, 1, tzinfo=UTC)
        self.n = 0
        self.live: list[tuple[str, str, int]] = []  # (holder, batch, quantity)

    def _id(self) -> str:
        self.n += 1
        if self.id_rng is not None:
            return str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4))
        return f"ev-{self.n:09d}"

    def _time(self) -> str:
        self.t += timedelta(seconds=self.rng.randint(1, 4))
        return self.t.isoformat().replace("+00:00", "+05:00")

    def events(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield _encode(self._next())

    def _next(self) -> dict[str, object]:
        r = self.rng.random()
        if not self.live or (r < 0.22 and len(self.live) < self.live_cap):
            return self._import()
        if len(self.live) >= self.live_cap or r > 0.93:
            return self._exit()
        if r > 0.90:
            return self._transform()
        return self._transfer()

    def _take(self) -> tuple[str, str, int]:
        i = self.rng.randrange(len(self.live))
        self.live[i], self.live[-1] = self.live[-1], self.live[i]
        return self.live.pop()

    def _import(self) -> dict[str, object]:
        hs = self.rng.choice(HS)
        date = self.t + timedelta(seconds=1)
        # a declaration number has 7 digits: past 10 M events they start over, on another date
        number = self.n % 10_000_000
        batch = f"{self.rng.choice((55501, 50101, 62001))}/{date:%d%m%y}/{number:07d}/001"
        holder = self.rng.choice(self.bins)
        qty = self.rng.choice((10, 50, 100, 500, 1000, 5000))
        self.live.append((holder, batch, qty))
        country, name = self.rng.choice(SELLERS)
        return {
            "type": "import",
            "id": self._id(),
            "time": self._time(),
            "batch": batch,
            "holder": holder,
            "goods": {
                "hs": hs,
                "description": f"goods {hs}",
                "unit": UNITS.get(hs, "PCE"),
                "origin": country,
            },
            "quantity": qty,
            "value": {"amount": str(qty * 37), "currency": "USD"},
            "seller": {"tax_id": f"{country}{self.n}", "name": name, "country": country},
            "post": self.rng.choice(("KZHOR-ROAD", "KZDOS-RAIL", "KZALA-AIR")),
            "document": {"kind": "DT", "number": batch},
        }

    def _transfer(self) -> dict[str, object]:
        holder, batch, qty = self._take()
        part = qty if qty < 4 or self.rng.random() < 0.5 else self.rng.randint(1, qty - 1)
        to = self.rng.choice(self.bins)
        while to == holder:
            to = self.rng.choice(self.bins)
        if part < qty:
            self.live.append((holder, batch, qty - part))
        self.live.append((to, batch, part))
        return {
            "type": "transfer",
            "id": self._id(),
            "time": self._time(),
            "batch": batch,
            "from": holder,
            "to": to,
            "quantity": part,
            "value": {"amount": str(part * 41), "currency": "KZT"},
            "document": {"kind": "ESF", "number": f"ESF-{self.n}"},
        }

    def _transform(self) -> dict[str, object]:
        holder, batch, qty = self._take()
        out = f"P-{self.n:09d}"
        hs = self.rng.choice(HS)
        self.live.append((holder, out, qty * 2))
        return {
            "type": "transform",
            "id": self._id(),
            "time": self._time(),
            "holder": holder,
            "inputs": [{"batch": batch, "quantity": qty}],
            "outputs": [
                {
                    "batch": out,
                    "quantity": qty * 2,
                    "goods": {
                        "hs": hs,
                        "description": f"made of {batch}",
                        "unit": UNITS.get(hs, "PCE"),
                        "origin": "KZ",
                    },
                }
            ],
        }

    def _exit(self) -> dict[str, object]:
        holder, batch, qty = self._take()
        r = self.rng.random()
        base = {
            "id": self._id(),
            "time": self._time(),
            "batch": batch,
            "holder": holder,
            "quantity": qty,
        }
        if r < 0.6:
            return {"type": "write_off", **base, "reason": "retail"}
        buyer = (
            {"tax_id": "7701234567", "name": "ООО Ромашка", "country": "RU"}
            if r < 0.85
            else {"tax_id": "UZ301", "name": "Tashkent Savdo", "country": "UZ"}
        )
        kind = "dispatch" if buyer["country"] == "RU" else "export"
        return {
            "type": kind,
            **base,
            "value": {"amount": str(qty * 45), "currency": "USD"},
            "buyer": buyer,
            "post": "KZSRY-RAIL" if kind == "export" else "KZZS1-ROAD",
            "document": {"kind": "MN", "number": f"MN-{self.n}"},
        }
