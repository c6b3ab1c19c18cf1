"""The `keruen` command: a thin shell over the service functions."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import typer
from rich.table import Table

from keruen import __version__
from keruen.console import DbOption, JsonOption, NewDbOption, emit_json, err, fail, out, progress
from keruen.errors import KeruenError
from keruen.ingest import Report, ingest_lines, read_lines
from keruen.model.events import json_schema
from keruen.store import backup as backups
from keruen.store import checkpoint, db, integrity
from keruen.store.port import LedgerReader
from keruen.store.queries import public

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=(
        "Keruen: trace goods through the home country (KERUEN_JURISDICTION) and find diversion"
        " to Russia."
    ),
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures.")
app.add_typer(bench_app, name="bench")


def _lines(path: str) -> Iterator[bytes]:
    if path == "-":
        yield from read_lines(sys.stdin.buffer)
        return
    with open(path, "rb") as f:
        yield from read_lines(f)


def _count_lines(path: str) -> int | None:
    if path == "-" or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(help="JSON Lines file, or - for standard input")],
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Write rejected lines here")
    ] = None,
    allow_rejects: Annotated[
        bool,
        typer.Option("--allow-rejects", help="Exit 0 even when lines were rejected"),
    ] = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Backfill into a NEW SQLite ledger file (--db): loaded without durability, "
            "checked in full, then made the ledger at once; refuses an existing file",
        ),
    ] = False,
) -> None:
    """Validate and append events to the ledger; rejected lines are stored with their reason.

    Exits 0 when every line was accepted or a duplicate, 3 when some were rejected (0 with
    --allow-rejects), 1 on an error (nothing of the failing chunk is written; with --bulk,
    no ledger at all), 130 when interrupted (Ctrl-C): it says how many lines are in the
    ledger, and the same command again ingests the rest."""
    if file != "-" and not os.path.isfile(file):
        fail(f"{file}: no such file")
    if bulk:
        _ingest_bulk(file, db_url, as_json, rejects, allow_rejects)
        return
    with _rejects_file(rejects) as sink:
        eng = db.ready(db_url)
        signed = checkpoint.Auto.from_settings(eng)  # with a checkpoint key: signed heads
        done = 0  # lines of the chunks committed

        with (
            progress("ingest", _count_lines(file), enabled=not as_json) as advance,
            _ctrl_c() as ctrl_c,
        ):

            def committed(lines: int) -> None:  # after each chunk's commit
                nonlocal done
                done += lines
                advance(lines)
                if signed is not None:
                    signed.note(lines)
                ctrl_c.stop_if_asked()

            try:
                report = ingest_lines(eng, _lines(file), source=file, progress=committed)
            except KeyboardInterrupt:
                _interrupted(done, as_json)
            finally:
                if signed is not None:
                    signed.close()
        if sink is not None:
            sink.writelines(r.raw.rstrip(b"\n") + b"\n" for r in report.rejections)
    _print_report(report, as_json)
    if report.rejected and not allow_rejects:
        raise typer.Exit(REJECTED)


REJECTED = 3  # `keruen ingest`'s exit status when lines were rejected
INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT), as a shell reports a command it interrupted


class _CtrlC:
    """Ctrl-C during an ingest. The first asks it to stop once the chunk being written is
    committed: `stop_if_asked`, called after each commit, raises KeyboardInterrupt then.
    Raised at any other point, it could land inside the parse pool or a helper's pipe, which
    then failed again on the way out with a traceback of its own. A second Ctrl-C, or one
    after `at_once` (a bulk load's check: no chunks, nothing kept), interrupts at once. The
    helper processes ignore SIGINT (`split.die_with`)."""

    def __init__(self) -> None:
        self.asked = self.immediate = False

    def on_signal(self, signum: int, frame: object) -> None:
        if self.asked or self.immediate:
            raise KeyboardInterrupt
        self.asked = True

    def stop_if_asked(self) -> None:
        if self.asked:
            raise KeyboardInterrupt

    def at_once(self) -> None:
        self.immediate = True
        self.stop_if_asked()


@contextmanager
def _ctrl_c() -> Iterator[_CtrlC]:
    ctrl_c = _CtrlC()
    try:
        previous = signal.signal(signal.SIGINT, ctrl_c.on_signal)
    except ValueError:  # not the main thread (an embedding program's): Python's own handling
        yield ctrl_c
        return
    try:
        yield ctrl_c
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(lines: int, as_json: bool, bulk: bool = False) -> NoReturn:
    """Ctrl-C during an ingest: say what stays. Chunks commit whole and in order, so the
    file's first `lines` lines are in the ledger (accepted, duplicates or stored rejections)
    and nothing after them; a line ingested again is a duplicate, a rejection is not stored
    twice. A bulk load leaves no ledger at all."""
    if as_json:
        emit_json({"interrupted": True, "lines_committed": lines})
    said = (
        "no ledger was made (a bulk load makes it only once loaded and checked); the same "
        "command again starts over"
        if bulk
        else f"the first {lines:,} lines are in the ledger, none after them; the same command "
        "again ingests the rest (the lines already in count as duplicates)"
    )
    err.print(f"interrupted: {said}", highlight=False, soft_wrap=True)
    raise typer.Exit(INTERRUPTED)


def _ingest_bulk(
    file: str, db_url: str | None, as_json: bool, rejects: Path | None, allow_rejects: bool
) -> None:
    from keruen.bulk import ingest_bulk

    if db_url is None:
        fail("--bulk needs --db NEW.db: it writes a new ledger file, never one in use")
    with _rejects_file(rejects) as sink:
        with (
            progress("bulk load", _count_lines(file), enabled=not as_json) as advance,
            _ctrl_c() as ctrl_c,
        ):

            def committed(lines: int) -> None:
                advance(lines)
                ctrl_c.stop_if_asked()

            try:
                result = ingest_bulk(
                    _lines(file), db_url, source=file, progress=committed, loaded=ctrl_c.at_once
                )
            except KeyboardInterrupt:
                _interrupted(0, as_json, bulk=True)
        if sink is not None:
            sink.writelines(r.raw.rstrip(b"\n") + b"\n" for r in result.report.rejections)
    if not as_json:
        out.print(
            f"checked: SQLite integrity, chain and projections of {result.checked.events.count:,}"
            f" events (load {result.load_s:.1f} s, indexes {result.index_s:.1f} s, "
            f"check {result.check_s:.1f} s)"
        )
    _print_report(result.report, as_json)
    if result.report.rejected and not allow_rejects:
        raise typer.Exit(REJECTED)


@contextmanager
def _rejects_file(path: Path | None) -> Iterator[BinaryIO | None]:
    """The --rejects file, opened before anything is ingested (an unwritable path fails
    first, not after the ingest committed)."""
    if path is None:
        yield None
        return
    try:
        f = path.open("wb")
    except OSError as e:
        fail(f"--rejects {path}: {e.strerror or e}")
    with f:
        yield f


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        emit_json(report.public())
        return
    out.print(
        f"accepted {report.accepted:,}  rejected {report.rejected:,}  "
        f"duplicates {report.duplicates:,}"
    )
    for r in report.rejections[:20]:
        out.print(f"  line {r.line}: [red]{r.error}[/]", highlight=False)
    if report.rejected > 20:
        out.print(f"  … {report.rejected - 20:,} more (keruen rejections, or --json)")


@app.command()
def stock(
    holder: Annotated[str, typer.Argument(help="Tax id of the holder")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """A holder's virtual warehouse: its balance of every batch it holds."""
    rows = public(LedgerReader(db.ready(db_url)).stock(holder))
    if as_json:
        emit_json([{k: r[k] for k in ("batch", "hs", "quantity", "unit")} for r in rows])
        return
    table = Table("batch", "hs", "quantity", "unit", "description", title=f"stock of {holder}")
    for r in rows:
        table.add_row(r["batch"], r["hs"], r["quantity"], r["unit"], r["description"])
    out.print(table)


@app.command()
def history(
    batch: str,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Every event that moved a batch, in ledger order."""
    reader = LedgerReader(db.ready(db_url))
    result = public(_or_fail(lambda: reader.history(batch)))
    if as_json:
        emit_json(result)
        return
    info = result["batch"]
    out.print(f"[bold]{batch}[/]  HS {info['hs']}  {info['description']}  origin {info['origin']}")
    table = Table("time", "type", "id", "from", "to", "quantity", "cancelled by")
    for e in result["events"]:
        table.add_row(
            e["time"],
            e["type"],
            e["id"],
            e["from"] or "",
            e["to"] or "",
            e["quantity"],
            e["cancelled_by"] or "",
        )
    out.print(table)


@app.command()
def trace(
    batch: str,
    back: Annotated[bool, typer.Option("--back", help="To the imports it came from")] = False,
    forward: Annotated[bool, typer.Option("--forward", help="To where it went")] = False,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Trace a batch back to its imports or forward to where its quantities went."""
    if back == forward:
        fail("say --back or --forward", 2)
    reader = LedgerReader(db.ready(db_url))
    fn = reader.trace_back if back else reader.trace_forward
    result = public(_or_fail(lambda: fn(batch)))
    if as_json:
        emit_json(result)
    else:
        _print_trace(result, back)


def _print_trace(result: dict[str, Any], back: bool) -> None:
    for node in result["batches"]:
        out.print(f"[bold]{node['batch']}[/]", highlight=False)
        for hop in node["holders"]:
            out.print(f"  {hop['time']}  {hop['from']} → {hop['to']}  {hop['quantity']}")
        if back:
            c = node["created_by"]
            out.print(
                f"  created by {c['type']} {c['event']} at {c['time']} for {c['holder']}"
                + (f" from {', '.join(node['inputs'])}" if node["inputs"] else "")
            )
        else:
            for h in node["held_by"]:
                out.print(f"  held by {h['holder']}: {h['quantity']}")
            for x in node["exits"]:
                buyer = x.get("buyer") or {}
                out.print(
                    f"  {x['type']} {x['quantity']} by {x['holder']} at {x['time']}"
                    + (f" to {buyer.get('name')} ({buyer.get('country')})" if buyer else "")
                )
    if back:
        for o in result["origins"]:
            seller = o.get("seller") or {}
            out.print(
                f"[green]origin[/] {o['batch']}: {o['type']} by {o['importer']} from "
                f"{seller.get('name')} ({seller.get('country')}) via {o['post']}"
            )
    else:
        out.print("totals: " + ", ".join(f"{k} {v}" for k, v in result["totals"].items()))


def _or_fail(fn: Any) -> Any:
    try:
        return fn()
    except KeruenError as e:
        fail(str(e))


@app.command()
def verify(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    expect: Annotated[
        list[str] | None,
        typer.Option("--expect", help="SEQ:HASH a head you hold: the event at SEQ must have HASH"),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option("--checkpoints", help="Signed checkpoints (keruen checkpoint) to check"),
    ] = None,
) -> None:
    """Check the ledger for tampering: the events' hash chain and indexed columns, the
    projections rebuilt from the events (moves, balances, batches, links, cancellations), the
    rejections' and audit log's chains, and heads held outside the database (--expect,
    --checkpoints). Prints the head; exits 1 when anything does not verify."""
    heads = [_expected(x) for x in expect or []]
    eng = db.ready(db_url)
    with eng.connect() as conn:
        total = LedgerReader(conn).count_events()
        with progress("verify", total, enabled=not as_json) as advance:
            report = integrity.verify(conn, heads, advance)
        if checkpoints is not None:
            checkpoint.check(conn, report, _checkpoints(checkpoints), checkpoint.key())
    if as_json:
        emit_json(report.public())
    else:
        _print_verify(report)
    if not report.ok:
        raise typer.Exit(1)


def _expected(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not (seq.isdigit() and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        fail(f"--expect {text!r}: give SEQ:HASH (an event number and its 64-hex hash)", 2)
    return int(seq), digest


def _checkpoints(path: Path) -> list[checkpoint.Checkpoint]:
    if not path.is_file():
        fail(f"--checkpoints {path}: no such file")
    return checkpoint.read(path)


def _print_verify(report: integrity.Report) -> None:
    e = report.events
    head = f"head #{e.last} {e.hash}"
    for p in report.problems[:20]:
        out.print(f"  [red]{p}[/]", highlight=False)
    if not report.ok:
        n = len(report.problems) + report.more_problems
        if n > 20:
            out.print(f"  … {n - 20:,} more (--json)")
        fail(f"does not verify: {n:,} problem(s), the first: {report.problems[0]} ({head})")
    out.print(
        f"[green]ok[/] {e.count:,} events, hash chain intact, {head}; "
        f"{report.rejections.count:,} rejections and {report.audit.count:,} audit entries "
        "chained; projections match the events",
        highlight=False,
    )


@app.command("checkpoint")
def checkpoint_cmd(
    out_file: Annotated[
        Path, typer.Option("--out", help="Append the signed checkpoint to this file")
    ] = Path("keruen-checkpoints.jsonl"),
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Sign the heads of the ledger's chains with the checkpoint key (KERUEN_CHECKPOINT_KEY_FILE,
    which the database does not hold) and append them to a file to keep and publish; `keruen
    verify --checkpoints FILE` then finds truncation and rewrites."""
    eng = db.ready(db_url)
    secret = checkpoint.key()
    with eng.connect() as conn:
        cp = checkpoint.take(conn, secret)
    try:
        with out_file.open("ab") as f:
            f.write(checkpoint.line(cp))
    except OSError as e:
        fail(f"--out {out_file}: {e.strerror or e}")
    if as_json:
        emit_json(cp)
        return
    out.print(
        f"checkpoint: events #{cp.events.last} {cp.events.hash}, rejections #"
        f"{cp.rejections.last}, audit #{cp.audit.last} → {out_file}",
        highlight=False,
    )


@app.command("backup")
def backup_cmd(
    out_file: Annotated[Path, typer.Argument(help="New file to write (never overwritten)")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Back up the whole database online, as one consistent snapshot (writers go on), to a
    gzip'd JSON Lines file that `keruen restore` reads into SQLite or PostgreSQL."""
    eng = db.ready(db_url)
    f = backups.open_out(out_file)  # a new file: never one that exists
    try:
        with f, progress("backup", None, not as_json) as advance:
            summary = backups.backup(eng, f, advance)
    except BaseException:
        out_file.unlink(missing_ok=True)  # the half-written file this command made
        raise
    _print_summary("backup", summary, out_file, as_json)


@app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A backup written by keruen backup")],
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Restore a backup into a new, empty database, then verify it as `keruen verify` does
    (exit 1 if it does not verify, or does not end at the backup's head)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    eng = db.ready(db_url)
    with file.open("rb") as f, progress("restore", None, not as_json) as advance:
        summary = backups.restore(eng, f, advance)
    with eng.connect() as conn:
        report = integrity.verify(conn, [summary.head] if summary.head[0] else [])
    _print_summary("restore", summary, file, as_json, report)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(
    what: str,
    s: backups.Summary,
    file: Path,
    as_json: bool,
    report: integrity.Report | None = None,
) -> None:
    if as_json:
        result: dict[str, Any] = {
            "tables": s.tables,
            "rows": s.rows,
            "events": s.events,
            "head": {"seq": s.head[0], "hash": s.head[1]},
        }
        if report is not None:
            result["verify"] = report.public()
        emit_json(result)
        return
    out.print(
        f"{what}: {s.rows:,} rows of {s.tables} tables, {s.events:,} events, head #{s.head[0]} "
        f"{s.head[1]} ({file})",
        highlight=False,
    )
    if report is not None:
        _print_verify(report)


@app.command()
def rejections(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    limit: Annotated[int, typer.Option(help="Newest N")] = 50,
) -> None:
    """Rejected submissions, newest first, with their reason."""
    rows = public(LedgerReader(db.ready(db_url)).rejections(limit))
    if as_json:
        emit_json(rows)
        return
    table = Table("received", "source", "line", "id", "field", "reason")
    for r in rows:
        table.add_row(
            r["received"],
            r["source"],
            str(r["line"] or ""),
            r["event_id"] or "",
            r["field"],
            r["reason"],
        )
    out.print(table)


@app.command()
def schema(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
) -> None:
    """Print the JSON Schema of the event contract (generated from the model)."""
    import json

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command()
def demo(
    db_url: Annotated[
        str,
        typer.Option(
            "--db",
            help="Database URL or SQLite file for a new ledger (a file the demo made before "
            "is recreated; any other existing ledger is refused, never deleted)",
        ),
    ] = "keruen-demo.db",
    events: Annotated[int, typer.Option(help="Size hint: 200,000+ simulates the `year` preset")] = (
        20_000
    ),
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 1,
) -> None:
    """The main job on the embedded default: simulate a year, ingest, screen, detect, evaluate."""
    from keruen.demo.job import run

    run(db_url, events, seed=seed)


@app.command()
def version() -> None:
    """Print Keruen's version."""
    out.print(__version__)


def _mount() -> None:
    """Each area adds its own commands; this module knows only their names."""
    from importlib import import_module

    from keruen.bench import cli as bench_cli

    bench_cli.register(bench_app)
    for area in ("sim", "screening", "transit", "risk", "api", "analytics", "epcis"):
        import_module(f"keruen.{area}.cli").register(app)


_mount()


def main() -> None:
    """The `keruen` command: a database problem or a KeruenError is one line and exit 1."""
    try:
        app()
    except Exception as e:
        problem = db.failure(e) or (e if isinstance(e, KeruenError) else None)
        if problem is None:
            raise
        err.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
        sys.exit(1)
