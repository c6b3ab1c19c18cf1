"""`keruen export`, `keruen trade` and `keruen report`: thin shells over the analytics."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from keruen.console import DbOption, JsonOption, emit_json, fail, out, progress
from keruen.errors import KeruenError
from keruen.settings import get_settings

export_app = typer.Typer(no_args_is_help=True, help="Export the ledger for analytics.")
trade_app = typer.Typer(no_args_is_help=True, help="Trade figures and mirror statistics.")


@export_app.command("parquet")
def export_parquet(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory of the Parquet export")],
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Flattened events as Parquet by year/month, incremental, with a manifest (head seq, hash)."""
    from dataclasses import asdict

    from keruen.analytics.export import export_parquet as run
    from keruen.analytics.source import head
    from keruen.store import db

    eng = db.ready(db_url)
    with eng.connect() as conn, user_errors():
        total = head(conn).seq
        with progress("export", total, enabled=not as_json) as advance:
            report = run(conn, out_dir, progress=advance)
    if as_json:
        emit_json(asdict(report))
        return
    out.print(
        f"exported {report.rows:,} rows (events after seq {report.after_seq:,} up to "
        f"{report.head_seq:,}) in {len(report.files)} files; head hash {report.head_hash[:16]}",
        highlight=False,
    )


def _given_db(value: str | None) -> str | None:
    """--db is optional here (the export may be enough); a named SQLite file must exist."""
    from keruen.store.db import require_existing

    if value is not None:
        with user_errors():
            require_existing(value)
    return value


LedgerOption = typer.Option(
    "--db", help="Ledger to bring the export up to date from first", callback=_given_db
)
DataOption = typer.Option(
    "--data",
    envvar="KERUEN_EXPORT",
    help="Parquet export directory (updated from --db first when --db is given)",
)
EngineOption = typer.Option("--engine", help="duckdb (embedded), spark (local) or postgres")
PgOption = typer.Option("--pg", help="PostgreSQL URL to load the export into (--engine postgres)")
RatesOption = typer.Option(
    "--rates", help="Currency rates CSV (currency,date,usd_per_unit|units_per_usd)"
)
CsvOption = typer.Option("--csv", help="Print CSV")
ParquetOption = typer.Option("--parquet", help="Write the rows to this Parquet file")


def emit_rows(
    rows: list[dict[str, Any]], as_json: bool, as_csv: bool, parquet: Path | None, title: str
) -> None:
    from keruen.analytics import tables

    if parquet:
        tables.write_parquet(rows, parquet)
    if as_json:
        sys.stdout.write(tables.to_json(rows) + "\n")
    elif as_csv:
        sys.stdout.write(tables.to_csv(rows))
    elif not parquet:
        out.print(tables.rich_table(rows, title))


def source_for(data: Path, db_url: str | None, engine: str, pg: str | None) -> Any:
    from keruen.analytics import service

    if db_url:
        from keruen.analytics.export import export_parquet as run
        from keruen.store import db

        with db.ready(db_url).connect() as conn:
            run(conn, data)
    return service.open_source(data, engine, pg)


@trade_app.command("figures")
def trade_figures(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Keys: partner, origin, year, quarter, "
            "month, hs2, hs4, hs6, post (comma-separated)",
        ),
    ] = "partner,year",
    flow: Annotated[
        str,
        typer.Option(
            "--flow", help="import, arrival, dispatch, export, transit, turnover (comma-separated)"
        ),
    ] = "turnover",
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """Trade figures from the ledger: value (USD), quantity, mass, events by flow and keys."""
    from keruen.analytics import rates, service

    with user_errors():
        loaded = rates.load(rates_file) if rates_file else None
        src = source_for(data, db_url, engine, pg)
        rows = service.trade_figures(src, split(flow), split(by), loaded)
    emit_rows(rows, as_json, as_csv, parquet, f"trade figures by {by}")


