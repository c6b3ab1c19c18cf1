"""One simulation (or one shard of one): the world, the planner and the engine for one seed
and preset, its event batches and its `Outcome`.

Everything random comes from `random.Random` instances seeded from the seed (and the shard)
and consumed in a fixed order, and no output depends on hash order or the clock, so the
same seed and preset give the same bytes. `keruen.sim.run` writes a run's files; shards run
in parallel processes through `keruen.sim.parallel`; both build on this module.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from keruen.sim import clock
from keruen.sim.economy import KZT_PER_USD, Economy, Event, Line
from keruen.sim.engine import Batch, Engine, run_days
from keruen.sim.plan import Planner
from keruen.sim.presets import Preset, preset
from keruen.sim.summary import figures
from keruen.sim.world import World

_encoder = msgspec.json.Encoder()
CHUNK = 4096


@dataclass
class Outcome:
    """Everything a run produces besides its events; shards' outcomes add up."""

    seed: int
    preset: Preset
    schemes: list[dict[str, Any]] = field(default_factory=list)
    bait: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    posts: set[str] = field(default_factory=set)
    tally: dict[tuple[int, int, str, str], float] = field(default_factory=dict)
    expected: dict[tuple[int, str, str], float] = field(default_factory=dict)
    events: int = 0

    @classmethod
    def combine(cls, parts: list[Outcome]) -> Outcome:
        out = cls(parts[0].seed, parts[0].preset)
        for p in parts:
            out.schemes += p.schemes
            out.bait += p.bait
            out.parties += p.parties
            out.posts |= p.posts
            out.events += p.events
            for key, usd in p.tally.items():
                out.tally[key] = out.tally.get(key, 0.0) + usd
            for k, v in p.expected.items():
                out.expected[k] = out.expected.get(k, 0.0) + v
        out.schemes.sort(key=lambda r: r["id"])
        out.bait.sort(key=lambda r: r["id"])
        return out

    def world(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "preset": self.preset.public(),
            "kzt_per_usd": {str(k): v for k, v in KZT_PER_USD.items()},
            "posts": sorted(self.posts),
            "parties": self.parties,
        }

    def summary(self, seconds: float) -> dict[str, Any]:
        kinds = Counter(r["kind"] for r in self.schemes)
        return {
            "preset": self.preset.name,
            "seed": self.seed,
            "events": self.events,
            "seconds": round(seconds, 2),
            "events_per_s": round(self.events / seconds) if seconds else 0,
            "schemes": dict(sorted(kinds.items())),
            "scheme_count": len(self.schemes),
            "diverted_usd": round(sum(float(r["value_usd"]) for r in self.schemes), 2),
            "bait_count": len(self.bait),
            "parties": len(self.parties),
            "figures": figures(self.tally, self.expected, self.preset),
        }


class Simulation:
    """One run (or one shard of one): iterate `events()` once, then read `outcome()`."""

    def __init__(self, seed: int, preset_name: str = "small", shard: int = 0) -> None:
        full = preset(preset_name)
        self.seed, self.full, self.shard = seed, full, shard
        self.preset = p = full.shard() if full.shards > 1 else full
        self.rng = random.Random(seed if full.shards == 1 else f"{seed}:{shard}/{full.shards}")
        world = World(self.rng, p.kz_companies, p.foreign_per_partner, p.start, shard, full.shards)
        salt = random.Random(f"{seed}:ids").getrandbits(48)  # common to all shards
        self.eco = Economy(world, self.rng, p.consolidation, salt, p.scheme_lot, shard, full.shards)
        self.eco.ping_hours = p.ping_hours
        self.engine = Engine()
        self.eco.start = self.engine.start
        self.planner = Planner(self.eco, p)

    def batches(self, size: int = CHUNK) -> Iterator[Batch]:
        """The event stream in time order, in batches of (times, events) (generated lazily;
        memory stays bounded)."""
        first = clock.epoch(self.preset.start)
        return run_days(self.engine, first, self.preset.days, self.planner.spawn, size)

    def events(self) -> Iterator[Event | Line]:
        """The event stream in time order, one by one."""
        for _, events in self.batches():
            yield from events

    def outcome(self) -> Outcome:
        eco = self.eco
        return Outcome(
            self.seed,
            self.full,
            [r.public() for r in eco.schemes],
            [r.public() for r in eco.bait],
            eco.world.public(),
            set(eco.posts),
            dict(eco.tally),
            dict(self.planner.expected),
            self.engine.written,
        )


def lines(batches: Iterable[Batch]) -> Iterator[bytes]:
    """Batches of events encoded as JSON Lines."""
    for _, events in batches:
        yield _encoder.encode_lines(events)
