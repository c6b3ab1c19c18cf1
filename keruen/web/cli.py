"""`keruen bench ui`: the dashboard's server time per screen (the dashboard itself is served by
`keruen serve`, with the API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keruen.console import JsonOption, emit_json, out


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("ui")
    def ui_cmd(
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
        from keruen.web.bench import bench_ui

        if db is not None and not db.is_file():
            raise typer.BadParameter(f"{db} is not a SQLite ledger file", param_hint="--db")
        r = bench_ui(
            db,
            events,
            alerts,
            requests,
            lambda name: None if as_json else out.print(f"measuring {name} …"),
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
