"""`python -m keruen.risk …`: this area's commands alone (the root `keruen` app mounts the same)."""

from __future__ import annotations

import typer

from keruen.bench.detect import register as register_detect
from keruen.risk.cli import register

app = typer.Typer(no_args_is_help=True, add_completion=False)
bench = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")
register(app, bench)
register_detect(bench)  # `python -m keruen.risk bench detect`, as `keruen bench detect`
app.add_typer(bench, name="bench")

if __name__ == "__main__":
    app()
