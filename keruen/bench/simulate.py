"""`keruen bench simulate`: events written per second, CPU per event, and a baseline.

The run writes the first N events of a preset to a temporary file, as `keruen simulate`
does. The baseline, in the same run, decodes and re-encodes those same lines and writes
them again: the cost of the bytes alone, without simulating anything. Wall time on a
shared machine depends on its load, so CPU seconds (this process and its shard workers)
are printed as well.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from keruen.console import progress
from keruen.sim.presets import preset
from keruen.sim.run import stream

BASELINE_LINES = 200_000


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def write_first(seed: int, preset_name: str, events: int, path: Path, show: bool) -> int:
    """Write the first `events` events of a run to `path`; returns how many were written."""
    chunks, _ = stream(seed, preset_name)
    n = 0
    with path.open("wb") as f, progress("simulate", events, show) as advance:
        for chunk in chunks:
            count = chunk.count(b"\n")
            if n + count > events:
                chunk = b"".join(chunk.splitlines(keepends=True)[: events - n])
                count = events - n
            f.write(chunk)
            n += count
            advance(count)
            if n >= events:
                break
        close = getattr(chunks, "close", None)
        if close:
            close()
    return n


def baseline(path: Path, limit: int) -> float:
    """Events per second to decode, re-encode and write lines that already exist."""
    decoder, encoder = msgspec.json.Decoder(), msgspec.json.Encoder()
    with path.open("rb") as f:
        lines = [line for _, line in zip(range(limit), f, strict=False)]
    start = time.perf_counter()
    buf = bytearray()
    with open(os.devnull, "wb") as sink:
        for line in lines:
            encoder.encode_into(decoder.decode(line), buf, -1)
            buf += b"\n"
            if len(buf) > 1 << 20:
                sink.write(buf)
                buf.clear()
        sink.write(buf)
    return len(lines) / (time.perf_counter() - start)


def measure(seed: int, preset_name: str, events: int, show: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        cpu0, start = _cpu(), time.perf_counter()
        n = write_first(seed, preset_name, events, path, show)
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu0
        base = baseline(path, BASELINE_LINES)
    rate = n / seconds
    return {
        "preset": preset_name,
        "seed": seed,
        "events": n,
        "seconds": round(seconds, 2),
        "events_per_s": round(rate),
        "cpu_seconds": round(cpu, 2),
        "events_per_cpu_s": round(n / cpu) if cpu else 0,
        "shards": preset(preset_name).shards,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "baseline_events_per_s": round(base),
        "ratio": round(rate / base, 3),
        "peak_rss_mb": _peak_mb(),
    }
