"""Shared terminal helpers for the CLI modules: JSON output, errors, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import msgspec
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

out = Console()
err = Console(stderr=True)
_json = msgspec.json.Encoder()

DbOption = typer.Option("--db", help="Database URL or SQLite file (default: $KERUEN_DB)")
JsonOption = typer.Option("--json", help="Print machine-readable JSON")


def emit_json(obj: Any) -> None:
    sys.stdout.write(_json.encode(obj).decode() + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def progress(description: str, total: int | None, enabled: bool = True) -> Iterator[Any]:
    """A Rich progress bar on a terminal; silent when output is piped or disabled."""
    show = enabled and err.is_terminal
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
