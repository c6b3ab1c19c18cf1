"""Loading trade statistics for mirror comparisons: the shipped Eurostat and national files,
Keruen's documented layout, and UN Comtrade's bulk CSV.

Keruen layout (CSV, UTF-8, header row):

    reporter,partner,flow,period,value_eur
    Kazakhstan,European Union - 27 countries (from 2020),IMPORT,2022,7627500000
    DE,KZ,EXPORT,2022-03,123456789.50

`reporter` and `partner` are ISO 3166 alpha-2 codes or labels (country names, aggregates such
as `EU27_2020` or `World`); `flow` is EXPORT or IMPORT as the reporter reports it; `period` is
a year (YYYY) or a month (YYYY-MM); `value_eur` in euro (empty: no figure).

UN Comtrade bulk CSV: the columns `refYear` (or `period`), `reporterDesc`, `flowCode` (X or
M), `partnerDesc` and `primaryValue` (USD); values convert to euro at the annual mean of the
EUR rates in a rates file the user loads (flagged on the rows that use them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from keruen.analytics.countries import resolve
from keruen.analytics.mirror import Record
from keruen.analytics.rates import Rates
from keruen.errors import AnalyticsError, MissingRate

EUROSTAT_ANNUAL = "eurostat_comext_annual_eu27_exports_by_partner_2010_2023.csv"
EUROSTAT_MONTHLY = "eurostat_comext_monthly_eu_trade_ru_kz_kg_am_uz_ge_2019_2024.csv"
NATIONAL = "national_stats_annual_imports_kz_kg_am_uz_2019_2023.csv"
CITATIONS = {
    EUROSTAT_ANNUAL: "Eurostat Comext, EU27 exports by partner, annual (CC BY 4.0)",
    EUROSTAT_MONTHLY: "Eurostat Comext, EU member states' trade, monthly (CC BY 4.0)",
    NATIONAL: "national statistics offices of KZ, KG, AM, UZ, imports by partner, annual, "
    "converted to EUR by mary-lev/eu-export-sanctions (CC BY 4.0)",
}
# the national file's author converted thousand USD to EUR at these USD per EUR
NATIONAL_USD_PER_EUR = {2019: "1.12", 2020: "1.14", 2021: "1.18", 2022: "1.05", 2023: "1.07"}


def rows(text: str, name: str, needed: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise AnalyticsError(f"{name}:1: missing columns {', '.join(sorted(missing))}")
    for n, rec in enumerate(reader, 2):
        yield f"{name}:{n}", rec


def code(label: str, where: str, what: str) -> str:
    """A label's code; one nothing here knows is kept as `?label` (never matched or summed)."""
    if not label.strip():
        raise AnalyticsError(f"{where}: {what} is empty")
    return resolve(label) or f"?{label.strip()}"


