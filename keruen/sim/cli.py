"""CLI commands of keruen.sim (mounted on the root `keruen` app by `keruen.cli`).

`keruen simulate` writes a synthetic economy (events, truth, bait, world) and prints its
trade figures beside the public ones; `keruen bench simulate` measures events written per
second. Thin shells over `keruen.sim.run` and `keruen.sim.bench`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keruen.console import JsonOption, emit_json, fail, out, progress
from keruen.errors import KeruenError
from keruen.sim.presets import PRESETS, preset
from keruen.sim.run import write_all

PresetOption = typer.Option("--preset", help=f"One of: {', '.join(PRESETS)}")


def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed and preset, same bytes)")] = 1,
    preset_name: Annotated[str, PresetOption] = "small",
    messy: Annotated[
        bool,
        typer.Option(
            "--messy",
            help="Documents as they really arrive: receipts partial and late, foreign parties "
            "without tax ids, generic names, offsets, corrections, duplicates, stock left over",
        ),
    ] = False,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Simulate Kazakhstan's trade with planted diversion schemes: writes events.jsonl,
    truth.jsonl, bait.jsonl and world.json, then prints simulated vs public figures."""
    _check(out_dir, preset_name)
    total = _estimate(preset_name)
    try:
        with progress("simulate", total, enabled=not as_json) as advance:
            summary = write_all(seed, preset_name, out_dir, advance, messy)
    except KeruenError as e:
        fail(str(e))
    except OSError as e:
        fail(f"--out: {out_dir}: {e.strerror}")
    if as_json:
        emit_json(summary)
    else:
        print_summary(summary, out_dir)


def _check(out_dir: Path, preset_name: str) -> None:
    try:
        preset(preset_name)
    except KeruenError as e:
        fail(f"--preset: {e}")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} exists and is not a directory")


def _estimate(preset_name: str) -> int | None:
    """Roughly how many events a preset writes (for the progress bar only)."""
    return {
        "small": 2_500,
        "demo": 31_000,
        "messy": 235_000,
        "year": 235_000,
        "national": 20_900_000,
    }.get(preset_name)


def print_summary(s: dict[str, Any], out_dir: Path) -> None:
    out.print(
        f"[bold]{s['events']:,}[/] events in {s['seconds']} s "
        f"({s['events_per_s']:,} events/s) -> {out_dir}"
    )
    out.print(
        f"{s['scheme_count']} planted schemes "
        f"({', '.join(f'{k} {v}' for k, v in s['schemes'].items())}), "
        f"diverted {s['diverted_usd'] / 1e6:,.1f} M USD; {s['bait_count']} bait; "
        f"{s['parties']:,} parties"
    )
    out.print(figures_table(s["figures"]))


def figures_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(
        "figure",
        "simulated",
        "expected",
        "public",
        "ratio",
        title="simulated vs public figures (expected = public pro rata x scale)",
    )
    for r in rows:
        if "simulated_usd" in r:
            table.add_row(
                r["figure"],
                _bn(r["simulated_usd"]),
                _bn(r["expected_usd"]),
                _bn(r["public_usd"]),
                f"{r['ratio']:.3f}" if r["ratio"] else "",
            )
        else:
            table.add_row(r["figure"], _pct(r["simulated"]), "", _pct(r["public"]), "")
    return table


def _bn(usd: float) -> str:
    return f"{usd / 1e9:,.3f} bn" if usd >= 1e8 else f"{usd / 1e6:,.2f} M"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("simulate")(simulate)
