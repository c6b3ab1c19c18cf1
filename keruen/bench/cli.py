"""`keruen bench ingest|trace`: figures, and ratios against a baseline run in the same process."""

from __future__ import annotations

import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from keruen.bench import api, detect, shells, soak
from keruen.bench.streams import StreamGen
from keruen.bulk import ingest_bulk
from keruen.console import JsonOption, NewDbOption, emit_json, out, progress
from keruen.errors import StorageFailure
from keruen.ingest import ingest_lines
from keruen.settings import normalise_db_url
from keruen.store import db
from keruen.store.baseline import stored_rows_insert
from keruen.store.port import LedgerReader


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    me, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def write_stream(path: Path, events: int, seed: int, show: bool, uuid_ids: bool = False) -> None:
    gen = StreamGen(seed=seed, uuid_ids=uuid_ids)
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
        sa.Column("line", sa.Text, nullable=False),
    )
    raw.create(eng)
    start = time.perf_counter()
    with path.open("rb") as f:
        rows: list[dict[str, Any]] = []
        for i, line in enumerate(f, 1):
            rows.append({"seq": i, "line": line.decode()})
            if len(rows) == chunk:
                with eng.begin() as conn:
                    conn.execute(raw.insert(), rows)
                rows = []
        if rows:
            with eng.begin() as conn:
                conn.execute(raw.insert(), rows)
    elapsed = time.perf_counter() - start
    raw.drop(eng)  # not part of a ledger that is kept
    return elapsed


def bench_ingest(
    events: int,
    db_url: str | None,
    seed: int,
    chunk: int,
    show: bool,
    bulk: bool = False,
    keep: bool = False,
    uuid_ids: bool = False,
) -> dict[str, Any]:
    """The ingest's figures; with `keep` (PostgreSQL) its ledger stays, named in the result;
    with `uuid_ids` the events' ids are random UUIDs (inserted all over the id index)."""
    kept: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.jsonl"
        write_stream(path, events, seed, show, uuid_ids)
        with _ledger(db_url, bulk, Path(tmp), keep) as (eng, load):
            cpu = cpu_seconds()
            start = time.perf_counter()
            with path.open("rb") as f, progress("ingest", events, show) as advance:
                report, phases = load(f, str(path), chunk, advance)
            elapsed = time.perf_counter() - start
            # the ingest's second process has ended (and been waited for) when it returns
            main_cpu, child_cpu = (b - a for a, b in zip(cpu, cpu_seconds(), strict=True))
            ingest_rss = peak_rss_mb()  # before the baselines, whose reads hold more
            raw_elapsed = raw_insert(eng, path, chunk)
            stored_elapsed = stored_rows_insert(eng, db_url, chunk)
            stored = LedgerReader(eng).count_events()
            if keep:
                kept["ledger"] = db.schema_url(eng)
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
        "peak_rss_mb": round(ingest_rss, 1),
        "peak_rss_mb_with_baselines": round(peak_rss_mb(), 1),
        "child_peak_rss_mb": round(child_peak_rss_mb(), 1),
        # CPU time per event: the load of other programs on the machine changes the wall time
        # far more than it changes these
        "cpu_us_per_event_main": round(main_cpu / events * 1e6, 1),
        "cpu_us_per_event_child": round(child_cpu / events * 1e6, 1),
        **phases,
        **kept,
    }


Load = Callable[[BinaryIO, str, int, Callable[[int], None]], tuple[Any, dict[str, Any]]]


@contextmanager
def _ledger(
    db_url: str | None, bulk: bool, tmp: Path, keep: bool = False
) -> Iterator[tuple[Engine, Load]]:
    """The engine the baselines run on, and how the stream is loaded: `ingest_lines` into a
    scratch ledger (with `keep`, a PostgreSQL one that stays), or with `bulk`
    `keruen.bulk.ingest_bulk` into a new file (timed with its index build and full check;
    the baselines then run on the ledger it made)."""
    if keep and not (db_url and normalise_db_url(db_url).startswith("postgresql")):
        raise typer.BadParameter("--keep keeps a PostgreSQL ledger (a SQLite one: --db FILE)")
    if not bulk:
        with db.scratch(db_url, keep=keep) as eng:

            def load(f: BinaryIO, source: str, chunk: int, advance: Any) -> tuple[Any, Any]:
                report = ingest_lines(eng, f, source=source, chunk_size=chunk, progress=advance)
                return report, {}

            yield eng, load
        return
    if db_url is not None:
        raise typer.BadParameter("--bulk writes a temporary SQLite file of its own; no --db")
    target = tmp / "bulk.db"
    eng = db.new_engine(str(target))

    def load_bulk(f: BinaryIO, source: str, chunk: int, advance: Any) -> tuple[Any, Any]:
        r = ingest_bulk(f, str(target), source=source, chunk_size=chunk, progress=advance)
        phases = {"bulk_load_s": r.load_s, "bulk_index_s": r.index_s, "bulk_check_s": r.check_s}
        return r.report, {k: round(v, 2) for k, v in phases.items()}

    try:
        yield eng, load_bulk
    finally:
        eng.dispose()


