"""`keruen bench soak`: the API under a steady submit rate for minutes, counted from outside.

A real server (`keruen serve`) runs in a subprocess over a fresh database: a new SQLite file,
or a throwaway schema on the PostgreSQL server `--db` names (it is dropped afterwards). An
open-loop load generator (`keruen.bench.api`: requests leave on schedule whatever the answers
do, latency counts from the scheduled time) submits one new event per request at `--rate`
for `--seconds`. Afterwards it counts, against the database itself, the acknowledged events
that are missing (lost) and the events stored twice (doubled), and reports latency (overall
and per window of the run), the server's resident memory at the start and the end (and its
peak), its CPU per request, and where each request's time went inside the server
(`keruen.api.profile`: parse, queue, transaction, audit, commit...).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine

from keruen.bench.api import Server, _open_loop, cpu_seconds, percentile, run, server, single_events
from keruen.console import JsonOption, NewDbOption, emit_json, out
from keruen.store import db

WARMUP = 400  # requests at half the rate before memory and latency are counted
WINDOW_S = 30.0


def rss_mb(pid: int) -> float:
    """The resident set of a process (VmRSS), in MiB; nan once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def subprocess_url(eng: Engine) -> str:
    """The URL another process reaches `eng`'s database by (its schema included)."""
    url = eng.url.render_as_string(hide_password=False)
    if eng.dialect.name != "postgresql":
        return url
    with eng.connect() as conn:
        schema = conn.scalar(sa.text("SELECT current_schema()"))
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def officer_key(eng: Engine) -> str:
    from keruen.api import accounts

    with eng.begin() as conn:
        accounts.add_user(conn, "soak", "officer")
        return accounts.create_key(conn, "soak", "soak").key


class Sampler:
    """The server's RSS every `every` seconds, from a thread: the peak of the run."""

    def __init__(self, pid: int, every: float = 1.0) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss_mb(self.pid))


def _windows(results: list[tuple[float, float, int]], rate: float) -> list[dict[str, Any]]:
    """p99 per `WINDOW_S` of the schedule: a latency that creeps up over the run shows here."""
    per = max(1, int(WINDOW_S * rate))
    out = []
    ordered = sorted(results)
    for i in range(0, len(ordered), per):
        ms = [r[1] for r in ordered[i : i + per]]
        out.append({"from_s": round(i / rate), "p99_ms": round(percentile(ms, 0.99), 2)})
    return out


def stored_ids(eng: Engine) -> tuple[int, set[str]]:
    """How many events the database holds, and their distinct ids."""
    with eng.connect() as conn:
        rows = list(conn.scalars(sa.text("SELECT id FROM events")))
    return len(rows), set(rows)


def soak(url: str | None, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    count = int(rate * seconds)
    warm = single_events(WARMUP, seed + 99)  # numbered from 0
    bodies = single_events(count, seed, first=WARMUP)
    ids = [json.loads(b)["id"] for b in bodies]
    with db.scratch(url) as eng, tempfile.TemporaryDirectory() as tmp:
        key = officer_key(eng)
        profile = Path(tmp) / "profile.json"
        env = {"KERUEN_API_PROFILE": str(profile)}
        with server(subprocess_url(eng), Path(tmp) / "server.log", env) as srv:
            run(_open_loop(srv.base, key, warm, rate / 2))
            figures = _measure(srv, key, bodies, rate)
        where = json.loads(profile.read_text()) if profile.exists() else {}
        total, distinct = stored_ids(eng)
        backend = eng.dialect.name
    acked = {ids[i] for i, (_, _, status) in enumerate(figures.pop("results")) if status == 201}
    lost = len(acked - distinct)
    return {
        "database": backend,
        **figures,
        "acknowledged": len(acked),
        "lost": lost,
        "doubled": total - len(distinct),
        "stored": total,
        "expected_stored": WARMUP + count,
        "server_profile": where,
    }


def _measure(srv: Server, key: str, bodies: list[bytes], rate: float) -> dict[str, Any]:
    start_rss = rss_mb(srv.pid)
    cpu, started = cpu_seconds(srv.pid), time.perf_counter()
    with Sampler(srv.pid) as sampler:
        timed = run(_open_loop(srv.base, key, bodies, rate, keep_index=True))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(srv.pid) - cpu
    end_rss = rss_mb(srv.pid)
    results = sorted(timed)  # (index, ms, status)
    ms = [r[1] for r in results]
    statuses: dict[str, int] = {}
    for _, _, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "rate": rate,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "statuses": statuses,
        "unanswered": statuses.get("0", 0),
        "achieved_rps": round(len(results) / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
        "p99_by_window": _windows(results, rate),
        "server_cpu_ms_per_request": round(cpu * 1000 / len(results), 3),
        "rss_start_mb": round(start_rss, 1),
        "rss_end_mb": round(end_rss, 1),
        "rss_peak_mb": round(max(sampler.peak, end_rss), 1),
        "rss_growth_mb": round(end_rss - start_rss, 1),
        "load_avg": [round(v, 2) for v in os.getloadavg()],
        "results": results,
    }


def register(bench: typer.Typer) -> None:
    @bench.command("soak")
    def soak_cmd(
        db_url: Annotated[str | None, NewDbOption] = None,
        rate: Annotated[float, typer.Option(help="Submits per second")] = 200.0,
        seconds: Annotated[float, typer.Option(help="How long to submit")] = 120.0,
        seed: Annotated[int, typer.Option(help="Event seed")] = 1,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """The API at a steady submit rate: p99, memory growth, lost and doubled events, and
        where the server's time goes. --db: a new SQLite file, or a PostgreSQL server (a
        throwaway schema is used)."""
        if rate <= 0 or seconds <= 0:
            raise typer.BadParameter("--rate and --seconds must be positive")
        r = soak(db_url, rate, seconds, seed)
        if as_json:
            emit_json(r)
            return
        out.print(
            f"{r['database']}: {r['requests']:,} submits at {r['rate']:g}/s for {r['seconds']} s "
            f"({r['achieved_rps']}/s achieved): p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms; statuses {r['statuses']}"
        )
        out.print(
            f"p99 per {WINDOW_S:g} s: "
            + ", ".join(f"{w['from_s']} s: {w['p99_ms']} ms" for w in r["p99_by_window"])
        )
        out.print(
            f"server RSS: {r['rss_start_mb']} MiB at the start, {r['rss_end_mb']} MiB at the end "
            f"({r['rss_growth_mb']:+} MiB; peak {r['rss_peak_mb']} MiB); server CPU "
            f"{r['server_cpu_ms_per_request']} ms per request"
        )
        out.print(
            f"acknowledged {r['acknowledged']:,}, lost {r['lost']}, doubled {r['doubled']} "
            f"(stored {r['stored']:,} of {r['expected_stored']:,} with the warm-up)"
        )
        p = r["server_profile"]
        if p.get("requests"):
            mean, slow = p["mean_ms"], p["slowest_1pct_mean_ms"]
            out.print(
                f"inside the server (ms; {p['requests_per_group']} requests per writer group): "
                f"p50 {p['server_p50_ms']}, p99 {p['server_p99_ms']}"
            )
            for stage in mean:
                out.print(
                    f"  {stage:<12} mean {mean[stage]:>8.3f}   p99 {p[stage + '_p99_ms']:>8.3f}"
                    f"   mean over the slowest 1 %: {slow[stage]:>8.3f}"
                )
        out.print(f"load average: {r['load_avg']}")
