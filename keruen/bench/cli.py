"""`keruen bench ingest|trace`: figures, and ratios against a baseline run in the same process."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from keruen.bench.streams import StreamGen
from keruen.console import JsonOption, NewDbOption, emit_json, out, progress
from keruen.ingest import ingest_lines
from keruen.store import db, queries
from keruen.store import schema as t
from keruen.store.db import bulk_insert
from keruen.store.ledger import BATCH_COLUMNS, EVENT_COLUMNS, MOVE_COLUMNS


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_stream(path: Path, events: int, seed: int, show: bool) -> None:
    gen = StreamGen(seed=seed)
    with path.open("wb") as f, progress("generate", events, show) as advance:
        for i, line in enumerate(gen.events(events), 1):
            f.write(line + b"\n")
            if i % 10_000 == 0:
                advance(10_000)


def raw_insert(eng: Engine, path: Path, chunk: int) -> float:
    """Seconds to insert the same lines, unvalidated, as plain rows of the same width."""
    raw = sa.Table(
        "bench_raw",
        sa.MetaData(),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("canonical", sa.Text, nullable=False),
    )
    raw.create(eng)
    start = time.perf_counter()
    with path.open("rb") as f:
        rows: list[dict[str, Any]] = []
        for i, line in enumerate(f, 1):
            rows.append({"seq": i, "canonical": line.decode()})
            if len(rows) == chunk:
                with eng.begin() as conn:
                    conn.execute(raw.insert(), rows)
                rows = []
        if rows:
            with eng.begin() as conn:
                conn.execute(raw.insert(), rows)
    return time.perf_counter() - start


def stored_rows_insert(eng: Engine, db_url: str | None, chunk: int) -> float:
    """Seconds to insert, `chunk` events per transaction, the rows the ingest stored (events,
    their moves, batches and transform links) into an empty ledger of the same schema, by
    the ledger's own bulk insert: what storage alone costs, without parsing or judging."""
    e, m, b, lk = t.events.c, t.moves.c, t.batches.c, t.links.c
    spent = 0.0
    # a second scratch database: on the PostgreSQL server named, or a temporary SQLite file
    other = db_url if eng.dialect.name == "postgresql" else None
    with db.scratch(other) as fresh, eng.connect() as src:
        last = src.scalar(sa.select(sa.func.max(e.seq))) or 0
        for first in range(1, last + 1, chunk):
            span = (first, first + chunk - 1)
            part = [
                src.execute(sa.select(*(e[c] for c in EVENT_COLUMNS)).where(e.seq.between(*span))),
                src.execute(
                    # made by these events: under their key (import, arrival, a transform's
                    # first output), or as a transform's output (links); batches.event_id has
                    # no index to join on
                    sa.union(
                        sa.select(*(b[c] for c in BATCH_COLUMNS))
                        .join_from(t.events, t.batches, (b.batch == e.key) & (b.event_id == e.id))
                        .where(e.seq.between(*span)),
                        sa.select(*(b[c] for c in BATCH_COLUMNS))
                        .join_from(t.links, t.batches, b.batch == lk.output)
                        .where(lk.event_seq.between(*span)),
                    )
                ),
                src.execute(
                    sa.select(*(m[c] for c in MOVE_COLUMNS)).where(m.event_seq.between(*span))
                ),
                src.execute(
                    sa.select(lk.input, lk.output, lk.event_seq).where(lk.event_seq.between(*span))
                ),
            ]
            rows = [[tuple(r) for r in result] for result in part]
            start = time.perf_counter()
            with fresh.begin() as conn:
                for table, columns, table_rows in zip(
                    (t.events, t.batches, t.moves, t.links),
                    (EVENT_COLUMNS, BATCH_COLUMNS, MOVE_COLUMNS, ("input", "output", "event_seq")),
                    rows,
                    strict=True,
                ):
                    bulk_insert(conn, table, columns, table_rows)
            spent += time.perf_counter() - start
    return spent


