"""A whole run: its events as JSON Lines (from one process, or merged from shards running in
parallel, keruen.sim.parallel) and the files it writes (events.jsonl, truth.jsonl,
bait.jsonl, world.json, rates.csv, partner_exports.csv, partner_truth.jsonl). The simulation
itself is `keruen.sim.simulation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from keruen.sim import partner
from keruen.sim.parallel import merged
from keruen.sim.presets import preset
from keruen.sim.rates import write_rates
from keruen.sim.simulation import Outcome, Simulation, lines

__all__ = ["Outcome", "Progress", "Simulation", "lines", "stream", "write_all"]

_encoder = msgspec.json.Encoder()
Progress = Callable[[int], None]


def stream(seed: int, preset_name: str) -> tuple[Iterator[bytes], Callable[[], Outcome]]:
    """The run's JSON Lines in chunks, and a function giving its outcome once they are read."""
    if preset(preset_name).shards > 1:
        return merged(seed, preset_name)
    sim = Simulation(seed, preset_name)
    return lines(sim.batches()), sim.outcome


def _messed(chunks: list[bytes], result: Outcome) -> bytes:
    """The run's events as real documents arrive (keruen.sim.messy); truth and bait follow."""
    from keruen.sim.messy import Mess, mess_up

    events = [msgspec.json.decode(line) for c in chunks for line in c.splitlines() if line]
    p = result.preset
    end = datetime.combine(p.end, datetime.min.time(), UTC)
    mess = Mess(unreported_days=min(60, p.days // 4))
    messed = mess_up(events, result.schemes, result.bait, result.seed, end, mess)
    result.events = len(messed)
    return _encoder.encode_lines(messed)


def write_all(
    seed: int,
    preset_name: str,
    out: Path,
    progress: Progress | None = None,
    messy: bool = False,
) -> dict[str, Any]:
    """Write the four files of a run into `out`; returns the run's summary. `messy` (or a
    messy preset) passes the documents through `keruen.sim.messy` first."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    chunks, outcome = stream(seed, preset_name)
    messy = messy or preset(preset_name).messy
    held: list[bytes] = []
    with (out / "events.jsonl").open("wb") as f:
        for chunk in chunks:
            if messy:
                held.append(chunk)
            else:
                f.write(chunk)
            if progress:
                progress(chunk.count(b"\n"))
        result = outcome()
        if messy:
            f.write(_messed(held, result))
    seconds = time.perf_counter() - start
    for name, records in (("truth.jsonl", result.schemes), ("bait.jsonl", result.bait)):
        (out / name).write_bytes(b"".join(_encoder.encode(r) + b"\n" for r in records))
    write_rates(out / "rates.csv")  # the currency rates it used, for keruen trade --rates
    partner.write(out, seed)  # partner-side export records, for keruen trade ghost
    world = msgspec.json.format(_encoder.encode(result.world()), indent=1)
    (out / "world.json").write_bytes(world)
    return result.summary(seconds)
