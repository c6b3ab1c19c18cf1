"""`python -m keruen.risk …`: this area's commands alone (the root `keruen` app mounts the same;
its benchmark is `keruen bench detect`, in keruen.bench)."""

from __future__ import annotations

import typer

from keruen.risk.cli import register

app = typer.Typer(no_args_is_help=True, add_completion=False)
register(app)

if __name__ == "__main__":
    app()