@trade_app.command("headline")
def trade_headline(
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """The seed's figures from the ledger beside the public ones (exports to Russia, growth,
    Russia's share of EAEU turnover)."""
    from keruen.analytics import rates, service

    with user_errors():
        loaded = rates.load(rates_file) if rates_file else None
        rows = service.headline(source_for(data, db_url, engine, pg), loaded)
    emit_rows(rows, as_json, as_csv, parquet, "ledger vs public figures")


@trade_app.command("diversion")
def trade_diversion(
    baseline: Annotated[
        int | None, typer.Option("--baseline", help="Year: CHPL imports per partner vs it")
    ] = None,
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """Diversion indicators: CHPL goods imported from sanctioning states vs the same goods
    dispatched or exported to RU/BY, per month and tier, with the import-to-outflow lag; or,
    with --baseline YEAR, CHPL imports per partner as multiples of that year."""
    from keruen.analytics import diversion, rates, service
    from keruen.analytics import figures as fg

    with user_errors():
        loaded = rates.load(rates_file) if rates_file else None
        src = source_for(data, db_url, engine, pg)
        table = service.checked_rates(src, ["turnover"], loaded)
        expr = (
            diversion.monthly_expr(src, table)
            if baseline is None
            else diversion.baseline_expr(src, table, baseline)
        )
        source = (loaded or rates.usd_only()).source
        rows = diversion.annotate(fg.run(expr, src), src, source)
    emit_rows(rows, as_json, as_csv, parquet, "diversion indicators (CHPL)")


@trade_app.command("unit-values")
def trade_unit_values(
    view: Annotated[
        str, typer.Option("--view", help="groups (fair price, fences), outliers, or markup")
    ] = "groups",
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """Unit values per HS subheading x origin x post: fair price (median), robust outliers
    (MAD of log unit values), and the mark-up of dispatches to Russia over imports."""
    from keruen.analytics import figures as fg
    from keruen.analytics import rates, service, unitvalues
    from keruen.errors import AnalyticsError

    views = {"groups": unitvalues.groups_expr, "outliers": unitvalues.outliers_expr,
             "markup": unitvalues.markup_expr}  # fmt: skip
    with user_errors():
        if view not in views:
            raise AnalyticsError(f"view: {view!r} is not one of {', '.join(views)}")
        loaded = rates.load(rates_file) if rates_file else None
        src = source_for(data, db_url, engine, pg)
        table = service.checked_rates(src, ["turnover"], loaded)
        rows = fg.run(views[view](src, table), src)
        rows = service.stamp(rows, src, loaded, unitvalues.FORMULA)
    emit_rows(rows, as_json, as_csv, parquet, f"unit values: {view}")


@trade_app.command("ghost")
def trade_ghost(
    partner_file: Annotated[
        Path,
        typer.Option(
            "--partner-file",
            help="Partner-side export records: partner,date,hs,mass_kg,value,currency,reference",
        ),
    ],
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
    window: Annotated[int, typer.Option("--window", help="Days after the export date")] = 45,
    mass_tol: Annotated[float, typer.Option("--mass-tol", help="Relative mass tolerance")] = 0.05,
    value_tol: Annotated[
        float, typer.Option("--value-tol", help="Relative USD value tolerance")
    ] = 0.15,
    everything: Annotated[
        bool, typer.Option("--all", help="Every record with its match, not only the unmatched")
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth", help="Score against a truth file (the simulator's partner_truth.jsonl)"
        ),
    ] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """Ghost trade per consignment: partner-side export records matched to the home country's
    imports and arrivals (partner, HS heading, date window, mass and value); the unmatched ones,
    named."""
    import msgspec

    from keruen.analytics import ghost, rates, service
    from keruen.errors import AnalyticsError

    with user_errors():
        if window < 0 or not 0 <= mass_tol < 1 or not 0 <= value_tol < 1:
            raise AnalyticsError("window must be ≥ 0 days; mass-tol and value-tol in [0, 1)")
        settings = ghost.Settings(window=window, mass_tol=mass_tol, value_tol=value_tol)
        src = source_for(data, db_url, engine, pg)
        records = ghost.load(partner_file)
        loaded = rates.load(rates_file) if rates_file else rates.usd_only()
        service.checked_rates(src, ["import", "arrival"], loaded)
        outcomes = ghost.match(src, records, loaded, settings)
        rows = service.stamp(ghost.rows(outcomes, everything), src, loaded, settings.formula())
        for r in rows:
            r["sources"] = [*r["sources"], f"partner file {partner_file.name}"]
        score = None
        if truth:
            try:
                lines = truth.read_bytes().splitlines()
            except OSError as e:
                raise AnalyticsError(f"{truth}: cannot read the truth file ({e.strerror})") from e
            score = ghost.evaluate(outcomes, [msgspec.json.decode(x) for x in lines if x.strip()])
    if as_json and truth:
        emit_json({"summary": ghost.summary(outcomes), "score": score, "rows": rows})
        return
    emit_rows(rows, as_json, as_csv, parquet, "ghost trade: partner records with no home match")
    if not as_json and not as_csv:
        out.print(ghost.summary(outcomes))
        if score:
            out.print({k: v for k, v in score.items() if k != "missed"})


@trade_app.command("mirror")
def trade_mirror(
    reporter: Annotated[
        str | None, typer.Option("--reporter", help="ISO code of the importer (default: home)")
    ] = None,
    partner: Annotated[
        str, typer.Option("--partner", help="ISO code or group (EU27) of the exporter")
    ] = "EU27",
    year: Annotated[list[int] | None, typer.Option("--year", help="Years (default: all)")] = None,
    files: Annotated[
        list[Path] | None, typer.Option("--file", help="More statistics (see --format)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="Layout of --file: keruen or comtrade")
    ] = "keruen",
    rates_file: Annotated[Path | None, RatesOption] = None,
    cif_fob: Annotated[
        float, typer.Option("--cif-fob", help="Assumed CIF/FOB margin for the adjusted ratio")
    ] = 0.06,
    by: Annotated[
        str, typer.Option("--by", help="year, or month (rows for the months a source covers)")
    ] = "year",
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """Mirror statistics: partner-reported exports beside reporter-reported imports, with
    gap, ratio and data-quality flags (shipped Eurostat and national files, plus --file)."""
    from decimal import Decimal

    from keruen.analytics import mirror, mirror_files, rates

    reporter = reporter or get_settings().jurisdiction.home
    with user_errors():
        loaded = rates.load(rates_file) if rates_file else None
        records = mirror_files.shipped()
        for f in files or []:
            records += mirror_files.load(f, fmt, loaded)
        rows = mirror.mirror(
            records, reporter.upper(), partner.upper(), year, Decimal(str(cif_fob)), by
        )
    emit_rows(rows, as_json, as_csv, parquet, f"mirror: {partner} exports vs {reporter} imports")


@trade_app.command("shadow")
def trade_shadow(
    year: Annotated[int, typer.Option("--year", help="Year of the estimate")] = 2022,
    reporter: Annotated[
        str | None, typer.Option("--reporter", help="ISO code of the importer (default: home)")
    ] = None,
    partner: Annotated[str, typer.Option("--partner", help="Exporter: code or EU27")] = "EU27",
    data: Annotated[
        Path | None, typer.Option("--data", help="A ledger export: its imports join in")
    ] = None,
    rates_file: Annotated[
        Path | None, typer.Option("--rates", help="Rates with EUR rows (with --data)")
    ] = None,
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """The untraced ("shadow") volume as an interval: partner exports against the reporter's
    statistics and, with --data, the imports the ledger traced."""
    from decimal import Decimal

    from keruen.analytics import countries, mirror_files, rates, service, shadow

    reporter = reporter or get_settings().jurisdiction.home
    with user_errors():
        ledger_eur = None
        if data is not None:
            loaded = rates.load(rates_file) if rates_file else rates.usd_only()
            src = service.open_source(data)
            members = countries.MEMBERS.get(partner.upper(), frozenset({partner.upper()}))
            rows = service.trade_figures(src, ["import"], ["partner", "year"], loaded)
            usd = sum((r["value_usd"] for r in rows
                       if r["partner"] in members and r["year"] == year), Decimal(0))  # fmt: skip
            ledger_eur = (usd / mirror_files.usd_per_eur(loaded, year)).quantize(Decimal(1))
        row = shadow.estimate(
            mirror_files.shipped(), reporter.upper(), partner.upper(), year, ledger_eur
        )
    emit_rows([row], as_json, as_csv, parquet, "untraced (shadow) volume")


@trade_app.command("roundabout")
def trade_roundabout(
    as_json: Annotated[bool, JsonOption] = False,
    as_csv: Annotated[bool, CsvOption] = False,
    parquet: Annotated[Path | None, ParquetOption] = None,
) -> None:
    """The published "roundabout trade" figures reproduced from the shipped files."""
    from keruen.analytics import mirror, mirror_files

    rows = mirror.roundabout(mirror_files.shipped())
    emit_rows(rows, as_json, as_csv, parquet, "roundabout trade through KZ, KG, AM (2022)")


def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for index.html and tables/")],
    data: Annotated[Path, DataOption] = Path("keruen-export"),
    db_url: Annotated[str | None, LedgerOption] = None,
    engine: Annotated[str, EngineOption] = "duckdb",
    pg: Annotated[str | None, PgOption] = None,
    rates_file: Annotated[Path | None, RatesOption] = None,
) -> None:
    """One self-contained HTML page of trade figures and mirror statistics (charts beside
    tables), plus every table as CSV and Parquet."""
    from keruen.analytics import rates
    from keruen.analytics import report as rp

    with user_errors():
        loaded = rates.load(rates_file) if rates_file else None
        src = source_for(data, db_url, engine, pg)
        index = rp.write(out_dir, rp.build(src, loaded), src.vintage)
    out.print(f"report: {index}", highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """A user's mistake (a bad option, file or missing rate) is a clear message, exit 1."""
    try:
        yield
    except KeruenError as e:
        fail(str(e))


def split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(export_app, name="export")
    app.add_typer(trade_app, name="trade")
    app.command("report")(report)
