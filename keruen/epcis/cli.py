"""`keruen epcis ...`: the EPCIS 2.0 bridge's commands, thin shells over keruen.epcis."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from keruen.console import DbOption, JsonOption, NewDbOption, emit_json, fail, out
from keruen.epcis.capture import capture, capture_bulk, load_parties
from keruen.epcis.conformance import Row, public, run_conformance
from keruen.epcis.document import Document, EpcisFormatError, parse_document
from keruen.epcis.export import export_events, to_json_ld
from keruen.epcis.hashing import event_hash, prehash
from keruen.epcis.mapping import Parties
from keruen.epcis.validate import Report, validate_bytes
from keruen.settings import get_settings
from keruen.store import db
from keruen.store.port import LedgerReader

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


@epcis_app.command("validate")
def validate_command(
    file: Annotated[Path, FileArg],
    as_json: Annotated[bool, JsonOption] = False,
    shacl: Annotated[
        bool, typer.Option("--shacl", help="Also GS1's SHACL shapes (slow: ~40 events/s)")
    ] = False,
) -> None:
    """Validate in layers (schema, CBV 2.0 rules, optionally SHACL); exit 0 when valid."""
    if not file.is_file():
        fail(f"{file}: no such file")
    report = validate_bytes(file.read_bytes(), file.name)
    if shacl and report.parsed is not None:
        try:
            from keruen.epcis.shacl import shacl_issues
        except ImportError:
            fail("--shacl needs pyshacl: pip install 'keruen[shacl]'")
        errors, warnings = shacl_issues(report.parsed)
        report.errors += errors
        report.warnings += warnings
    if as_json:
        emit_json(report.public())
    else:
        _print_report(report)
    raise typer.Exit(0 if report.valid else 1)


def _print_report(report: Report) -> None:
    verdict = "[green]valid[/]" if report.valid else "[red]invalid[/]"
    out.print(f"{report.document}: {verdict}, {report.events} events", highlight=False)
    for label, issues in (("error", report.errors), ("warning", report.warnings)):
        for i in issues:
            event = "" if i.event is None else f" event {i.event}"
            out.print(
                f"  {label} [{i.layer}]{event} {i.pointer} {i.rule}: {i.reason}",
                highlight=False,
                markup=False,
            )


@epcis_app.command("import")
def import_command(
    file: Annotated[Path, FileArg],
    db_url: Annotated[str | None, NewDbOption] = None,
    parties: Annotated[
        Path | None,
        typer.Option("--parties", help="Party master data: GLN to tax id (CSV or JSON)"),
    ] = None,
    as_json: Annotated[bool, JsonOption] = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Into a NEW SQLite ledger file (--db NEW.db) through the bulk load of the ledger:"
            " checked in full before the file appears",
        ),
    ] = False,
) -> None:
    """Validate, map and append an EPCIS document's events to the ledger (exit 1 if any is
    rejected; every rejection is in the rejection log with its layer and reason)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    book = Parties()
    configured = get_settings().epcis_parties
    parties = parties or (Path(configured) if configured else None)
    if parties is not None:
        if not parties.is_file():
            fail(f"{parties}: no such file")
        book = load_parties(parties.read_text(encoding="utf-8"), parties.name)
    if bulk:
        if db_url is None:
            fail("--bulk needs --db NEW.db: it writes a new ledger file, never one in use")
        report, loaded = capture_bulk(db_url, file.read_bytes(), file.name, book)
        if not as_json:
            out.print(
                f"checked: SQLite integrity, chain and projections of "
                f"{loaded.checked.events.count:,} events (load {loaded.load_s:.1f} s, "
                f"indexes {loaded.index_s:.1f} s, check {loaded.check_s:.1f} s)"
            )
    else:
        report = capture(db.ready(db_url), file.read_bytes(), file.name, book)
    if as_json:
        emit_json(report.public())
    else:
        out.print(
            f"{report.document}: {report.events} events; accepted {report.accepted}, "
            f"duplicates {report.duplicates}, rejected {report.rejected}",
            highlight=False,
        )
        for i in report.rejections[:20]:
            out.print(
                f"  event {i.event} [{i.layer}] {i.pointer} {i.rule}: {i.reason}",
                highlight=False,
                markup=False,
            )
    raise typer.Exit(1 if report.rejected else 0)


def _since(text: str | None) -> tuple[int, datetime | None]:
    if text is None:
        return 0, None
    if text.isdigit():
        return int(text), None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since {text!r}: a sequence number or an RFC 3339 time")
    if moment.tzinfo is None:
        fail(f"--since {text!r}: give the time with its offset")
    return 0, moment


@epcis_app.command("export")
def export_command(
    out_file: Annotated[Path, typer.Option("--out", help="Write the EPCIS JSON-LD here")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only events after this seq, or from this time")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", help="Only events of this batch")] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Write the ledger's events as one EPCIS 2.0 JSON-LD document."""
    after, start = _since(since)
    eng = db.ready(db_url)
    with eng.connect() as conn:
        selected = LedgerReader(conn).select_events(after_seq=after, start=start, batch=batch)
        exported = export_events(conn, selected)
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    out_file.write_text(json.dumps(to_json_ld(exported.events, created), ensure_ascii=False))
    summary = {
        "events": len(exported.events),
        "last_seq": exported.last_seq,
        "skipped": exported.skipped,
        "out": str(out_file),
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(
            f"{summary['events']} EPCIS events to {out_file} (last seq "
            f"{exported.last_seq}); skipped: {exported.skipped or 'none'}",
            highlight=False,
        )


@epcis_app.command("conformance")
def conformance_command(
    path: Annotated[
        Path,
        typer.Argument(help="The conformance/epcis folder (GS1, hash answers, OpenEPCIS)"),
    ] = Path("../shared/conformance/epcis"),
    as_json: Annotated[bool, JsonOption] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every miss")] = False,
) -> None:
    """Run the external EPCIS material and print what passed; exit 1 on any miss."""
    if not (path / "event-hash-oracle").is_dir():
        fail(f"{path}: not the EPCIS conformance folder (no event-hash-oracle inside)")
    rows = run_conformance(path)
    if as_json:
        emit_json(public(rows))
    else:
        _print_rows(rows, verbose)
    raise typer.Exit(0 if all(r.passed == r.total for r in rows if r.target) else 1)


def _print_rows(rows: list[Row], verbose: bool) -> None:
    table = Table("check", "passed", "misses", "warnings")
    for r in rows:
        style = "green" if r.passed == r.total else ("red" if r.target else "yellow")
        table.add_row(
            r.check, f"[{style}]{r.passed}/{r.total}[/]", str(len(r.misses)), str(len(r.warnings))
        )
    out.print(table)
    for r in rows:
        label = "miss" if r.target else "differs"
        for line in r.misses if verbose else r.misses[:3]:
            out.print(f"  {label}: {line}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `keruen epcis` to the root app."""
    app.add_typer(epcis_app, name="epcis")