def amount(text: str, where: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        v = Decimal(text)
    except InvalidOperation as e:
        raise AnalyticsError(f"{where}: value {text!r} is not a number") from e
    if not v.is_finite():
        raise AnalyticsError(f"{where}: value {text!r} is not a number")
    return v


def period(text: str, where: str) -> tuple[int, int | None]:
    try:
        if len(text) == 4:
            return int(text), None
        year, month = text.split("-")
        if not 1 <= int(month) <= 12:
            raise ValueError(text)
        return int(year), int(month)
    except ValueError as e:
        raise AnalyticsError(f"{where}: period {text!r} is neither YYYY nor YYYY-MM") from e


def flow(text: str, where: str) -> str:
    f = {"X": "EXPORT", "M": "IMPORT"}.get(text.strip(), text.strip().upper())
    if f not in ("EXPORT", "IMPORT"):
        raise AnalyticsError(f"{where}: flow {text!r} is neither EXPORT nor IMPORT")
    return f


def record(source: str, where: str, rec: dict[str, str], per: str, **kw: object) -> Record | None:
    value = amount(rec["value_eur"], where)
    if value is None:
        return None
    year, month = period(rec[per], where)
    return Record(
        source=source,
        reporter=code(rec["reporter"], where, "reporter"),
        partner=code(rec["partner"], where, "partner"),
        partner_label=rec["partner"],
        reporter_label=rec["reporter"],
        flow=flow(rec["flow"], where),
        year=year,
        month=month,
        value_eur=value,
        **kw,  # type: ignore[arg-type]
    )


def keruen_layout(text: str, name: str) -> list[Record]:
    need = {"reporter", "partner", "flow", "period", "value_eur"}
    out = (record(name, w, r, "period") for w, r in rows(text, name, need))
    return [r for r in out if r]


def eurostat_annual(text: str, name: str = EUROSTAT_ANNUAL) -> list[Record]:
    need = {"reporter", "partner", "flow", "year", "value_eur"}
    out = (record(CITATIONS.get(name, name), w, r, "year") for w, r in rows(text, name, need))
    return [r for r in out if r]


def eurostat_monthly(text: str, name: str = EUROSTAT_MONTHLY) -> list[Record]:
    need = {"reporter", "partner", "flow", "period", "value_eur"}
    out = (record(CITATIONS.get(name, name), w, r, "period") for w, r in rows(text, name, need))
    return [r for r in out if r]


def national(text: str, name: str = NATIONAL) -> list[Record]:
    need = {"reporter", "partner", "flow", "year", "value_eur"}
    out = []
    for where, rec in rows(text, name, need):
        rate = NATIONAL_USD_PER_EUR.get(int(rec["year"]) if rec["year"].isdigit() else 0)
        note = f"thousand USD × 1000 / {rate} USD per EUR ({rec['year']})" if rate else None
        r = record(CITATIONS.get(name, name), where, rec, "year", converted=note)
        if r:
            out.append(r)
    return out


def usd_per_eur(rates: Rates, year: int) -> Decimal:
    found = [
        r.usd_per_unit for r in rates.rows if r.currency == "EUR" and r.valid_from.year == year
    ]
    if not found:
        raise MissingRate("EUR", str(year))
    return sum(found, Decimal(0)) / len(found)


def comtrade(text: str, name: str, rates: Rates) -> list[Record]:
    need = {"reporterDesc", "flowCode", "partnerDesc", "primaryValue"}
    out = []
    for where, rec in rows(text, name, need):
        usd = amount(rec["primaryValue"], where)
        year, month = period(rec.get("refYear") or rec.get("period") or "", where)
        if usd is None:
            continue
        rate = usd_per_eur(rates, year)
        out.append(
            Record(
                source=f"UN Comtrade bulk CSV {name}",
                reporter=code(rec["reporterDesc"], where, "reporter"),
                partner=code(rec["partnerDesc"], where, "partner"),
                partner_label=rec["partnerDesc"],
                reporter_label=rec["reporterDesc"],
                flow=flow(rec["flowCode"], where),
                year=year,
                month=month,
                value_eur=(usd / rate).quantize(Decimal("0.01")),
                converted=f"USD / {rate:.6f} USD per EUR (mean of the loaded EUR rates, {year})",
            )
        )
    return out


LOADERS: dict[str, Callable[[str, str], list[Record]]] = {
    "keruen": keruen_layout,
    "eurostat-annual": eurostat_annual,
    "eurostat-monthly": eurostat_monthly,
    "national": national,
}


def shipped_text(name: str) -> str:
    return (resources.files("keruen") / "data" / name).read_text(encoding="utf-8")


def shipped() -> list[Record]:
    """The three shipped files: Eurostat annual and monthly, national statistics."""
    return (
        eurostat_annual(shipped_text(EUROSTAT_ANNUAL))
        + eurostat_monthly(shipped_text(EUROSTAT_MONTHLY))
        + national(shipped_text(NATIONAL))
    )


def load(path: Path, fmt: str, rates: Rates | None = None) -> list[Record]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise AnalyticsError(f"{path}: cannot read ({e.strerror})") from e
    if fmt == "comtrade":
        if rates is None:
            raise AnalyticsError("comtrade: values are USD; load EUR rates with --rates")
        return comtrade(text, path.name, rates)
    if fmt not in LOADERS:
        raise AnalyticsError(f"format: {fmt!r} is not one of comtrade, {', '.join(LOADERS)}")
    return LOADERS[fmt](text, path.name)
