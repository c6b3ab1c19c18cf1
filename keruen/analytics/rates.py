"""Currency rates the user loads: a CSV with one rate per currency and day or month.

    currency,date,usd_per_unit        (or: currency,date,units_per_usd — as central banks
    KZT,2022-01,0.002171552660          publish them, e.g. KZT 460.5 per USD)
    EUR,2022-01-03,1.1301

`date` is a day (YYYY-MM-DD: the rate of that day) or a month (YYYY-MM: the rate of every day
of it); a currency uses one of the two. `units_per_usd` is inverted to 12 decimal places
(the scale of `decimals.FACTOR`). USD needs no row. A value in a currency or on a day the file
does not cover is an error naming both (`MissingRate`), never a zero.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from keruen.errors import AnalyticsError

PLACES = Decimal(1).scaleb(-12)
FOREVER = (date(1, 1, 1), date(9999, 12, 31))
SCHEMA = pa.schema(
    [
        ("r_currency", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),  # exclusive
        ("usd_per_unit", pa.decimal128(38, 12)),
    ]
)


@dataclass(frozen=True)
class Rate:
    currency: str
    valid_from: date
    valid_to: date
    usd_per_unit: Decimal


@dataclass(frozen=True)
class Rates:
    rows: list[Rate]
    source: str  # file name and content hash: the rates' provenance

    def table(self) -> pa.Table:
        cols: list[list[object]] = [
            [r.currency for r in self.rows],
            [r.valid_from for r in self.rows],
            [r.valid_to for r in self.rows],
            [r.usd_per_unit for r in self.rows],
        ]
        arrays = [pa.array(c, t) for c, t in zip(cols, SCHEMA.types, strict=True)]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)


def period(text: str, where: str) -> tuple[date, date, str]:
    try:
        if len(text) == 7:
            start = date.fromisoformat(text + "-01")
            nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            return start, nxt, "month"
        day = date.fromisoformat(text)
        return day, day + timedelta(days=1), "day"
    except ValueError as e:
        raise AnalyticsError(f"{where}: date {text!r} is neither YYYY-MM-DD nor YYYY-MM") from e


def value(text: str, where: str, invert: bool) -> Decimal:
    try:
        v = Decimal(text)
    except InvalidOperation as e:
        raise AnalyticsError(f"{where}: rate {text!r} is not a number") from e
    if not v.is_finite() or v <= 0:
        raise AnalyticsError(f"{where}: rate {text!r} must be a positive number")
    v = (1 / v) if invert else v
    if v >= 10**13:
        raise AnalyticsError(f"{where}: rate {text!r} is out of range")
    return v.quantize(PLACES)


def column(header: list[str], where: str) -> str:
    found = [c for c in ("usd_per_unit", "units_per_usd") if c in header]
    if {"currency", "date"} - set(header) or len(found) != 1:
        raise AnalyticsError(
            f"{where}: header must be currency,date and one of usd_per_unit, units_per_usd"
        )
    return found[0]


def parse(text: str, name: str) -> Rates:
    reader = csv.DictReader(io.StringIO(text))
    col = column(list(reader.fieldnames or []), f"{name}:1")
    rows, grain, seen = [], dict[str, str](), set[tuple[str, date]]()
    for n, rec in enumerate(reader, 2):
        where = f"{name}:{n}"
        cur = (rec.get("currency") or "").strip().upper()
        if len(cur) != 3 or not cur.isalpha():
            raise AnalyticsError(f"{where}: currency {cur!r} is not an ISO 4217 code")
        start, end, kind = period((rec.get("date") or "").strip(), where)
        if grain.setdefault(cur, kind) != kind:
            raise AnalyticsError(f"{where}: {cur} mixes daily and monthly rates")
        if (cur, start) in seen:
            raise AnalyticsError(f"{where}: a second {cur} rate for {rec['date']}")
        seen.add((cur, start))
        rows.append(
            Rate(
                cur, start, end, value((rec.get(col) or "").strip(), where, col == "units_per_usd")
            )
        )
    if "USD" not in grain:
        rows.append(Rate("USD", *FOREVER, Decimal(1)))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Rates(rows, f"rates {name} (sha256 {digest})")


def load(path: Path) -> Rates:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise AnalyticsError(f"{path}: cannot read the rates file ({e.strerror})") from e
    return parse(text, path.name)


def usd_only() -> Rates:
    """No file: only USD values convert; any other currency is a `MissingRate`."""
    return Rates([Rate("USD", *FOREVER, Decimal(1))], "no rates file (USD only)")


def write_csv(rows: Iterable[tuple[str, str, str]]) -> str:
    """A rates file in the `units_per_usd` layout (what the simulator writes)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("currency", "date", "units_per_usd"))
    w.writerows(rows)
    return buf.getvalue()
