"""`keruen bench detect`: detection speed on a simulated ledger, beside the cost of reading it.

The baseline is reading and decoding the same ledger (what any detector must at least do);
the ratio says what detection adds on top.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from keruen.console import JsonOption, emit_json, out
from keruen.ingest import ingest_lines
from keruen.risk import engine as core
from keruen.risk import store
from keruen.risk.config import load
from keruen.risk.context import Context
from keruen.risk.sources import load_facts, refresh_transit
from keruen.risk.state import Ledger
from keruen.store import db
from keruen.store.port import LedgerReader


def register(bench: typer.Typer) -> None:
    bench.command(name="detect")(bench_detect)


def simulate(seed: int, preset: str, where: Path) -> Path:
    """Simulated events (and truth) written under `where`; returns the events file."""
    from keruen.sim.run import write_all

    write_all(seed, preset, where)
    return where / "events.jsonl"


def bench_detect(
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 1,
    preset: Annotated[str, typer.Option(help="Simulator preset: small | year")] = "small",
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Detection over a simulated ledger: events/s, with reading the ledger as the baseline."""
    with tempfile.TemporaryDirectory() as tmp:
        events = simulate(seed, preset, Path(tmp))
        eng = db.ready(str(Path(tmp) / "bench.db"))
        with events.open("rb") as f:
            ingest_lines(eng, f, source=str(events))
        figures = measure(eng)
        eng.dispose()
    if as_json:
        emit_json(figures)
        return
    out.print(
        f"ledger of {figures['ledger_events']:,} events ({figures['events']:,} read by the "
        f"detectors): read {figures['read_s']:.2f} s, screening and transit facts "
        f"{figures['facts_s']:.2f} s, detect and assess {figures['detect_s']:.2f} s — "
        f"{figures['events_per_s']:,.0f} ledger events/s end to end, {figures['alerts']:,} "
        f"findings; detection / reading = {figures['ratio']:.2f}"
    )
    out.print(
        f"second run, nothing appended: read {figures['second_read_s']:.2f} s "
        f"({figures['second_events_read']:,} events from the ledger, the rest from the kept "
        f"state), screening and transit facts {figures['second_facts_s']:.2f} s"
    )


def measure(eng: Engine) -> dict[str, float]:
    """Seconds to read the ledger, to gather facts, to detect and assess; the ratio of detecting
    to reading; ledger events per second from reading to assessed lanes."""
    config = load()
    with eng.connect() as conn:
        now = store.latest_us(conn)
        total = LedgerReader(conn).count_events()
        t0 = time.perf_counter()
        ledger = store.load_ledger(conn, now)
        t1 = time.perf_counter()
        facts = load_facts(conn, now, ledger)
        t2 = time.perf_counter()
    found = core.detect(Context(ledger, facts, config, now))
    core.assess(ledger, found, facts, config)
    t3 = time.perf_counter()
    n = len(ledger.events)
    again = second_run(eng, now, ledger)
    return {
        **again,
        "ledger_events": total,
        "events": n,
        "read_s": round(t1 - t0, 3),
        "facts_s": round(t2 - t1, 3),
        "detect_s": round(t3 - t2, 3),
        "events_per_s": round(total / (t3 - t0)) if t3 > t0 else 0,
        "alerts": len(found),
        "ratio": round((t3 - t2) / (t1 - t0), 2) if t1 > t0 else 0.0,
    }


def second_run(eng: Engine, now: int, ledger: Ledger) -> dict[str, float]:
    """What a second `keruen detect` reads with nothing appended since the first: detection's
    reading and transit monitoring's tracker from the states the first run kept (their
    saving, as the first run does it, not timed)."""
    with eng.begin() as conn:
        store.save_reading(conn, store.read(conn))
    refresh_transit(eng)
    with eng.connect() as conn:
        t0 = time.perf_counter()
        reading = store.read(conn)
        again = store.load_ledger(conn, now, reading)
        t1 = time.perf_counter()
        load_facts(conn, now, again)
        t2 = time.perf_counter()
    assert again.events == ledger.events, "the kept reading differs from the ledger's"
    return {
        "second_read_s": round(t1 - t0, 3),
        "second_facts_s": round(t2 - t1, 3),
        "second_events_read": reading.read,
    }
