"""CLI commands of keruen.screening (mounted on the root `keruen` app by `keruen.cli`).

`keruen screen goods|party|ledger`, `keruen lists load|show`, `keruen bench screening`: thin
shells over `keruen.screening` (loaders, store, screener, ledger, bench).
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keruen.console import DbOption, JsonOption, NewDbOption, emit_json, err, fail, out, progress
from keruen.errors import KeruenError
from keruen.screening import loaders, store, with_shipped_parties
from keruen.screening.ledger import count_events, screen_ledger
from keruen.screening.screener import Screener
from keruen.store import db

screen_app = typer.Typer(no_args_is_help=True, help="Screen goods and parties against lists.")
lists_app = typer.Typer(no_args_is_help=True, help="Load and show screening lists.")
KINDS = ("ofac", "ftm", "csv", "goods", "chpl")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(screen_app, name="screen")
    app.add_typer(lists_app, name="lists")


def _screener(db_url: str | None) -> Screener:
    """The lists in the database; with no party list there, the shipped OFAC extract, named as
    such in every answer (`Screener.warning`)."""
    eng = db.ready(db_url)
    with eng.begin() as conn:
        store.ensure_builtin(conn)
        return with_shipped_parties(store.load_screener(conn))


@screen_app.command("goods")
def screen_goods_cmd(
    hs: Annotated[str, typer.Argument(help="HS code, 2 to 10 digits (dots allowed)")],
    to: Annotated[str, typer.Option("--to", help="Destination country, ISO alpha-2")],
    on: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today)")] = None,
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The goods rules that fire for HS code bound for a destination, with list and version."""
    code = hs.replace(".", "").strip()
    if not re.fullmatch(r"\d{2,10}", code):
        fail(f"hs: {hs!r} is not an HS code of 2 to 10 digits")
    if not re.fullmatch(r"[A-Za-z]{2}", to):
        fail(f"--to: {to!r} is not an ISO 3166-1 alpha-2 country code")
    day = _date(on)
    hits = _screener(db_url).screen_goods(code, to.upper(), day)
    if as_json:
        emit_json(
            {
                "hs": code,
                "destination": to.upper(),
                "date": day.isoformat(),
                "hits": [h.public() for h in hits],
            }
        )
        return
    if not hits:
        out.print(f"[green]no rule fires[/] for {code} to {to.upper()} on {day}")
        return
    table = Table("list", "version", "rule", "tier", "action", "note")
    for h in hits:
        table.add_row(h.list, h.version, h.hs_prefix, h.tier, h.action, h.note[:80])
    out.print(table)


