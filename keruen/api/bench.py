"""`keruen bench api` (placeholder while the benchmark is written)."""

from __future__ import annotations

import typer


def register(bench: typer.Typer) -> None:
    pass