def child_peak_rss_mb() -> float:
    """The largest peak RSS among the finished children (the ingest's second process)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def bench_trace(
    events: int,
    samples: int,
    db_url: str | None,
    seed: int,
    show: bool,
    cold: bool = False,
    ledger: str | None = None,
) -> dict[str, Any]:
    """p50/p99 of trace back and forward over random batches, the cache warm (right after the
    ingest); with `cold`, also on a new connection after the operating system's page cache
    was dropped (needs root; said in the result when it could not be). With `ledger`, on that
    existing ledger as it is (nothing built or written), so a large one is built once: a
    SQLite file, or a PostgreSQL URL (`bench ingest --keep` gives one). On PostgreSQL "cold"
    is a new connection after the OS cache was dropped; the server's own buffers stay."""
    if ledger is not None:
        db.require_existing(ledger)
        eng = db.new_engine(ledger)
        if not sa.inspect(eng).has_table("events"):
            eng.dispose()
            raise StorageFailure(db.describe(ledger), "holds no ledger (no events table)")
        try:
            return _traces_of(eng, samples, seed, cold)
        finally:
            eng.dispose()
    with db.scratch(db_url) as eng:
        gen = StreamGen(seed=seed)
        with progress("build ledger", events, show) as advance:
            ingest_lines(eng, gen.events(events), source="bench", progress=advance)
        return _traces_of(eng, samples, seed, cold)


def _traces_of(eng: Engine, samples: int, seed: int, cold: bool) -> dict[str, Any]:
    with eng.connect() as conn:
        reader = LedgerReader(conn)
        ids = reader.batch_ids()
        events = reader.head().seq
    rng = random.Random(seed)
    picks = [rng.choice(ids) for _ in range(samples)]
    result: dict[str, Any] = {"events": events, "batches": len(ids), "samples": samples}
    result.update(_timed_traces(eng, picks, ""))
    if cold:
        eng.dispose()  # SQLite's own page cache lives and dies with its connections
        result["os_cache_dropped"] = drop_os_cache()
        result.update(_timed_traces(eng, [rng.choice(ids) for _ in range(samples)], "cold_"))
    return result


def _timed_traces(eng: Engine, picks: list[str], prefix: str) -> dict[str, float]:
    timings: dict[str, list[float]] = {"back": [], "forward": []}
    with eng.connect() as conn:
        reader = LedgerReader(conn)
        for batch in picks:
            for name, fn in (("back", reader.trace_back), ("forward", reader.trace_forward)):
                start = time.perf_counter()
                fn(batch)
                timings[name].append((time.perf_counter() - start) * 1000)
    result = {}
    for name, ms in timings.items():
        result[f"{prefix}{name}_p50_ms"] = round(_percentile(ms, 0.50), 3)
        result[f"{prefix}{name}_p99_ms"] = round(_percentile(ms, 0.99), 3)
    return result


