"""CLI commands of keruen.transit (mounted on the root `keruen` app by `keruen.cli`).

`keruen posts`, `keruen transit list|show|check|map`, `keruen bench transit`: thin shells
over `keruen.transit.service`, which the API and the risk engine call as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keruen.console import DbOption, JsonOption, emit_json, fail, out, progress
from keruen.errors import KeruenError
from keruen.settings import get_settings
from keruen.store import db
from keruen.transit import mapview, service
from keruen.transit.model import Config, Finding

NowOption = typer.Option("--now", help="Check as of this RFC 3339 time (default: latest event)")
CorridorOption = typer.Option("--corridor-km", help="Corridor half-width in km", min=0.1)
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}

transit_app = typer.Typer(no_args_is_help=True, help="Transit monitoring (SPEC C2).")


def _config(corridor_km: float) -> Config:
    return Config(corridor_km=corridor_km)


def _now(text: str | None) -> Any:
    return service.parse_now(text) if text else None


def _call(fn: Any) -> Any:
    """Run a service call; a user's mistake becomes a clear message, not a traceback."""
    try:
        return fn()
    except KeruenError as e:
        fail(str(e))


def _movement(db_url: str | None, mrn: str, now: str | None, corridor_km: float) -> Any:
    eng = db.ready(db_url)
    service.refresh(eng)  # index new seal bindings, so one movement is a few indexed reads
    with eng.connect() as conn:
        return _call(lambda: service.movement(conn, mrn, _now(now), _config(corridor_km)))


POST_COLUMNS = (
    "code",
    "name",
    "name_other_side",
    "neighbour",
    "mode",
    "region",
    "lat",
    "lon",
    "check",
)


def posts(
    as_json: Annotated[bool, JsonOption] = False,
    neighbour: Annotated[str | None, typer.Option(help="Only posts facing this country")] = None,
    mode: Annotated[str | None, typer.Option(help="road, rail, sea or air")] = None,
) -> None:
    """The home country's border posts (KERUEN_JURISDICTION): code, name, neighbour, mode and
    coordinates."""
    rows = [
        {k: getattr(p, k) or None for k in POST_COLUMNS}
        for p in get_settings().jurisdiction.posts.values()
        if (neighbour is None or p.neighbour == neighbour.upper())
        and (mode is None or p.mode == mode.lower())
    ]
    if as_json:
        emit_json(rows)
        return
    shown = ("code", "name", "neighbour", "mode", "lat", "lon", "check")
    table = Table(*shown, title=f"{len(rows)} border posts (--json for every column)")
    for r in rows:
        r["check"] = str(r["check"]).split(":")[0]
        table.add_row(*(str(r[k] or "") for k in shown))
    out.print(table)


@transit_app.command("list")
def list_(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    now: Annotated[str | None, NowOption] = None,
    state: Annotated[str | None, typer.Option(help="Only movements in this state")] = None,
    corridor_km: Annotated[float, CorridorOption] = 50.0,
) -> None:
    """Every declared movement with its state and number of findings."""
    eng = db.ready(db_url)
    with progress("replay", None, not as_json) as bar:
        fed = service.refresh_tracker(eng, bar)
        with eng.connect() as conn:
            views = _call(
                lambda: service.movements(conn, _now(now), _config(corridor_km), None, bar, fed)
            )
    views = [v for v in views if state is None or v.state == state]
    if as_json:
        emit_json([v.public() for v in views])
        return
    table = Table("MRN", "state", "entry", "exit", "exited at", "dest.", "pings", "findings")
    for v in views:
        table.add_row(
            v.mrn,
            v.state,
            v.entry_post,
            v.exit_post,
            v.exited_at or "",
            v.destination,
            str(v.pings),
            str(v.findings),
        )
    out.print(table)


@transit_app.command()
def show(
    mrn: str,
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    now: Annotated[str | None, NowOption] = None,
    corridor_km: Annotated[float, CorridorOption] = 50.0,
    pings: Annotated[bool, typer.Option("--pings", help="List every seal ping")] = False,
) -> None:
    """One movement: state, declaration, timeline and findings."""
    detail = _movement(db_url, mrn, now, corridor_km)
    if as_json:
        emit_json(detail.public())
        return
    v = detail.view
    out.print(
        f"[bold]{v.mrn}[/]  [bold]{v.state}[/]  {v.entry_post} → {v.exit_post}"
        f"{f' (exited at {v.exited_at})' if v.exited_at else ''}  to {v.destination}, "
        f"deadline {v.deadline}, seals {', '.join(v.seals) or '-'}, {v.mass_kg} kg"
    )
    out.print(
        f"corridor: {v.corridor}: " + " → ".join(p.code for p in detail.corridor.places),
        highlight=False,
    )
    _print_timeline(detail.timeline, pings)
    _print_findings(detail.findings)


def _print_timeline(timeline: list[Any], all_pings: bool) -> None:
    table = Table("time", "event", "id", "details", title="timeline")
    routine = 0
    for e in timeline:
        d = e.data
        if (
            e.type == "seal_ping"
            and not all_pings
            and d.get("on_corridor")
            and d.get("state") == "intact"
            and not d.get("code")
        ):
            routine += 1
            continue
        table.add_row(
            e.public()["time"],
            e.type,
            e.id,
            ", ".join(f"{k}={val}" for k, val in d.items() if val is not None),
        )
    out.print(table)
    if routine:
        out.print(f"… and {routine} routine seal pings on the corridor (--pings lists them)")


def _print_findings(found: list[Finding]) -> None:
    if not found:
        out.print("[green]no findings[/]")
        return
    table = Table("time", "MRN", "kind", "severity", "explanation", title="findings")
    for f in found:
        table.add_row(
            f.public()["time"],
            f.mrn or "-",
            f.kind,
            f"[{SEVERITY_STYLE.get(f.severity, '')}]{f.severity}[/]",
            f.explanation,
        )
    out.print(table)


@transit_app.command()
def check(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    now: Annotated[str | None, NowOption] = None,
    corridor_km: Annotated[float, CorridorOption] = 50.0,
    kind: Annotated[str | None, typer.Option(help="Only findings of this kind")] = None,
) -> None:
    """Findings over every transit: overdue, exits elsewhere, deviations, seals, masses.

    The tracker is kept in the database between runs: a second run reads only the events
    appended since the first (keruen.transit.resume)."""
    eng = db.ready(db_url)
    with progress("replay", None, not as_json) as bar:
        fed = service.refresh_tracker(eng, bar)
        with eng.connect() as conn:
            found = _call(
                lambda: service.findings(conn, _now(now), _config(corridor_km), None, bar, fed)
            )
    found = [f for f in found if kind is None or f.kind == kind]
    if as_json:
        emit_json([f.public() for f in found])
        return
    _print_findings(found)


@transit_app.command("map")
def map_(
    mrn: str,
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write")],
    db_url: Annotated[str | None, DbOption] = None,
    now: Annotated[str | None, NowOption] = None,
    corridor_km: Annotated[float, CorridorOption] = 50.0,
) -> None:
    """A self-contained HTML map (no internet): corridor, pings, posts and findings."""
    detail = _movement(db_url, mrn, now, corridor_km)
    try:
        out_file.write_text(mapview.render(detail), encoding="utf-8")
    except OSError as e:
        fail(f"--out: cannot write {out_file}: {e.strerror}")
    out.print(f"wrote {out_file} ({len(detail.findings)} findings)")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("posts")(posts)
    app.add_typer(transit_app, name="transit")
