"""`keruen demo`: the main job end to end on the embedded default (SQLite, no server).

Simulate a small economy with planted diversion schemes, ingest it into a fresh ledger,
screen, detect, evaluate against the simulator's ground truth, and print a summary a person
reads in a minute: trade figures, the top alerts with their explanations, lane rates and the
evaluation table.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.padding import Padding
from rich.table import Table
from sqlalchemy.engine import Engine

from keruen.console import out, progress
from keruen.demo import dashboard
from keruen.errors import ConfigError, StorageFailure
from keruen.ingest import ingest_lines
from keruen.risk import queries, service
from keruen.risk.report import evaluation_table
from keruen.settings import get_settings, normalise_db_url
from keruen.store import db
from keruen.store import ledger as ledger_store
from keruen.store.port import LedgerReader

LARGE = 200_000  # from this many events on, the demo simulates the `year` preset


def _preset(events: int) -> str:
    """`year` for a large demo, else the simulator's `demo` preset (a year in under a minute)
    when it has one, else `small`."""
    from keruen.sim.presets import PRESETS

    if events >= LARGE:
        return "year"
    return "demo" if "demo" in PRESETS else "small"


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start


def _same_home() -> None:
    """The simulator writes the ledger of the country it models; under another home country
    every event would be refused."""
    from keruen.sim.home import HOME

    configured = get_settings().jurisdiction
    if configured is not HOME:
        raise ConfigError(
            f"the demo simulates {HOME.name}: run it with KERUEN_JURISDICTION={HOME.code} "
            f"(it is {configured.code})"
        )


MARK = "keruen_demo"  # a table the demo creates in its ledger: what it may recreate later


def run(url: str, events: int = 20_000, seed: int = 1, preset: str | None = None) -> None:
    """Run the whole job into a new ledger at `url` and print the summary. A SQLite file the
    demo made before is recreated; any other existing ledger is refused, never deleted."""
    _same_home()
    preset = preset or _preset(events)
    path = db.sqlite_path(normalise_db_url(url))
    if path is not None:
        _clear_own(Path(path))
    eng = db.ready(url)
    _claim(eng)
    sim_dir = _sim_dir(Path(path) if path else None)
    timings: dict[str, float] = {}
    with step("simulate", timings):
        summary = _simulate(seed, preset, sim_dir)
    with step("ingest", timings):
        report = _ingest(eng, sim_dir / "events.jsonl", summary["events"])
    with step("screen", timings):
        screened = _screen(eng)
    with step("detect", timings):
        detected = service.detect(eng)
    with step("evaluate", timings):
        result = service.evaluate(eng, sim_dir / "truth.jsonl")
    dashboard.add_users(eng)
    where = path or db.describe(url)
    _print(eng, where, sim_dir, summary, report.rejected, screened, detected, result, timings)


def _made_by_demo(path: Path) -> bool:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        q = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return conn.execute(q, (MARK,)).fetchone() is not None


def _clear_own(path: Path) -> None:
    if not path.exists():
        return
    if not _made_by_demo(path):
        raise StorageFailure(
            str(path), "exists and was not made by keruen demo: name a new file with --db"
        )
    for own in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        own.unlink(missing_ok=True)


def _claim(eng: Engine) -> None:
    """Mark the ledger as the demo's; refuse a database that already holds events."""
    with eng.begin() as conn:
        if LedgerReader(conn).head().seq:
            raise StorageFailure(
                db.describe(), "already holds a ledger: the demo needs a new, empty one"
            )
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {MARK} (made_us BIGINT NOT NULL)")
        conn.exec_driver_sql(f"INSERT INTO {MARK} (made_us) VALUES ({time.time_ns() // 1000})")


def _sim_dir(path: Path | None) -> Path:
    """Next to the demo's SQLite file (recreated if the demo made it), else a new directory."""
    if path is not None:
        sim_dir = path.with_name(f"{path.stem}-sim")
        if not sim_dir.exists() or (sim_dir / f".{MARK}").exists():
            shutil.rmtree(sim_dir, ignore_errors=True)
            sim_dir.mkdir(parents=True)
            (sim_dir / f".{MARK}").touch()
            return sim_dir
    return Path(tempfile.mkdtemp(prefix="keruen-demo-sim-"))


def _simulate(seed: int, preset: str, where: Path) -> dict[str, Any]:
    from keruen.sim.run import write_all

    with progress("simulate", None) as advance:
        return write_all(seed, preset, where, advance)


def _ingest(eng: Engine, events: Path, total: int) -> Any:
    """Ingest, then bring the derived indexes up to date (the party index, the transit seal
    bindings and the passages at posts: what the dashboard's screens read)."""
    with events.open("rb") as f, progress("ingest", total) as advance:
        report = ingest_lines(eng, f, source=str(events), progress=advance)
    dashboard.refresh_indexes(eng)
    return report


