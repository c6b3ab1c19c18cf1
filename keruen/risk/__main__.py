"""`python -m keruen.risk …`: this area's commands alone (the root `keruen` app mounts the same)."""

from __future__ import annotations

import typer

from keruen.risk.cli import register

app = typer.Typer(no_args_is_help=True, add_completion=False)
bench = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")
register(app, bench)
app.add_typer(bench, name="bench")

if __name__ == "__main__":
    app()
