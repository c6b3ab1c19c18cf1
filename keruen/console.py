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


def _existing_db(value: str | None) -> str | None:
    """A command that reads refuses a SQLite file that does not exist (no empty ledger)."""
    from keruen.errors import StorageFailure
    from keruen.store.db import require_existing

    try:
        require_existing(value)
    except StorageFailure as e:
        fail(str(e))
    return value


DbOption = typer.Option(
    "--db", help="Database URL or SQLite file (default: $KERUEN_DB)", callback=_existing_db
)
NewDbOption = typer.Option(
    "--db", help="Database URL or SQLite file, created if new (default: $KERUEN_DB)"
)
JsonOption = typer.Option("--json", help="Print machine-readable JSON")


def emit_json(obj: Any) -> None:
    sys.stdout.write(_json.encode(obj).decode() + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def progress(description: str, total: int | None, enabled: bool = True) -> Iterator[Any]:
    """A Rich progress bar on a terminal; silent when output is piped or disabled.

    Redrawn when it advances, never by a refresh thread of its own: a second thread makes the
    ingest keep to one process (forking copies locks another thread may hold), so a file
    ingested from a terminal used one core where the same command piped used two."""
    show = enabled and err.is_terminal
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show,
        auto_refresh=False,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int) -> None:
            bar.advance(task, n)
            bar.refresh()

        yield advance