def _screen(eng: Engine) -> str:
    """Load the shipped sanctions extract, screen the ledger's movements and their parties."""
    from keruen.screening import screen_ledger
    from keruen.screening.loaders import ofac_demo
    from keruen.screening.store import ensure_builtin, save

    with eng.begin() as conn:
        ensure_builtin(conn)
        save(conn, ofac_demo())
    found = screen_ledger(eng)
    hits = ", ".join(f"{n} {k}" for n, k in found.by_list.items())
    return f"{found.screened:,} movements screened, hits: {hits or 'none'}"


# --- the summary ------------------------------------------------------------------------------


def _print(
    eng: Engine,
    path: str,
    sim_dir: Path,
    summary: dict[str, Any],
    rejected: int,
    screened: str,
    detected: service.RunReport,
    result: dict[str, Any],
    timings: dict[str, float],
) -> None:
    with eng.connect() as conn:
        intact = not any(isinstance(b, ledger_store.ChainBreak) for b in ledger_store.verify(conn))
        top = one_per_rule(queries.alerts(conn, status="all"), 5)
    out.rule(f"[bold]Keruen demo[/] · seed {summary['seed']} · preset {summary['preset']}")
    out.print(
        f"{summary['events']:,} events simulated with {summary['scheme_count']} planted schemes "
        f"({sim_dir}); ledger {path}: {rejected:,} rejected, hash chain "
        + ("[green]intact[/]" if intact else "[red]BROKEN[/]")
        + f"; screening: {screened}",
        highlight=False,
    )
    out.print(trade_table(eng, sim_dir))
    out.rule("top alerts")
    for a in top:
        out.print(
            f"[bold]#{a['id']} {a['rule']}[/] score {a['score']:.2f} · {a['subject_kind']} "
            f"{a['subject']} · {a['time'][:10]}",
            highlight=False,
        )
        out.print(Padding(a["explanation"], (0, 0, 0, 4)), highlight=False)
    out.print(lanes_table(detected.lanes.public()))
    out.print(evaluation_table(result))
    b = result["burden_detail"]
    out.print(
        f"[bold]recall {result['recall']:.1%}[/] of diverted value · [bold]precision "
        f"{(result['precision'] or 0):.1%}[/] of {result['alerts']:,} alerts · [bold]burden "
        f"{result['burden']:.2%}[/] ({b['flagged']:,} of {b['legitimate']:,} legitimate "
        f"movements) · targets ≥ 95%, ≥ 90%, ≤ 1%",
        highlight=False,
    )
    out.print(
        "time: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        + f" — total {sum(timings.values()):.1f} s. Next: keruen alerts --db {path}, "
        f"keruen case open ID --db {path}, keruen trace BATCH --back --db {path}",
        highlight=False,
    )
    out.print(
        f"[bold]Dashboard:[/] keruen serve --db {path}, then open http://127.0.0.1:8000/ui/ "
        f"and sign in as officer (or analyst, admin) with the password {dashboard.PASSWORD}",
        highlight=False,
    )


def one_per_rule(alerts: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The best alert of each rule, best first: a tour of what the detectors find."""
    best: dict[str, dict[str, Any]] = {}
    for a in alerts:
        best.setdefault(a["rule"], a)
    return list(best.values())[:n]


def trade_table(eng: Engine, sim_dir: Path) -> Table:
    """Trade figures from the analytics engine: the ledger exported to Parquet, read by Ibis on
    DuckDB, values in USD at the rates the simulator wrote."""
    from keruen.analytics import rates as rt
    from keruen.analytics import service as analytics
    from keruen.analytics.export import export_parquet

    with eng.connect() as conn:
        export_parquet(conn, sim_dir / "export")
    src = analytics.open_source(sim_dir / "export")
    rates = rt.load(sim_dir / "rates.csv") if (sim_dir / "rates.csv").exists() else None
    flows = ["import", "arrival", "dispatch", "export"]
    by: dict[str, dict[str, Decimal]] = {f: {} for f in flows}
    for r in analytics.trade_figures(src, flows, ["partner"], rates):
        by[r["flow"]][r["partner"]] = r["value_usd"]
    table = Table("flow", "USD", "top partners", title="trade figures from the ledger (USD)")
    for flow in flows:
        total = sum(by[flow].values(), Decimal(0))
        best = sorted(by[flow].items(), key=lambda x: -x[1])[:4]
        table.add_row(
            flow,
            f"{total:,.0f}",
            ", ".join(f"{c} {float(v) / (float(total) or 1):.0%}" for c, v in best),
        )
    shares = ", ".join(
        f"{s['year']} {s['share']:.1%}" for s in analytics.eaeu_share(src, rates) if s["share"]
    )
    table.caption = (
        f"Russia's share of turnover with EAEU partners: {shares} · Ibis on DuckDB over "
        f"{src.vintage} (keruen trade figures, keruen report)"
    )
    return table


def lanes_table(rates: dict[str, Any]) -> Table:
    table = Table("lane", "movements", "share", "planned", title="selectivity lanes")
    for lane, r in rates["lanes"].items():
        table.add_row(lane, f"{r['count']:,}", f"{r['share']:.1%}", f"{r['expected']:.0%}")
    table.caption = (
        f"{rates['random_selections']} random selection(s); planned mean wait "
        f"{rates['mean_wait_hours']:.2f} h per movement"
    )
    return table
