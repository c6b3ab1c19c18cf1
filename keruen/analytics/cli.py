"""`keruen export`, `keruen trade` and `keruen report`: thin shells over the analytics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keruen.console import DbOption, JsonOption, emit_json, out, progress

export_app = typer.Typer(no_args_is_help=True, help="Export the ledger for analytics.")
trade_app = typer.Typer(no_args_is_help=True, help="Trade figures and mirror statistics.")


@export_app.command("parquet")
def export_parquet(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory of the Parquet export")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Flattened events as Parquet by year/month, incremental, with a manifest (head seq, hash)."""
    from dataclasses import asdict

    from keruen.analytics.export import export_parquet as run
    from keruen.analytics.source import head
    from keruen.store import db

    eng = db.ready(db_url)
    with eng.connect() as conn:
        total = head(conn).seq
        with progress("export", total, enabled=not as_json) as advance:
            report = run(conn, out_dir, progress=advance)
    if as_json:
        emit_json(asdict(report))
        return
    out.print(
        f"exported {report.rows:,} rows (events after seq {report.after_seq:,} up to "
        f"{report.head_seq:,}) in {len(report.files)} files; head hash {report.head_hash[:16]}",
        highlight=False,
    )


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this area's commands to the root app and its benchmarks to `keruen bench`."""
    app.add_typer(export_app, name="export")