def _date(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--date: {value!r} is not a YYYY-MM-DD date")


@screen_app.command("party")
def screen_party_cmd(
    name: Annotated[str | None, typer.Argument(help="The party's name")] = None,
    country: Annotated[str | None, typer.Option("--country", help="ISO alpha-2")] = None,
    ids: Annotated[list[str] | None, typer.Option("--id", help="Tax id, OGRN, IMO, ...")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="CSV: name[,country,id]")] = None,
    dob: Annotated[
        list[str] | None, typer.Option("--dob", help="Date of birth, YYYY[-MM[-DD]]")
    ] = None,
    schema: Annotated[str | None, typer.Option(help="person or organization")] = None,
    threshold: Annotated[float | None, typer.Option(help="Minimum score")] = None,
    limit: Annotated[int, typer.Option(help="Most hits per name")] = 10,
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """List entries a party matches, best first, each with score and explanation."""
    if (name is None) == (file is None):
        fail("give a NAME or --file NAMES.csv", 2)
    queries: list[dict[str, Any]] = (
        _queries(file) if file else [{"name": name or "", "country": country, "ids": ids or []}]
    )
    for d in dob or []:
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", d):
            fail(f"--dob: {d!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    if schema not in (None, "person", "organization"):
        fail(f"--schema: {schema!r} is not person or organization")
    screener = _screener(db_url)
    if screener.warning:
        err.print(f"[bold red]warning:[/] {screener.warning}")
    for q in queries:
        hits = screener.screen_party(
            q["name"], q["country"], q["ids"], threshold, limit, schema, dob or ()
        )
        if as_json:
            emit_json(
                {
                    "query": q["name"],
                    "country": q["country"],
                    "ids": q["ids"],
                    "party_lists": screener.party_lists,
                    "warning": screener.warning,
                    "hits": [h.public() for h in hits],
                }
            )
        else:
            _print_party(str(q["name"]), hits)


def _queries(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        fail(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "name" not in (reader.fieldnames or ()):
            fail(f"{path}: missing column name")
        return [
            {
                "name": r["name"] or "",
                "country": (r.get("country") or "").strip() or None,
                "ids": [i for i in [(r.get("id") or "").strip()] if i],
            }
            for r in reader
        ]


def _print_party(name: str, hits: list[Any]) -> None:
    if not hits:
        out.print(f"[green]no hit[/] for {name!r}")
        return
    table = Table("score", "list", "id", "matched name", "why", title=name)
    for h in hits:
        table.add_row(
            f"{h.score:.3f}", f"{h.list}@{h.version}", h.entry_id, h.matched_name, h.explanation
        )
    out.print(table)


@screen_app.command("ledger")
def screen_ledger_cmd(
    since: Annotated[int | None, typer.Option("--since", help="Only events after this seq")] = None,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Screen dispatches, exports and transits not yet screened against the current lists."""
    eng = db.ready(db_url)
    with progress("screen", count_events(eng, since), enabled=not as_json) as advance:
        report = screen_ledger(eng, since_seq=since, progress=advance)
    if as_json:
        emit_json(report.public())
        return
    if report.warning:
        err.print(f"[bold red]warning:[/] {report.warning}")
    out.print(
        f"events {report.events:,}  screened {report.screened:,}  hits {report.hits:,}  "
        + "  ".join(f"{k}: {v:,}" for k, v in sorted(report.by_list.items()))
    )


@lists_app.command("load")
def lists_load(
    kind: Annotated[str, typer.Argument(help="ofac | ftm | csv | goods | chpl")],
    file: Annotated[Path | None, typer.Argument(help="The list file (ofac: sdn.csv)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="List name")] = None,
    version: Annotated[str | None, typer.Option(help="Version (default: content digest)")] = None,
    alt: Annotated[Path | None, typer.Option(help="OFAC alt.csv (default: beside sdn)")] = None,
    add: Annotated[Path | None, typer.Option(help="OFAC add.csv (default: beside sdn)")] = None,
    rescreen: Annotated[bool, typer.Option(help="Re-screen the ledger afterwards")] = True,
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Load a list into the database as its new current version."""
    try:
        loaded = _load(kind, file, name, version, alt, add)
    except KeruenError as e:
        fail(str(e))
    eng = db.ready(db_url)
    with eng.begin() as conn:
        changed = store.save(conn, loaded)
    report = screen_ledger(eng) if rescreen and changed else None
    result = {
        "name": loaded.name,
        "kind": loaded.kind,
        "version": loaded.version,
        "size": loaded.size,
        "changed": changed,
        "rescreened": report.public() if report else None,
    }
    if as_json:
        emit_json(result)
        return
    state = "loaded" if changed else "already current:"
    out.print(
        f"{state} {loaded.name} version {loaded.version} ({loaded.size:,} "
        f"{'entries' if loaded.kind == 'parties' else 'rules'})"
    )
    if report:
        out.print(f"re-screened {report.screened:,} events, {report.hits:,} hits")


def _load(
    kind: str,
    file: Path | None,
    name: str | None,
    version: str | None,
    alt: Path | None,
    add: Path | None,
) -> loaders.Loaded:
    if kind not in KINDS:
        fail(f"kind: {kind!r} is not one of {', '.join(KINDS)}", 2)
    if kind == "chpl":
        return loaders.chpl(version)
    if kind == "ofac":
        return (
            loaders.ofac(file, alt, add, version, name or "ofac-sdn")
            if file
            else (loaders.ofac_demo())
        )
    if file is None or (name is None and kind != "ofac"):
        fail(f"{kind}: give FILE and --name LIST", 2)
    if kind == "ftm":
        return loaders.ftm(file, name or "", version)
    if kind == "csv":
        return loaders.parties_csv(file, name or "", version)
    return loaders.goods_csv(file, name or "", version)


@lists_app.command("show")
def lists_show(
    all_versions: Annotated[bool, typer.Option("--all", help="Every version ever loaded")] = False,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """The lists in the database: current version, kind, size, when loaded, source."""
    with db.ready(db_url).begin() as conn:
        store.ensure_builtin(conn)
        rows = store.history(conn) if all_versions else list(store.current_versions(conn).values())
    if as_json:
        emit_json([r.public() for r in rows])
        return
    table = Table("list", "version", "kind", "size", "loaded", "source")
    for r in rows:
        p = r.public()
        table.add_row(r.name, r.version, r.kind, f"{r.size:,}", p["loaded"], r.source[:60])
    out.print(table)
