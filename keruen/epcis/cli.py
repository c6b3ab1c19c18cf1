"""`keruen epcis ...`: the EPCIS 2.0 bridge's commands, thin shells over keruen.epcis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from keruen.console import fail
from keruen.epcis.document import Document, EpcisFormatError, parse_document
from keruen.epcis.hashing import event_hash, prehash

epcis_app = typer.Typer(no_args_is_help=True, help="GS1 EPCIS 2.0: hash, validate, import, export.")

FileArg = typer.Argument(help="EPCIS 2.0 document: JSON-LD, simple-context JSON or XML")


def read_document(path: Path) -> Document:
    """The document at `path`, or a clear error naming the file and the reason."""
    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        return parse_document(path.read_bytes(), path.name)
    except EpcisFormatError as e:
        fail(f"{path}: {e.reason}" + (f" (at {e.pointer})" if e.pointer else ""))


@epcis_app.command("hash")
def hash_command(
    file: Annotated[Path, FileArg],
    show_prehash: Annotated[
        bool, typer.Option("--prehash", help="Print the canonical pre-hash strings instead")
    ] = False,
) -> None:
    """One line per event, in document order: its CBV 2.0 event hash (ni:///sha-256;...)."""
    doc = read_document(file)
    for event in doc.events:
        sys.stdout.write((prehash(event) if show_prehash else event_hash(event)) + "\n")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `keruen epcis` to the root app."""
    app.add_typer(epcis_app, name="epcis")
