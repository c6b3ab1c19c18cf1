"""`keruen demo`: the main job, end to end on the embedded default (SQLite, no server)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy as sa

from keruen.bench.streams import StreamGen
from keruen.console import out, progress
from keruen.ingest import ingest_lines
from keruen.store import db, queries
from keruen.store import ledger as store
from keruen.store import schema as t


def run(path: Path, events: int = 20_000, seed: int = 7) -> None:
    if path.exists():
        os.remove(path)
    eng = db.ready(str(path))
    start = time.perf_counter()
    with progress("ingest", events) as advance:
        report = ingest_lines(
            eng, StreamGen(seed=seed).events(events), source="demo", progress=advance
        )
    elapsed = time.perf_counter() - start
    out.rule("[bold]Keruen demo: the traceability ledger")
    out.print(
        f"ledger {path}: {report.accepted:,} events accepted, {report.rejected:,} rejected "
        f"in {elapsed:.1f} s ({report.accepted / elapsed:,.0f} events/s)"
    )
    with eng.connect() as conn:
        broken = [b for b in store.verify(conn) if isinstance(b, store.ChainBreak)]
        out.print("hash chain: " + ("[green]intact[/]" if not broken else f"[red]{broken[0]}[/]"))
        made = conn.scalar(sa.select(t.links.c.output).order_by(t.links.c.event_seq).limit(1))
        if made:
            _show_trace(conn, made)


def _show_trace(conn: sa.Connection, batch: str) -> None:
    back = queries.trace_back(conn, batch)
    out.print(f"\n[bold]trace back[/] of processed batch {batch}:")
    for o in back["origins"]:
        seller = o["seller"] or {}
        out.print(
            f"  imported as {o['batch']} by {o['importer']} from {seller.get('name')} "
            f"({seller.get('country')}) via {o['post']}"
        )
    origin = back["origins"][0]["batch"] if back["origins"] else batch
    fwd = queries.trace_forward(conn, origin)
    out.print(
        f"[bold]trace forward[/] of {origin}: "
        + ", ".join(f"{k} {v}" for k, v in fwd["totals"].items())
    )
