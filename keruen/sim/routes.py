"""Which border post a consignment uses, and the transit corridors across Kazakhstan.

Goods from China come through the Khorgos and Dostyk posts, goods from Europe through
Russia and a post on the Russian border (or by air), Turkish goods across the Caspian; bulk
goods go by rail. Transit corridors join real posts (keruen/data/kz_border_crossing_points.csv).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from keruen.sim.tables import Item
from keruen.sim.world import posts_toward

BULK_UNITS = frozenset({"TNE", "MTQ"})
EAST_ASIA = frozenset({"CN", "HK", "KR", "JP", "VN", "TW", "TH", "ID", "MY", "SG", "MN"})
CASPIAN = frozenset({"TR", "AZ", "GE", "IR", "AE", "IL", "EG"})
SOUTH = frozenset({"UZ", "TJ", "AF", "IN", "PK", "BD"})
EUROPE_DESTINATIONS = ("DE", "PL", "NL", "IT", "BE", "CZ", "FR", "ES", "HU", "LT", "AT")


@cache
def _posts(neighbour: str, mode: str | None = None) -> tuple[str, ...]:
    return posts_toward(neighbour, mode)


def land_post(neighbour: str, item: Item, rng: random.Random) -> str:
    """A road or rail post on the border with `neighbour`; bulk goods prefer rail."""
    rail = _posts(neighbour, "rail")
    if rail and (item.unit in BULK_UNITS or item.group == "vehicles") and rng.random() < 0.8:
        return rail[int(rng.random() * len(rail))]
    road = _posts(neighbour, "road") or rail
    return road[int(rng.random() * len(road))]


def air_post(rng: random.Random) -> str:
    return rng.choice(("KZALA-AIR", "KZALA-AIR", "KZAST-AIR", "KZCIT-AIR"))


def entry_post(partner: str, item: Item, rng: random.Random) -> str:
    """Where goods from `partner` cross into Kazakhstan."""
    light = item.unit not in BULK_UNITS and item.kg_per_unit < 3
    if light and rng.random() < (0.25 if partner in EAST_ASIA else 0.3):
        return air_post(rng)
    if partner in EAST_ASIA:
        return land_post("CN", item, rng)
    if partner in SOUTH:
        return land_post("UZ", item, rng)
    if partner in ("TM",):
        return land_post("TM", item, rng)
    if partner in ("KG",):
        return land_post("KG", item, rng)
    if partner in CASPIAN and rng.random() < 0.6:
        return rng.choice(("KZAAU-SEA", "KZKUR-SEA"))
    return land_post("RU", item, rng)


def exit_post(country: str, item: Item, rng: random.Random) -> str:
    """Where goods for a buyer in `country` leave Kazakhstan."""
    if country in ("RU", "BY"):
        return land_post("RU", item, rng)
    if country == "AM":
        return rng.choice(("KZAAU-SEA",)) if rng.random() < 0.3 else land_post("RU", item, rng)
    if country in ("CN",):
        return land_post("CN", item, rng)
    if country in ("KG",):
        return land_post("KG", item, rng)
    if country in ("TR",):
        return rng.choice(("KZAAU-SEA", "KZKUR-SEA"))
    return land_post("UZ", item, rng)


@dataclass(frozen=True, slots=True)
class Corridor:
    """A transit route: where it enters, where it may leave, where the goods are going."""

    name: str
    entries: tuple[str, ...]
    exits: tuple[str, ...]
    destinations: tuple[str, ...]
    mix: str
    rail_share: float


@cache
def corridors() -> tuple[Corridor, ...]:
    cn_rail, cn_road = _posts("CN", "rail"), _posts("CN", "road")
    ru_rail = ("KZZS1-RAIL", "KZSGV-RAIL", "KZMAM-RAIL", "KZPPK-RAIL", "KZSGU-RAIL")
    ru_road = ("KZZS1-ROAD", "KZTK1-ROAD", "KZSM1-ROAD", "KZKG1-ROAD", "KZAB1-ROAD")
    return (
        Corridor(
            "china-europe",
            cn_rail + cn_road,
            ru_rail + ru_road,
            EUROPE_DESTINATIONS,
            "transit_cn_eu",
            0.8,
        ),
        Corridor(
            "china-caspian",
            cn_rail + cn_road,
            ("KZAAU-SEA", "KZKUR-SEA"),
            ("AZ", "GE", "TR"),
            "transit_cn_eu",
            0.7,
        ),
        Corridor(
            "china-uzbekistan",
            cn_rail + cn_road,
            _posts("UZ"),
            ("UZ", "TJ", "AF"),
            "transit_cn_ca",
            0.4,
        ),
        Corridor("china-kyrgyzstan", cn_road, _posts("KG", "road"), ("KG",), "transit_cn_ca", 0.0),
        Corridor(
            "china-turkmenistan",
            cn_rail + cn_road,
            _posts("TM"),
            ("TM", "IR"),
            "transit_cn_ca",
            0.5,
        ),
        Corridor(
            "russia-uzbekistan",
            ru_rail + ru_road,
            _posts("UZ"),
            ("UZ", "TJ", "AF"),
            "transit_ru_ca",
            0.6,
        ),
        Corridor(
            "russia-turkmenistan",
            ru_rail + ru_road,
            _posts("TM"),
            ("TM", "IR"),
            "transit_ru_ca",
            0.5,
        ),
    )


CORRIDOR_WEIGHTS = (0.45, 0.07, 0.17, 0.08, 0.05, 0.13, 0.05)
_CUM = tuple(accumulate(CORRIDOR_WEIGHTS))


def pick_corridor(r: float) -> Corridor:
    """The corridor at `r` (uniform in [0, 1)), in proportion to CORRIDOR_WEIGHTS."""
    return corridors()[min(bisect.bisect(_CUM, r * _CUM[-1]), len(_CUM) - 1)]


def pick_mode_posts(c: Corridor, rng: random.Random) -> tuple[str, str]:
    """An entry and an exit of the same mode (a train leaves by rail) where both exist."""
    rail = rng.random() < c.rail_share
    entries = [p for p in c.entries if p.endswith("-RAIL") == rail] or list(c.entries)
    exits = [p for p in c.exits if p.endswith("-RAIL") == rail or p.endswith("-SEA")] or list(
        c.exits
    )
    return rng.choice(entries), rng.choice(exits)