def drop_os_cache() -> bool:
    """Write dirty pages and drop Linux's page cache (root only): what a cold read costs."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def bench_sync(events: int, seed: int, where: Path | None, show: bool) -> dict[str, Any]:
    """Commits per second of one event per transaction (as the API's single submits commit)
    into new SQLite ledgers with synchronous=NORMAL and =FULL, in the same run."""
    lines = list(StreamGen(seed=seed).events(events))
    result: dict[str, Any] = {"events": events}
    for mode in ("normal", "full"):
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            eng = db.new_engine(str(Path(tmp) / "sync.db"), sync=mode)
            db.migrate(eng)
            with progress(f"synchronous={mode}", events, show) as advance:
                start = time.perf_counter()
                for line in lines:
                    ingest_lines(eng, [line], source="bench", parallel=False)
                    advance(1)
                elapsed = time.perf_counter() - start
            eng.dispose()
        result[f"{mode}_commits_per_s"] = round(events / elapsed)
        result[f"{mode}_ms_per_commit"] = round(elapsed / events * 1000, 3)
    result["full_vs_normal"] = round(
        result["full_commits_per_s"] / result["normal_commits_per_s"], 3
    )
    return result


def register(app: typer.Typer) -> None:
    detect.register(app)  # `keruen bench detect`: the risk engine on a simulated ledger
    api.register(app)  # `keruen bench api`: the HTTP API under load
    shells.register(app)  # simulate, screening, transit, analytics, epcis, ui
    soak.register(app)  # `keruen bench soak`: the API at a steady rate for minutes

    @app.command("sync")
    def sync_cmd(
        events: Annotated[int, typer.Option("--events", help="Events, one per commit")] = 2000,
        where: Annotated[
            Path | None,
            typer.Option(
                "--dir", help="Directory (filesystem) for the new ledgers (default: temp)"
            ),
        ] = None,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """What durability costs: single-event commits with SQLite synchronous=NORMAL vs FULL."""
        r = bench_sync(events, seed, where, show=not as_json)
        if as_json:
            emit_json(r)
            return
        for mode in ("normal", "full"):
            out.print(
                f"synchronous={mode.upper():6} {r[f'{mode}_commits_per_s']:,} commits/s "
                f"({r[f'{mode}_ms_per_commit']} ms each)"
            )
        out.print(f"FULL / NORMAL:      {r['full_vs_normal']}")

    @app.command("ingest")
    def ingest_cmd(
        events: Annotated[int, typer.Option("--events", help="Number of events")] = 100_000,
        db_url: Annotated[str | None, NewDbOption] = None,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        chunk: Annotated[int, typer.Option(help="Events per transaction")] = 20_000,
        bulk: Annotated[
            bool,
            typer.Option(
                "--bulk", help="Time the bulk load into a new file (keruen ingest --bulk) instead"
            ),
        ] = False,
        keep: Annotated[
            bool,
            typer.Option(
                "--keep",
                help="PostgreSQL: keep the ledger (its schema) for `bench trace --ledger URL`; "
                "the result names it",
            ),
        ] = False,
        uuid_ids: Annotated[
            bool,
            typer.Option(
                "--uuid-ids",
                help="Events identified by random UUIDs, as integrators mint them "
                "(default: ev-000000001, ev-000000002, ...)",
            ),
        ] = False,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """Validated ingest vs a plain insert of the same rows, and vs the stored rows alone."""
        r = bench_ingest(
            events, db_url, seed, chunk, show=not as_json, bulk=bulk, keep=keep, uuid_ids=uuid_ids
        )
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
        out.print(
            f"peak RSS:         {r['peak_rss_mb']} MB in the ingest (second process "
            f"{r['child_peak_rss_mb']} MB; {r['peak_rss_mb_with_baselines']} MB with the baselines)"
        )
        out.print(
            f"CPU per event:    {r['cpu_us_per_event_main']} µs main process, "
            f"{r['cpu_us_per_event_child']} µs second process"
        )
        if keep:
            out.print(f"ledger kept:      {r['ledger']}")
        if bulk:
            out.print(
                f"bulk phases:      load {r['bulk_load_s']} s, indexes {r['bulk_index_s']} s, "
                f"full check {r['bulk_check_s']} s (all inside the events/s above)"
            )

    @app.command("trace")
    def trace_cmd(
        events: Annotated[int, typer.Option("--events", help="Ledger size to build")] = 200_000,
        samples: Annotated[int, typer.Option(help="Traces timed per direction")] = 1000,
        db_url: Annotated[str | None, NewDbOption] = None,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        cold: Annotated[
            bool,
            typer.Option(
                "--cold",
                help="Also time traces on a new connection after dropping the OS page cache (root)",
            ),
        ] = False,
        ledger: Annotated[
            str | None,
            typer.Option(
                "--ledger",
                help="Time the traces on this existing ledger as it is (nothing built): a "
                "SQLite file or a PostgreSQL URL; --events and --db are then ignored",
            ),
        ] = None,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """p50/p99 latency of trace back and trace forward."""
        r = bench_trace(events, samples, db_url, seed, show=not as_json, cold=cold, ledger=ledger)
        if as_json:
            emit_json(r)
            return
        out.print(f"{r['events']:,} events, {samples:,} random batches")
        for prefix, label in (("", "warm"), ("cold_", "cold")):
            if f"{prefix}back_p50_ms" not in r:
                continue
            if prefix and not r["os_cache_dropped"]:
                label = "new connection, OS cache kept (not root)"
            out.print(f"{label}:")
            for name in ("back", "forward"):
                p50, p99 = r[f"{prefix}{name}_p50_ms"], r[f"{prefix}{name}_p99_ms"]
                out.print(f"  trace {name:8} p50 {p50} ms   p99 {p99} ms")