def bench_ingest(
    events: int, db_url: str | None, seed: int, chunk: int, show: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.jsonl"
        write_stream(path, events, seed, show)
        with db.scratch(db_url) as eng:
            start = time.perf_counter()
            with path.open("rb") as f, progress("ingest", events, show) as advance:
                report = ingest_lines(eng, f, source=str(path), chunk_size=chunk, progress=advance)
            elapsed = time.perf_counter() - start
            raw_elapsed = raw_insert(eng, path, chunk)
            stored_elapsed = stored_rows_insert(eng, db_url, chunk)
            with eng.connect() as conn:
                stored = conn.scalar(sa.select(sa.func.count()).select_from(t.events))
    rate, raw_rate = events / elapsed, events / raw_elapsed
    return {
        "events": events,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "stored": stored,
        "seconds": round(elapsed, 2),
        "events_per_s": round(rate),
        "raw_events_per_s": round(raw_rate),
        "stored_rows_events_per_s": round(events / stored_elapsed),
        "ratio": round(rate / raw_rate, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def bench_trace(
    events: int, samples: int, db_url: str | None, seed: int, show: bool
) -> dict[str, Any]:
    with db.scratch(db_url) as eng:
        gen = StreamGen(seed=seed)
        with progress("build ledger", events, show) as advance:
            ingest_lines(eng, gen.events(events), source="bench", progress=advance)
        with eng.connect() as conn:
            ids = list(conn.scalars(sa.select(t.batches.c.batch)))
            rng = random.Random(seed)
            picks = [rng.choice(ids) for _ in range(samples)]
            timings: dict[str, list[float]] = {"back": [], "forward": []}
            for batch in picks:
                for name, fn in (("back", queries.trace_back), ("forward", queries.trace_forward)):
                    start = time.perf_counter()
                    fn(conn, batch)
                    timings[name].append((time.perf_counter() - start) * 1000)
    result: dict[str, Any] = {"events": events, "samples": samples}
    for name, ms in timings.items():
        result[f"{name}_p50_ms"] = round(_percentile(ms, 0.50), 3)
        result[f"{name}_p99_ms"] = round(_percentile(ms, 0.99), 3)
    return result


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        events: Annotated[int, typer.Option("--events", help="Number of events")] = 100_000,
        db_url: Annotated[str | None, NewDbOption] = None,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        chunk: Annotated[int, typer.Option(help="Events per transaction")] = 20_000,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """Validated ingest vs a plain insert of the same rows, and vs the stored rows alone."""
        r = bench_ingest(events, db_url, seed, chunk, show=not as_json)
        if as_json:
            emit_json(r)
            return
        out.print(
            f"validated ingest: {r['events_per_s']:,} events/s ({r['seconds']} s for "
            f"{events:,}; {r['accepted']:,} accepted, {r['rejected']:,} rejected)"
        )
        out.print(f"plain insert:     {r['raw_events_per_s']:,} events/s")
        out.print(
            f"stored rows only: {r['stored_rows_events_per_s']:,} events/s "
            "(the same events, moves, batches and links inserted again)"
        )
        out.print(f"ratio:            {r['ratio']}")
        out.print(f"peak RSS:         {r['peak_rss_mb']} MB")

    @app.command("trace")
    def trace_cmd(
        events: Annotated[int, typer.Option("--events", help="Ledger size to build")] = 200_000,
        samples: Annotated[int, typer.Option(help="Traces timed per direction")] = 1000,
        db_url: Annotated[str | None, NewDbOption] = None,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """p50/p99 latency of trace back and trace forward."""
        r = bench_trace(events, samples, db_url, seed, show=not as_json)
        if as_json:
            emit_json(r)
            return
        out.print(f"{events:,} events, {samples:,} random batches")
        out.print(f"trace back:    p50 {r['back_p50_ms']} ms   p99 {r['back_p99_ms']} ms")
        out.print(f"trace forward: p50 {r['forward_p50_ms']} ms   p99 {r['forward_p99_ms']} ms")
