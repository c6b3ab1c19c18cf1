"""Transit scenarios written as events, each with the findings it must (and must only) raise.

Places are real: posts from keruen/data/kz_border_crossing_points.csv, waypoints from
UN/LOCODE (KZAGY Aktogay, KZKGF Karaganda, KZAST Astana, KZALA Almaty, KZTAR Taraz, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keruen.transit.model import Config
from tests.transit import factory as f

Events = list[dict[str, Any]]

# China -> Europe by rail: Dostyk, Aktogay, Karaganda, Astana, out to Russia at Petropavl
RAIL = ["KZDOS-RAIL", "KZAGY", "KZKGF", "KZAST", "KZPPK-RAIL"]
RAIL_ROUTE = ["KZAGY", "KZKGF", "KZAST"]
# China -> Uzbekistan by road: Khorgos, Almaty, Taraz, Shymkent, out at Zhibek Zholy
ROAD = ["KZHOR-ROAD", "KZALA", "KZTAR", "KZZAA", "KZZH1-ROAD"]
ROAD_ROUTE = ["KZALA", "KZTAR", "KZZAA"]
MOINTY = (47.2, 73.4)  # rail junction between Aktogay and Karaganda, off the straight line
STEPPE = (48.3, 75.0)  # between Aktogay and Karaganda, far from any post


@dataclass
class Case:
    name: str
    events: Events
    expect: set[str]
    now_h: float | None = None  # default: the latest event
    state: str | None = None  # of MRN "M1"
    config: Config = field(default_factory=Config)
    severity: dict[str, str] = field(default_factory=dict)


def rail(
    route: list[Any] | None = RAIL_ROUTE,
    stops: list[Any] | None = None,
    exit_post: str = "KZPPK-RAIL",
    close_post: str | None = "KZPPK-RAIL",
    mass: str = "20000",
    extra: Events | None = None,
    intact: bool = True,
    **kw: Any,
) -> Events:
    """A China -> Europe rail transit, by default legitimate from declaration to exit."""
    events = [f.open_("M1", "KZDOS-RAIL", exit_post, route=route, **kw)]
    events += f.trip("S1", stops or RAIL)
    events += extra or []
    end = f.hours_of(events)
    if close_post:
        events.append(f.close("M1", end + 1, close_post, mass, intact))
    return events


def road(
    stops: list[Any] | None = None,
    close_post: str | None = "KZZH1-ROAD",
    extra: Events | None = None,
) -> Events:
    events = [f.open_("M1", "KZHOR-ROAD", "KZZH1-ROAD", route=ROAD_ROUTE, destination_="UZ")]
    events += f.trip("S1", stops or ROAD)
    events += extra or []
    if close_post:
        events.append(f.close("M1", f.hours_of(events) + 1, close_post))
    return events


def opened_midway(state: str, code: str | None, explained: bool = False) -> Events:
    lat, lon = STEPPE
    extra = [f.ping("S1", 11, lat, lon, state, code), f.ping("S1", 11.5, lat, lon, state, code)]
    if explained:
        extra.append(f.incident("M1", 10.5, "customs_inspection", lat + 0.05, lon))
    return rail(stops=["KZDOS-RAIL", "KZAGY", STEPPE, "KZKGF", "KZAST", "KZPPK-RAIL"], extra=extra)


def after_close(back_to: tuple[float, float], hours_after: float) -> Events:
    events = rail()
    end = f.hours_of(events)
    return [*events, f.ping("S1", end + hours_after, *back_to)]


def long_stop(hours: float) -> Events:
    lat, lon = STEPPE
    stay = [f.ping("S1", 12 + i, lat + 0.001 * (i % 3), lon) for i in range(int(hours) + 1)]
    return rail(stops=["KZDOS-RAIL", "KZAGY", STEPPE], close_post=None, extra=stay)


def queueing() -> Events:
    events = rail(close_post=None)
    end = f.hours_of(events)
    return events + [f.ping("S1", end + 4 * i, *f.point("KZPPK-RAIL")) for i in range(60)]


def cancelled() -> Events:
    events = [f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", route=RAIL_ROUTE, id="open-M1")]
    events += f.trip("S1", ["KZDOS-RAIL", "KZAGY"])
    events.append(f.cancel("open-M1", 20))
    events.append(f.ping("S1", 30, *STEPPE))
    return events


def resealed() -> Events:
    lat, lon = STEPPE
    events = [f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", route=RAIL_ROUTE)]
    events += f.trip("S1", ["KZDOS-RAIL", "KZAGY", STEPPE])
    h = f.hours_of(events)
    events.append(f.incident("M1", h + 0.5, "seal_replaced", lat, lon, seals=["S2"]))
    events += f.trip("S2", [STEPPE, "KZKGF", "KZAST", "KZPPK-RAIL"], h0=h + 1)
    events.append(f.close("M1", f.hours_of(events) + 1, "KZPPK-RAIL"))
    return events


def two_movements(seal_b: str) -> Events:
    return [
        f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", seals=["S1"]),
        f.ping("S1", 1, 45.3, 82.3),
        f.open_("M2", "KZHOR-ROAD", "KZZH1-ROAD", h=2, seals=[seal_b], destination_="UZ"),
        f.ping(seal_b, 3, 44.2, 80.2),
    ]


CASES = [
    Case(
        "rail China-Europe, declared route, exits in Russia as declared",
        rail(),
        set(),
        state="exited",
    ),
    Case("same rail trip without a declared route (detour ellipse)", rail(route=None), set()),
    Case(
        "same trip, straight 50 km corridor only: the false flag the ellipse avoids",
        rail(route=None),
        {"route_deviation"},
        config=Config(detour_ratio=1.0),
    ),
    Case(
        "rail via Mointy, declared as a point of the route",
        rail(
            route=["KZAGY", {"lat": MOINTY[0], "lon": MOINTY[1]}, "KZKGF", "KZAST"],
            stops=["KZDOS-RAIL", "KZAGY", MOINTY, "KZKGF", "KZAST", "KZPPK-RAIL"],
        ),
        set(),
    ),
    Case(
        "rail via Mointy, a 33% bend between declared waypoints: the limit of sparse routes",
        rail(stops=["KZDOS-RAIL", "KZAGY", MOINTY, "KZKGF", "KZAST", "KZPPK-RAIL"]),
        {"route_deviation"},
    ),
    Case("road China-Uzbekistan, declared route", road(), set(), state="exited"),
    Case(
        "declared to Uzbekistan, drives north and exits to Russia",
        road(
            stops=["KZHOR-ROAD", "KZALA", "KZKGF", "KZAST", "KZKZ1-ROAD"], close_post="KZKZ1-ROAD"
        ),
        {"exit_other_post", "route_deviation"},
        state="diverted",
        severity={"exit_other_post": "high"},
    ),
    Case(
        "rail exits at another Russian post than declared",
        rail(close_post="KZBU1-RAIL"),
        {"exit_other_post"},
        state="diverted",
        severity={"exit_other_post": "medium"},
    ),
    Case("overdue, still queueing at the exit post", queueing(), {"overdue"}, state="overdue"),
    Case("not yet due", rail(close_post=None), set(), state="in_transit"),
    Case(
        "declared, nothing yet",
        [f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", seals=[])],
        set(),
        state="declared",
    ),
    Case(
        "seal opened in the steppe",
        opened_midway("opened", "01"),
        {"seal_breach"},
        severity={"seal_breach": "high"},
    ),
    Case(
        "seal opened by a customs inspection",
        opened_midway("opened", None, explained=True),
        {"seal_breach"},
        severity={"seal_breach": "low"},
    ),
    Case(
        "seal reports a low battery (code 05)",
        opened_midway("intact", "05"),
        {"seal_alarm"},
        severity={"seal_alarm": "low"},
    ),
    Case(
        "seal reports a road deviation (code 03)",
        opened_midway("intact", "03"),
        {"route_deviation"},
    ),
    Case("seals not intact at exit", rail(intact=False), {"seal_breach"}),
    Case(
        "mass short at exit",
        rail(mass="17000"),
        {"mass_difference"},
        severity={"mass_difference": "high"},
    ),
    Case("mass within tolerance at exit", rail(mass="19700"), set()),
    Case(
        "seal still moving inside after exit",
        after_close(STEPPE, 20),
        {"ping_after_close"},
        severity={"ping_after_close": "high"},
    ),
    Case("seal taken off at the exit post", after_close(f.point("KZPPK-RAIL"), 0.5), set()),
    Case(
        "seal of no declaration",
        [f.ping("X9", 5, *STEPPE), f.ping("X9", 7, *STEPPE)],
        {"ping_unbound"},
    ),
    Case(
        "seal armed just before its declaration", [f.ping("S1", -0.5, 45.25, 82.48), *rail()], set()
    ),
    Case("long stop in the steppe", long_stop(40), {"long_stop"}, now_h=53),
    Case("short stop in the steppe", long_stop(8), set(), now_h=21),
    Case(
        "seal silent for a day",
        rail(stops=["KZDOS-RAIL", "KZAGY"], close_post=None)
        + f.trip("S1", ["KZAGY", "KZKGF"], h0=40),
        {"seal_silent"},
    ),
    Case(
        "declaration cancelled, its seal keeps reporting",
        cancelled(),
        {"ping_unbound"},
        state="cancelled",
    ),
    Case("seals replaced by customs on the way", resealed(), set(), state="exited"),
    Case(
        "receipt from Russia for goods declared to Germany",
        [*rail(), f.receipt("M1", 80, "RU", mass="20000")],
        {"destination_mismatch"},
        state="diverted",
        severity={"destination_mismatch": "high"},
    ),
    Case(
        "receipt short of the exit mass",
        [*rail(), f.receipt("M1", 80, "DE", mass="15000")],
        {"mass_difference"},
        state="exited",
    ),
    Case(
        "checkpoint at a Russian post off the corridor",
        road(extra=[f.checkpoint("M1", 9, "KZKZ1-ROAD")]),
        {"checkpoint_off_route"},
        severity={"checkpoint_off_route": "high"},
    ),
    Case(
        "checkpoint at a post on the corridor",
        rail(extra=[f.checkpoint("M1", 9, "KZDOS-RAIL")]),
        set(),
    ),
    Case("events for an MRN never declared", [f.checkpoint("M9", 3, "KZDOS-RAIL")], {"undeclared"}),
    Case(
        "seal bound to a second movement while the first is open",
        two_movements("S1"),
        {"seal_reused"},
    ),
    Case("two movements, two seals", two_movements("S2"), set()),
    Case(
        "MRN declared twice",
        [
            f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", seals=[]),
            f.open_("M1", "KZDOS-RAIL", "KZPPK-RAIL", h=1, seals=[]),
        ],
        {"duplicate_mrn"},
    ),
    Case(
        "route waypoint unknown",
        rail(route=["KZAGY", "KZQQQ", "KZKGF", "KZAST"]),
        {"route_unresolved"},
    ),
    Case("exit after the deadline", rail(days=1), {"late_exit"}, state="exited"),
]
