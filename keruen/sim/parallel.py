"""Shards in parallel: each shard of a preset runs in its own process; the parent merges
their time-ordered streams into one.

A shard is an independent slice of the economy (its own companies, 1/n of every flow) with
identifiers in its own residue class, so merged streams never collide. The merge depends
only on the shards' streams — not on scheduling or the number of cores — so the output is
the same bytes on any machine. Workers send batches of (times, lines); the parent takes,
from every shard's current batch, what is not later than the earliest batch end, and orders
that by (time, shard, position). Pipes block when full, so memory stays bounded.
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
from array import array
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

import msgspec

from keruen.sim.engine import SimulationError
from keruen.sim.presets import preset
from keruen.sim.simulation import Outcome, Simulation

BATCH = 20_000  # events per message; positions fit in 20 bits, shards in 4
_encoder = msgspec.json.Encoder()


def worker(seed: int, preset_name: str, shard: int, conn: Connection) -> None:
    """Run one shard and send its events in batches, then its outcome (or its error)."""
    try:
        _run_shard(seed, preset_name, shard, conn)
    except (BrokenPipeError, EOFError):
        pass  # the parent stopped reading (a benchmark of the first N events)
    except Exception as e:  # reported to the parent, which raises it
        conn.send(("error", f"shard {shard}: {type(e).__name__}: {e}"))
    conn.close()


def _run_shard(seed: int, preset_name: str, shard: int, conn: Connection) -> None:
    sim = Simulation(seed, preset_name, shard)
    for times, events in sim.batches(BATCH):
        conn.send((array("q", times).tobytes(), _encoder.encode_lines(events)))
    conn.send(None)
    conn.send(sim.outcome())


class Source:
    """The parent's view of one shard: its current batch and how far it has been read."""

    def __init__(self, shard: int, conn: Connection) -> None:
        self.shard, self.conn = shard, conn
        self.times, self.lines, self.pos = array("q"), [b""], 0
        self.done = False
        self.outcome: Outcome | None = None

    def ready(self) -> bool:
        """Whether unread events remain (receiving the next batch if needed)."""
        while not self.done and self.pos >= len(self.times):
            msg = self.conn.recv()
            if msg and msg[0] == "error":
                raise SimulationError(msg[1])
            if msg is None:
                self.done = True
                self.outcome = self.conn.recv()
                break
            self.times = array("q")
            self.times.frombytes(msg[0])
            self.lines, self.pos = msg[1].split(b"\n"), 0
        return self.pos < len(self.times)


def _round(sources: list[Source]) -> bytes:
    """Every event not later than the earliest batch end, merged in time order.

    Each event's key is one integer, time then shard then position (time << 24 | shard << 20
    | position), so the merge is a sort of integers."""
    until = min(s.times[-1] for s in sources)
    keys: list[int] = []
    for s in sources:
        end = bisect.bisect_right(s.times, until, s.pos)
        tag, times = s.shard << 20, s.times
        keys.extend([times[i] << 24 | tag | i for i in range(s.pos, end)])
        s.pos = end
    keys.sort()
    lines: list[list[bytes]] = [[] for _ in range(16)]
    for s in sources:
        lines[s.shard] = s.lines
    return b"\n".join([lines[k >> 20 & 15][k & 0xFFFFF] for k in keys]) + b"\n"


def merged(seed: int, preset_name: str) -> tuple[Iterator[bytes], Callable[[], Outcome]]:
    """Start the shards' processes; the merged JSON Lines in chunks, and the outcome."""
    ctx = mp.get_context()
    sources, procs = [], []
    shards = preset(preset_name).shards
    if not 1 <= shards <= 16:
        raise SimulationError(f"a preset has 1 to 16 shards, not {shards}")
    for shard in range(shards):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=worker, args=(seed, preset_name, shard, child), daemon=True)
        proc.start()
        child.close()
        sources.append(Source(shard, parent))
        procs.append(proc)

    def chunks() -> Iterator[bytes]:
        try:
            while active := [s for s in sources if s.ready()]:
                yield _round(active)
        finally:  # finished, or the reader stopped early: end the workers either way
            for proc in procs:
                if not all(s.done for s in sources):
                    proc.terminate()
                proc.join(timeout=30)

    def outcome() -> Outcome:
        return Outcome.combine([s.outcome for s in sources if s.outcome is not None])

    return chunks(), outcome
