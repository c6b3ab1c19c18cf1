"""Watching a movement through its seals: corridor, stops, silence, alarms, after exit.

The per-ping work is the hot path of transit monitoring (`keruen bench transit`): a dict
lookup found the movement; here a ping costs a few dot products against the corridor leg
it was last seen on, one against the current stop, and two integer comparisons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keruen.ledger.rules import micros
from keruen.transit.corridor import Corridor
from keruen.transit.geo import Vec, km, to_vec
from keruen.transit.model import (
    AUTHORITY_INCIDENTS,
    SEAL_CODES,
    US_PER_HOUR,
    Entry,
    Episode,
    Finding,
    Limits,
    Stop,
    iso,
    make,
)
from keruen.transit.places import Places


def micros_of(text: str | None) -> int | None:
    return micros(datetime.fromisoformat(text)) if text else None


class Watch:
    """The seal-derived state of one movement and the findings it raises."""

    __slots__ = (
        "after",
        "alarms",
        "close_post",
        "closed_us",
        "corridor",
        "found",
        "hint",
        "incidents",
        "last_seen",
        "limits",
        "mrn",
        "off",
        "pings",
        "places",
        "silent_us",
        "started_us",
        "stop",
        "stop_cos",
        "timeline",
    )

    def __init__(
        self,
        mrn: str,
        places: Places,
        limits: Limits,
        corridor: Corridor,
        opened_us: int,
        seals: list[str],
        keep_timeline: bool,
    ) -> None:
        self.mrn, self.places, self.limits, self.corridor = mrn, places, limits, corridor
        self.silent_us, self.stop_cos = limits.silent_us, limits.stop_cos  # read on every ping
        self.found: list[Finding] = []
        self.started_us: int | None = None
        self.closed_us: int | None = None
        self.close_post: str | None = None
        self.last_seen = dict.fromkeys(seals, opened_us)
        self.hint, self.pings = 0, 0
        self.off: Episode | None = None
        self.after: Episode | None = None
        self.stop: Stop | None = None
        self.alarms: dict[str, set[str]] = {}
        self.incidents: list[tuple[int, Vec, str, str]] = []
        self.timeline: list[Entry] | None = [] if keep_timeline else None

    def _log(self, t: int, type_: str, event_id: str, **data: Any) -> None:
        if self.timeline is not None:
            self.timeline.append(Entry(t, type_, event_id, data))

    def _add(self, kind: str, t: int, severity: str, facts: dict[str, Any]) -> None:
        self.found.append(make(self.mrn, kind, t, severity, facts))

    # --- seal pings (the hot path) -----------------------------------------------------------

    def ping(
        self,
        seal: str,
        t: int,
        lat: float,
        lon: float,
        state: str,
        code: str | None,
        event_id: str = "",
    ) -> None:
        """A seal's position and state: corridor, stop, silence and alarm checks."""
        p = to_vec(lat, lon)
        if self.closed_us is not None and t > self.closed_us:
            self._after_close(seal, t, lat, lon, p, event_id)
            return
        self.pings += 1
        if self.started_us is None:
            self.started_us = t
        last = self.last_seen.get(seal, t)
        if t - last > self.silent_us:
            self._silent(seal, last, t, ongoing=False)
        self.last_seen[seal] = t
        leg = self.corridor.leg_holding(p, self.hint)
        if leg >= 0:
            self.hint = leg
            if self.off is not None:
                self._end_off()
        else:
            self._off(seal, t, lat, lon, p)
        s = self.stop  # inline: one dot product says whether the load is still standing there
        if s is not None and p[0] * s.ax + p[1] * s.ay + p[2] * s.az >= self.stop_cos:
            s.last_us, s.pings = t, s.pings + 1
        else:
            self._new_stop(p, t, lat, lon)
        if state != "intact" or code is not None:
            self._alarm(seal, t, lat, lon, p, state, code)
        elif self.alarms and seal in self.alarms:
            del self.alarms[seal]
        if self.timeline is not None:
            self._log(
                t,
                "seal_ping",
                event_id,
                seal=seal,
                lat=lat,
                lon=lon,
                state=state,
                code=code,
                corridor_km=round(self.corridor.distance_km(p), 1),
                on_corridor=leg >= 0,
            )

    def _off(self, seal: str, t: int, lat: float, lon: float, p: Vec) -> None:
        d = self.corridor.distance_km(p)
        if self.off is None:
            self.off = Episode(seal, t, t, 1, d, lat, lon)
        else:
            self.off.add(t, lat, lon, d)

    def _end_off(self) -> None:
        assert self.off is not None
        self.found.append(self._deviation(self.off))
        self.off = None

    def _deviation(self, o: Episode) -> Finding:
        return make(
            self.mrn,
            "route_deviation",
            o.first_us,
            "medium",
            {
                **o.facts(),
                "max_km": round(o.max_km, 1),
                "source": "position",
                "threshold_km": self.corridor.width_km,
                "corridor": self.corridor.kind,
            },
        )

    def _new_stop(self, p: Vec, t: int, lat: float, lon: float) -> None:
        """The load moved on: close the stop, and reuse its object (no garbage per ping)."""
        s = self.stop
        if s is None:
            self.stop = Stop(p[0], p[1], p[2], lat, lon, t, t, 1)
            return
        if s.last_us - s.start_us >= self.limits.stop_us and (f := self._long_stop(s, False)):
            self.found.append(f)
        s.ax, s.ay, s.az, s.lat, s.lon, s.start_us, s.last_us, s.pings = (*p, lat, lon, t, t, 1)

    def _end_stop(self) -> None:
        s, self.stop = self.stop, None
        if s is not None and (f := self._long_stop(s, ongoing=False)):
            self.found.append(f)

    def _long_stop(self, s: Stop, ongoing: bool) -> Finding | None:
        if s.last_us - s.start_us < self.limits.stop_us:
            return None
        post, d = self.places.nearest_post(s.anchor)
        if d <= self.limits.config.post_radius_km:
            return None  # a queue at a border post
        explained = self._incident_near(s.anchor, s.start_us, s.last_us, None)
        facts = {
            "lat": s.lat,
            "lon": s.lon,
            "start": iso(s.start_us),
            "end": iso(s.last_us),
            "hours": round((s.last_us - s.start_us) / US_PER_HOUR, 1),
            "pings": s.pings,
            "ongoing": ongoing,
            "nearest_post": post.code,
            "km_to_post": round(d, 1),
            "explained_by": explained,
        }
        return make(self.mrn, "long_stop", s.start_us, "low" if explained else "medium", facts)

    def _incident_near(
        self, p: Vec, start: int, end: int, kinds: frozenset[str] | None
    ) -> str | None:
        """An incident (of `kinds`, or any) close in time and place: it explains what happened."""
        lim = self.limits
        for t, v, event_id, kind in self.incidents:
            if (
                (kinds is None or kind in kinds)
                and start - lim.incident_us <= t <= end + lim.incident_us
                and km(p, v) <= lim.config.incident_km
            ):
                return event_id
        return None

    def _incident_between(self, start: int, end: int) -> str | None:
        """An incident reported during a silence (a breakdown, an accident) explains it."""
        return next((i for t, _, i, _ in self.incidents if start <= t <= end), None)

    def _alarm(
        self, seal: str, t: int, lat: float, lon: float, p: Vec, state: str, code: str | None
    ) -> None:
        key = f"{state}/{code}"
        seen = self.alarms.setdefault(seal, set())
        if key in seen:
            return  # the same alarm, repeated by every ping until the seal is intact again
        seen.add(key)
        meaning, kind = (
            SEAL_CODES.get(code, ("unknown code", "seal_alarm")) if code else ("", "seal_breach")
        )
        base = {"seal": seal, "lat": lat, "lon": lon, "code": code, "code_meaning": meaning}
        if state != "intact" or kind == "seal_breach":
            post, d = self.places.nearest_post(p)
            explained = self._incident_near(p, t, t, AUTHORITY_INCIDENTS)
            self._add(
                "seal_breach",
                t,
                "low" if explained else "high",
                {
                    **base,
                    "state": state,
                    "first": iso(t),
                    "source": "ping",
                    "nearest_post": post.code,
                    "km_to_post": round(d, 1),
                    "explained_by": explained,
                },
            )
        elif kind == "route_deviation":
            self._add(kind, t, "medium", {**base, "first": iso(t), "source": "seal code 03"})
        elif kind == "seal_silent":
            self._add(kind, t, "medium", {"seal": seal, "from": iso(t), "source": "seal code 06"})
        else:
            self._add(kind, t, "low", {**base, "time": iso(t)})

    def _silent(self, seal: str, start: int, end: int, ongoing: bool) -> Finding:
        facts = {
            "seal": seal,
            "from": iso(start),
            "to": iso(end),
            "hours": round((end - start) / US_PER_HOUR, 1),
            "threshold_hours": self.limits.config.silent_hours,
            "ongoing": ongoing,
            "source": "gap",
            "explained_by": self._incident_between(start, end),
        }
        f = make(
            self.mrn, "seal_silent", start, "low" if facts["explained_by"] else "medium", facts
        )
        if not ongoing:
            self.found.append(f)
        return f

    def _after_close(
        self, seal: str, t: int, lat: float, lon: float, p: Vec, event_id: str
    ) -> None:
        assert self.closed_us is not None and self.close_post is not None
        exit_post = self.places.post(self.close_post)
        d = km(p, to_vec(exit_post.lat, exit_post.lon)) if exit_post else 0.0
        self._log(
            t,
            "seal_ping",
            event_id,
            seal=seal,
            lat=lat,
            lon=lon,
            after_close=True,
            exit_km=round(d, 1),
        )
        lim = self.limits
        if t - self.closed_us <= lim.close_grace_us and d <= lim.config.close_grace_km:
            return  # the seal being taken off at the exit post
        if self.after is None:
            self.after = Episode(seal, t, t, 1, d, lat, lon)
        else:
            self.after.add(t, lat, lon, d)
            self.after.lat, self.after.lon = lat, lon  # report the latest position
