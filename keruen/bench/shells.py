"""The `keruen bench` commands of the benchmarks that measure one area: simulate, transit,
screening, epcis, analytics, ui. Thin shells: each imports its measuring module
(`keruen.bench.<name>`) only when it runs, so that `keruen` starts without DuckDB or the
dashboard's pages."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keruen.console import JsonOption, NewDbOption, emit_json, err, fail, out, progress
from keruen.errors import KeruenError
from keruen.sim.presets import PRESETS, preset

PresetOption = typer.Option("--preset", help=f"One of: {', '.join(PRESETS)}")
EngineOption = typer.Option("--engine", help="duckdb (embedded), spark (local) or postgres")
PgOption = typer.Option("--pg", help="PostgreSQL URL to load the export into (--engine postgres)")


def register(bench: typer.Typer) -> None:
    bench.command("simulate")(bench_simulate)
    bench.command("screening")(bench_screening)
    bench.command("transit")(bench_transit)
    bench.command("analytics")(bench_analytics)
    bench.command("epcis")(bench_epcis)
    bench.command("ui")(bench_ui)


def bench_simulate(
    events: Annotated[int, typer.Option("--events", help="Events to write", min=1)] = 1_000_000,
    preset_name: Annotated[str, PresetOption] = "national",
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Events written per second by the simulator (and a JSON round trip as the baseline)."""
    from keruen.bench import simulate

    try:
        preset(preset_name)
    except KeruenError as e:
        fail(f"--preset: {e}")
    try:
        r = simulate.measure(seed, preset_name, events, show=not as_json)
    except KeruenError as e:
        fail(str(e))
    if as_json:
        emit_json(r)
        return
    out.print(
        f"simulate {r['preset']}: {r['events']:,} events in {r['seconds']} s = "
        f"[bold]{r['events_per_s']:,}[/] events/s written "
        f"({r['shards']} shards, {r['cpus']} CPUs, load {r['load_average']})"
    )
    out.print(f"CPU: {r['cpu_seconds']} s = {r['events_per_cpu_s']:,} events per CPU-second")
    out.print(
        f"baseline (decode + encode + write the same lines): "
        f"{r['baseline_events_per_s']:,} events/s; ratio {r['ratio']}"
    )
    out.print(f"peak RSS {r['peak_rss_mb']} MB (largest process)")


def bench_transit(
    movements: Annotated[int, typer.Option(help="Open movements", min=1)] = 100_000,
    pings: Annotated[int, typer.Option(help="Seal pings to process", min=1)] = 500_000,
    sample: Annotated[int, typer.Option(help="Pings for the naive baseline", min=1)] = 100,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Seal pings per second with many open movements, against the naive scan."""

    def bar(desc: str, total: int | None) -> AbstractContextManager[Any]:
        return progress(desc, total, enabled=not as_json)

    from keruen.bench import transit

    r = transit.run(movements, pings, seed, sample, bar)
    if as_json:
        emit_json(r)
        return
    out.print(f"seal pings, {r['movements']:,} open movements, {r['pings']:,} pings:")
    out.print(
        f"  decode + track:  {r['pings_per_s']:>12,} pings/s   (target ≥ 50,000; "
        f"{r['pings_per_cpu_s']:,} per CPU second)"
    )
    out.print(f"  track only:      {r['track_only_pings_per_s']:>12,} pings/s")
    out.print(f"  decode only:     {r['decode_pings_per_s']:>12,} pings/s   (ceiling)")
    out.print(
        f"  naive scan:      {r['naive_pings_per_s']:>12,} pings/s   "
        f"(sample of {r['naive_sample']})"
    )
    out.print(
        f"  speed-up vs naive: {r['speedup_vs_naive']:,}x; findings {r['findings']:,}; "
        f"peak RSS {r['peak_rss_mb']} MB"
    )


def bench_screening(
    shared: Annotated[
        Path | None,
        typer.Option(
            help="The shared folder (conformance/names, data/ofac_sdn.csv); "
            "default: found beside the checkout"
        ),
    ] = None,
    sdn: Annotated[
        Path | None, typer.Option(help="OFAC sdn.csv (alt/add beside it); default: in --shared")
    ] = None,
    peer_python: Annotated[
        str | None,
        typer.Option(help="A Python with nomenklatura installed (else its frozen scores)"),
    ] = None,
    burden_names: Annotated[
        int, typer.Option("--burden", help="Plausible names on no list to screen")
    ] = 5000,
    names: Annotated[int, typer.Option("--names", help="Index size (speed)")] = 1_000_000,
    brute: Annotated[int, typer.Option("--brute", help="Brute-force sample queries")] = 20,
    skip_speed: Annotated[bool, typer.Option("--skip-speed", help="No speed run")] = False,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """P/R/F1 beside nomenklatura, burden of ordinary names on the full list, queries/s."""
    from keruen.bench import screening as bench

    folder = shared or bench.find_shared()
    if folder is None or not (folder / "conformance" / "names").is_dir():
        fail("--shared: no shared/conformance/names folder found beside the checkout; name it")
    inputs = bench.Inputs.under(folder)
    if sdn is not None:
        inputs = bench.Inputs(inputs.names, sdn)
    if not inputs.sdn.is_file():
        fail(f"--sdn: {inputs.sdn}: no such file")
    log = (lambda _: None) if as_json else (lambda m: err.print(f"[dim]{m}[/]"))
    result = bench.run(inputs, peer_python, burden_names, names, brute, skip_speed, log)
    if as_json:
        emit_json(result)
        return
    _print_bench(result)


def _print_bench(r: dict[str, Any]) -> None:
    table = Table("pairs", "matcher", "threshold", "precision", "recall", "F1", title="quality")
    nb = r["name_bench"]

    def row(label: str, who: str, thr: float, m: dict[str, Any] | None) -> None:
        if m:
            p, rc, f1 = (f"{m[k]:.3f}" for k in ("precision", "recall", "f1"))
            table.add_row(label, who, str(thr), p, rc, f1)

    row(f"name_bench ({nb['pairs']})", r["algorithm"], r["threshold"], nb["keruen"])
    if "keruen_on_peer_pairs" in nb:
        n = nb["keruen_on_peer_pairs"]["n"]
        row(f"name_bench ({n} frozen)", r["algorithm"], r["threshold"], nb["keruen_on_peer_pairs"])
        row(f"name_bench ({n} frozen)", "nomenklatura", r["peer_threshold"], nb.get("peer"))
    else:
        row(f"name_bench ({nb['pairs']})", "nomenklatura", r["peer_threshold"], nb.get("peer"))
    s2 = r["second_set"]
    label = f"yente UN {s2['positives']} + {s2['negatives']} on no list"
    row(label, r["algorithm"], r["threshold"], s2["keruen"])
    out.print(table)
    out.print(f"peer: {nb['peer_source']}")
    w = r["wikidata_tokens"]
    out.print(f"wikidata Latin/Cyrillic name tokens: recall {w['recall']} on {w['pairs']:,}")
    b = r["burden"]
    kinds = ", ".join(f"{k} {v['false_hits']}/{v['names']}" for k, v in b["by_kind"].items())
    out.print(
        f"burden: {b['false_hits']:,} of {b['names']:,} plausible names on no list hit "
        f"the full list ({b['rate']:.2%}; {kinds})"
    )
    for w in b["worst"][:8]:
        out.print(f"  {w['score']:.3f}  {w['query']}  ~  {w['matched']}")
    t = r["transliteration"]
    kinds = ", ".join(f"{k} {v}" for k, v in t["by_kind"].items())
    out.print(f"transliteration: recall {t['recall']} on {t['queries']} ({kinds})")
    s = r.get("speed")
    if s:
        out.print(
            f"speed: {s['names']:,} names ({s['index_rows']:,} index rows), built in "
            f"{s['index_build_s']} s, {s['index_memory_mb']:,} MB; load average "
            f"{s['load_average']} before, {s['load_average_after']} after"
        )
        for label in ("current", "previous", "keruen_v1"):
            x = s[label]
            how = "every shortlisted name scored in full" if x["exact"] else "pruned"
            out.print(
                f"{label} ({x['algorithm']}, {how}): {x['queries_per_s_cpu']:,} queries/s CPU "
                f"({x['queries_per_s_wall']:,} wall), recall {x['recall']} on {x['queries']:,}"
            )
        out.print(f"current / previous code, same run: {s['current_vs_previous']}x")
        b, same = s["brute_force_sample"], s["indexed_same_sample"]
        out.print(
            f"brute force: {b['queries_per_s_cpu']:,} queries/s CPU, recall {b['recall']} "
            f"on {b['queries']} (indexed on the same: {same['recall']}); "
            f"ratio {s['speedup_vs_brute_force']}x"
        )


def bench_epcis(
    events: Annotated[int, typer.Option("--events", help="Contract events to generate")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """EPCIS events imported per second, the ratio to the native ingest in the same run
    (same events, exported to EPCIS first), export speed and hashes per second."""
    from keruen.bench.epcis import run

    figures = run(events, seed, db_url).public()
    if as_json:
        emit_json(figures)
        return
    for key, value in figures.items():
        out.print(f"{key:>28}  {value:,}" if isinstance(value, int) else f"{key:>28}  {value}")


def bench_analytics(
    events: Annotated[int, typer.Option("--events", help="Flattened events to generate")] = (
        1_000_000
    ),
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Generate into (or reuse) this directory")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", help="Only these named queries (comma-separated; default all)"),
    ] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The trade-figures suite over N events in Parquet through Ibis, beside the same
    aggregations as hand-written DuckDB SQL in the same run (the ratio is what Ibis costs)."""
    import shutil
    import tempfile

    from keruen.analytics import rates as rt
    from keruen.bench import analytics as bench

    only = [q.strip() for q in query.split(",") if q.strip()] if query else None
    try:
        bench.queries(only)
    except KeruenError as e:
        fail(f"--query: {e}")
    where = keep or Path(tempfile.mkdtemp(prefix="keruen-bench-analytics-"))
    gen = 0.0
    if not (where / "manifest.json").exists():
        where.mkdir(parents=True, exist_ok=True)
        gen = bench.generate(where, events)
    rates = rt.parse(bench.RATES, "bench-rates.csv")
    try:
        hand = bench.hand_sql(where, rates, only)
        src = bench.open_engine(where, engine, pg)
        suite = bench.ibis_suite(src, rates, only)
    finally:
        if keep is None:
            shutil.rmtree(where, ignore_errors=True)
    if gen == 0.0:  # reused: the events the directory holds
        from keruen.analytics.export import read_manifest

        found = read_manifest(where)
        events = found.events if found else events
    result = bench.summary(events, engine, gen, suite, hand)
    if as_json:
        emit_json(result)
        return
    out.print(bench.table(result))


def bench_ui(
    db: Annotated[
        Path | None,
        typer.Option(help="A SQLite ledger to measure on (copied); default: a demo ledger"),
    ] = None,
    events: Annotated[
        int, typer.Option(help="Events of the demo ledger when no --db is given")
    ] = 20_000,
    alerts: Annotated[
        int, typer.Option(help="Alerts in the inbox (synthetic ones added up to this)")
    ] = 100_000,
    requests: Annotated[int, typer.Option(help="Requests per screen")] = 30,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Server p50/p95 per dashboard screen, the inbox paging through `--alerts` alerts."""
    from keruen.bench.ui import measure

    if db is not None and not db.is_file():
        raise typer.BadParameter(f"{db} is not a SQLite ledger file", param_hint="--db")
    r = measure(
        db,
        events,
        alerts,
        requests,
        lambda name: err.print(f"measuring {name} …") if as_json else out.print(f"{name} …"),
    )
    if as_json:
        emit_json(r)
        return
    ledger = r["ledger"]
    out.print(
        f"ledger: {ledger['events']:,} events, {ledger['alerts']:,} alerts; "
        f"{r['requests']} requests per screen; "
        f"baseline /healthz p95 {r['baseline']['p95_ms']} ms"
    )
    for name, f in r["screens"].items():
        out.print(
            f"{name:28} p50 {f['p50_ms']:8.2f} ms   p95 {f['p95_ms']:8.2f} ms   "
            f"{f['ratio_p95']:6.1f}× baseline"
        )
