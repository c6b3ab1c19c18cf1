"""`keruen bench analytics`: the trade-figures suite over N flattened events in Parquet, on an
engine through Ibis, beside the same aggregations as hand-written DuckDB SQL in the same run.

The events are generated straight into the export layout (format 2: goods on every row that
names a batch, a cancel's target seq) by DuckDB (ingesting 100 M events
into a ledger first would measure the ledger, not the analytics): 20 % imports, 10 %
arrivals, 25 % dispatches, 10 % exports, 25 % transfers (KZT), 5 % transit lines, 1 % cancels
and seal pings for the rest, over 2021–2023, 40 partners, 400 HS subheadings of which the
50 of the Common High Priority List are one in eight (so the diversion queries keep rows:
CHPL goods bought from sanctioning states, dispatched and exported to RU and BY).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb

from keruen.analytics import chpl, engines
from keruen.analytics import figures as fg
from keruen.analytics import rates as rt
from keruen.analytics.export import FORMAT, MANIFEST
from keruen.analytics.named import NAMED
from keruen.errors import AnalyticsError

_PARTNERS = "CN RU DE US TR KG UZ BY AM IT FR JP KR IN AE GB PL NL CZ AT BE ES SE FI CH TM TJ AZ"
PARTNERS = [*_PARTNERS.split(" "), "GE", "IR", "PK", "VN", "TH", "MY", "ID", "BR", "CA", "MX"]


def _subheadings() -> list[str]:
    """400 subheadings: the CHPL's 50 first, then 8400.00 onwards in steps of 13."""
    high = list(chpl.tiers())
    rest = (str(840000 + k * 13) for k in range(1000))
    return [*high, *(h for h in rest if h not in high)][:400]


SUBHEADINGS = _subheadings()

# event type by i % 100: the mix described above
TYPE_CASE = """CASE
  WHEN i % 100 < 20 THEN 'import' WHEN i % 100 < 30 THEN 'arrival'
  WHEN i % 100 < 55 THEN 'dispatch' WHEN i % 100 < 65 THEN 'export'
  WHEN i % 100 < 90 THEN 'transfer' WHEN i % 100 < 95 THEN 'transit_open'
  WHEN i % 100 < 96 THEN 'cancel' ELSE 'seal_ping' END"""

GENERATE = """
COPY (
  WITH base AS (
    SELECT i, {type_case} AS type, CAST(hash(i) % 1000000007 AS BIGINT) AS h,
           DATE '2021-01-01' + CAST(i * 1095 // {n} AS INTEGER) AS day
    FROM range({start}, {end}) t(i)
  ),
  made AS (  -- the import or arrival that made the batch a row moves (its goods)
    SELECT *, CASE WHEN type IN ('import', 'arrival') THEN i
                   WHEN type IN ('dispatch', 'export', 'transfer') THEN i // 100 * 100 + h % 30
              END AS b
    FROM base
  ),
  goods AS (SELECT *, CAST(hash(b) % 1000000007 AS BIGINT) AS bh FROM made)
  SELECT
    i + 1 AS seq, 'e' || i AS id, md5(CAST(i AS VARCHAR)) AS hash, type,
    CAST(day AS TIMESTAMPTZ) + INTERVAL (h % 86400) SECOND AS time, day,
    CAST(NULL AS INTEGER) AS line,
    'B' || b AS batch,
    'H' || (h % 5000) AS holder, 'C' || (h % 20000) AS counterparty,
    CASE WHEN type IN ('import', 'arrival', 'dispatch', 'export', 'transit_open')
         THEN {partners}[1 + (h // 7) % {np}] END AS partner,
    CASE WHEN type = 'transit_open' THEN {hs}[1 + (h // 11) % 400]
         WHEN b IS NOT NULL THEN {hs}[1 + (bh // 11) % 400] END AS hs,
    CASE WHEN b IS NOT NULL THEN {partners}[1 + (bh // 13) % {np}] END AS origin,
    CAST((h % 100000) / 100.0 + 1 AS DECIMAL(18, 6)) AS quantity, 'PCE' AS unit,
    CAST((h % 50000) / 10.0 AS DECIMAL(18, 6)) AS mass_kg,
    CASE WHEN type IN ('cancel', 'seal_ping') THEN NULL
         ELSE CAST((h % 10000000) / 100.0 AS DECIMAL(18, 6)) END AS amount,
    CASE WHEN type = 'transfer' THEN 'KZT'
         WHEN type IN ('cancel', 'seal_ping') THEN NULL ELSE 'USD' END AS currency,
    'KZHOR-ROAD' AS post, CAST(NULL AS VARCHAR) AS mrn, 'D' || i AS document,
    CASE WHEN type = 'cancel' THEN 'e' || (i - 71) END AS target,
    CASE WHEN type = 'cancel' THEN i - 70 END AS target_seq,
    year(day) AS year, month(day) AS month
  FROM goods
  ORDER BY type, seq  -- as `keruen export parquet` writes each file (export.EVENT_ORDER); a
  -- partitioned write keeps it per thread: a file is one or two sorted runs
) TO '{out}/events' (FORMAT PARQUET, PARTITION_BY (year, month),
                     FILENAME_PATTERN 'part-{chunk}-{{i}}', COMPRESSION zstd, OVERWRITE_OR_IGNORE)
"""

BATCHES = """
COPY (
  WITH base AS (SELECT i, CAST(hash(i) % 1000000007 AS BIGINT) AS h FROM range({n}) t(i))
  SELECT i + 1 AS seq, 'B' || i AS batch, {hs}[1 + (h // 11) % 400] AS hs,
         {partners}[1 + (h // 13) % {np}] AS origin, 'PCE' AS unit, 'goods' AS description
  FROM base WHERE i % 100 < 30
) TO '{out}/batches/part-0.parquet' (FORMAT PARQUET, COMPRESSION zstd)
"""

# the same aggregations as figures.figures_expr(flows, by=...), by hand: rows summed per cell
# (group, currency, rate period: month or day; a multi-line event's lines in a cell of their
# own), each cell's sum times its rate, the products summed per group
HAND = """
WITH e AS NOT MATERIALIZED (SELECT * FROM read_parquet('{out}/events/*/*/*.parquet')),
live AS NOT MATERIALIZED (
  SELECT * FROM e WHERE type IN ({types})
    AND seq NOT IN (SELECT target_seq FROM e WHERE type = 'cancel' AND target_seq IS NOT NULL)
),
cells AS (
  SELECT {flow} AS flow, {keys}, currency,
         CASE WHEN (SELECT count(*) FROM rates WHERE day(valid_from) <> 1
                    OR (day(valid_to) <> 1 AND valid_to < DATE '9000-01-01')) = 0
              THEN CAST(date_trunc('month', live.day) AS DATE) ELSE live.day END AS period,
         CASE WHEN line IS NOT NULL THEN seq END AS lined,
         sum(amount) AS amount, sum(quantity) AS quantity, sum(mass_kg) AS mass_kg,
         count(*) AS n
  FROM live GROUP BY ALL
),
priced AS (
  SELECT p.currency, p.period, r.usd_per_unit
  FROM (SELECT DISTINCT currency, period FROM cells) p
  JOIN rates r ON p.currency = r.r_currency AND p.period >= r.valid_from AND p.period < r.valid_to
)
SELECT flow, {names},
       CAST(sum(CAST(CAST(amount AS DECIMAL(38, 12)) * usd_per_unit AS DECIMAL(38, 6)))
            AS DECIMAL(38, 2)) AS value_usd,
       sum(quantity) AS quantity, sum(mass_kg) AS mass_kg,
       coalesce(sum(n) FILTER (WHERE lined IS NULL), 0) + count(DISTINCT lined) AS events
FROM cells LEFT JOIN priced p ON cells.currency = p.currency AND cells.period = p.period
GROUP BY ALL
"""
_SIMPLE = "'import', 'arrival', 'dispatch', 'export', 'transit_open'"
# the shared cube (figures.cube) by hand: the standing rows of the five flows summed per flow,
# partner, goods (subheading for CHPL goods, else heading), currency, rate period, lined
HAND_CUBE = """
CREATE OR REPLACE TEMP TABLE hand_cube AS  -- kept, as the Ibis cube is (a count(*) around
-- the query would let DuckDB drop the sums)
WITH e AS NOT MATERIALIZED (SELECT * FROM read_parquet('{out}/events/*/*/*.parquet'))
SELECT * FROM (
  SELECT CASE type WHEN 'transit_open' THEN 'transit' ELSE type END AS flow, partner,
         CASE WHEN substr(hs, 1, 6) IN ({chpl}) THEN substr(hs, 1, 6) ELSE substr(hs, 1, 4) END
           AS hs, currency,
         CASE WHEN (SELECT count(*) FROM rates WHERE day(valid_from) <> 1
                    OR (day(valid_to) <> 1 AND valid_to < DATE '9000-01-01')) = 0
              THEN CAST(date_trunc('month', day) AS DATE) ELSE day END AS period,
         CASE WHEN line IS NOT NULL THEN seq END AS lined,
         sum(amount), sum(quantity), sum(mass_kg), count(*)
  FROM e WHERE type IN ({types})
    AND seq NOT IN (SELECT target_seq FROM e WHERE type = 'cancel' AND target_seq IS NOT NULL)
  GROUP BY ALL
);
SELECT count(*) FROM hand_cube
"""
_FLOW = "CASE type WHEN 'transit_open' THEN 'transit' ELSE type END"
_TURNOVER = "'import', 'arrival', 'dispatch', 'export'"
HAND_BY_PARTNER_YEAR = (
    "SELECT * FROM (("
    + HAND.format(types=_SIMPLE, flow=_FLOW, keys="partner, year(live.day) AS year",
                  names="partner, year", out="{out}")
    + ") UNION ALL ("
    + HAND.format(types=_TURNOVER, flow="'turnover'", keys="partner, year(live.day) AS year",
                  names="partner, year", out="{out}")
    + ")) ORDER BY flow, partner, year"
)  # fmt: skip
HAND_BY_HS_MONTH = (
    "SELECT * FROM ("
    + HAND.format(types=_TURNOVER, flow="'turnover'",
                  keys="substr(hs, 1, 4) AS hs4, year(live.day) AS year, month(live.day) AS month",
                  names="hs4, year, month", out="{out}")
    + ") ORDER BY hs4, year, month"
)  # fmt: skip

RATES = "currency,date,units_per_usd\n" + "".join(
    f"KZT,{y}-{m:02d},{r}\n"
    for y, r in ((2021, 426), (2022, 460.5), (2023, 456))
    for m in range(1, 13)
)


CHUNK = 10_000_000


def generate(out: Path, n: int) -> float:
    start = time.perf_counter()
    con = duckdb.connect()
    fill = {"n": n, "out": out, "partners": str(list(PARTNERS)), "np": len(PARTNERS),
            "hs": str(SUBHEADINGS)}  # fmt: skip
    (out / "events").mkdir(parents=True, exist_ok=True)
    for chunk, first in enumerate(range(0, n, CHUNK)):  # a chunk at a time: memory stays flat
        sql = GENERATE.format(type_case=TYPE_CASE, start=first, end=min(n, first + CHUNK),
                              chunk=f"{chunk:04d}", **fill)  # fmt: skip
        con.execute(sql)
    (out / "batches").mkdir(parents=True, exist_ok=True)
    con.execute(BATCHES.format(**fill))
    (out / MANIFEST).write_text(json.dumps({
        "format": FORMAT, "head_seq": n, "head_hash": "bench", "exported_at": "bench",
        "events": n, "runs": 1}))  # fmt: skip
    return time.perf_counter() - start


# the floor: one scan of the same rows, grouped, no cancels, rates or cells — what DuckDB
# does on this machine at this moment, for the queries' figures to be read against
FLOOR = """
SELECT type, partner, year(day) AS year, sum(amount), sum(quantity), sum(mass_kg), count(*)
FROM read_parquet('{out}/events/*/*/*.parquet')
WHERE type IN ('import', 'arrival', 'dispatch', 'export', 'transit_open')
GROUP BY ALL
"""

Timing = tuple[float, float, int]  # wall seconds, CPU seconds of this process, rows


def timed(fn: Any) -> tuple[float, float, Any]:
    """Wall and CPU time (every thread of this process: DuckDB's too; not a Spark JVM's or a
    PostgreSQL server's). On a loaded machine the CPU time is the steadier figure."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def hand_sql(out: Path, rates: rt.Rates, only: list[str] | None = None) -> dict[str, Timing]:
    con = duckdb.connect()
    con.register("rates", rates.table())
    found = {}
    cube = HAND_CUBE.replace("{chpl}", ", ".join(f"'{h}'" for h in chpl.tiers()))
    cube = cube.replace("{types}", _SIMPLE)
    for name, sql in (("scan_floor", FLOOR), ("shared_cube", cube),
                      ("figures_by_partner_year", HAND_BY_PARTNER_YEAR),
                      ("figures_by_hs_month", HAND_BY_HS_MONTH)):  # fmt: skip
        if only and name not in only and name not in ("scan_floor", "shared_cube"):
            continue
        wall, cpu, rows = timed(lambda sql=sql: con.execute(sql.format(out=out)).fetchall())
        if name == "shared_cube":
            rows = rows[0][0]
        found[name] = (wall, cpu, rows if isinstance(rows, int) else len(rows))
    return found


def queries(only: list[str] | None) -> list[str]:
    """The named queries to time (all but event_values, a download, not an aggregation)."""
    names = [n for n in NAMED if n != "event_values"]
    for n in only or []:
        if n not in names:
            raise AnalyticsError(f"query: {n!r} is not one of {', '.join(names)}")
    return [n for n in names if not only or n in only]


# the "trade-figures suite" (its "Figures from the ledger": flows by partner, HS and
# period, shares, growth, peak month and its multiple): what the 10 s target counts, with the
# shared cube they are summed from; diversion and unit values are timed beside, not counted
TARGET = ("shared_cube", "figures_by_partner_year", "figures_by_hs_month", "dispatch_shares",
          "turnover_growth", "peak_month")  # fmt: skip


def ibis_suite(
    src: engines.Source, rates: rt.Rates, only: list[str] | None = None
) -> dict[str, Timing]:
    """Each named query's time; first the cube the figure and diversion queries share (one
    scan of the events for all of them, materialised on the engine), timed on its own."""
    table = fg.rates_table(rates)
    found = {}
    names = queries(only)
    if any(not n.startswith("unit_value") for n in names):
        wall, cpu, cube = timed(lambda: fg.cube(src, table))
        found["shared_cube"] = (wall, cpu, int(src.con.execute(cube.count())))
    for name in names:
        build = NAMED[name]
        wall, cpu, rows = timed(lambda build=build: fg.run(build(src, table), src))
        found[name] = (wall, cpu, len(rows))
    return found


def open_engine(out: Path, engine: str, pg_url: str | None) -> engines.Source:
    if engine == "spark":
        return engines.spark(out)
    if engine == "postgres":
        if not pg_url:
            raise AnalyticsError("engine: postgres needs --pg URL (the server to load into)")
        return engines.postgres(out, pg_url, "keruen_bench_analytics")
    return engines.duckdb(out)


def summary(
    n: int,
    engine: str,
    generate_s: float,
    suite: dict[str, Timing],
    hand: dict[str, Timing],
) -> dict[str, Any]:
    queries = []
    for name, (wall, cpu, rows) in suite.items():
        h = hand.get(name)
        queries.append(
            {
                "query": name,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "rows": rows,
                "hand_sql_seconds": round(h[0], 3) if h else None,
                "hand_sql_cpu_seconds": round(h[1], 3) if h else None,
                "hand_sql_rows": h[2] if h else None,
                "ratio": round(wall / h[0], 2) if h and h[0] else None,
            }
        )
    floor = hand.get("scan_floor")
    target = [t for n, t in suite.items() if n in TARGET]
    return {
        "events": n,
        "engine": engine,
        "generate_seconds": round(generate_s, 1),
        "suite_seconds": round(sum(t[0] for t in suite.values()), 3),
        "suite_cpu_seconds": round(sum(t[1] for t in suite.values()), 3),
        "target_queries": [n for n in suite if n in TARGET],
        "target_seconds": round(sum(t[0] for t in target), 3),
        "target_cpu_seconds": round(sum(t[1] for t in target), 3),
        "floor_seconds": round(floor[0], 3) if floor else None,
        "floor_cpu_seconds": round(floor[1], 3) if floor else None,
        "queries": queries,
    }


def table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table("query", "target", "Ibis s", "CPU s", "rows", "hand SQL s", "CPU s", "ratio",
              title=f"{result['events']:,} events, Ibis on {result['engine']}")  # fmt: skip
    for q in result["queries"]:
        hand = q["hand_sql_seconds"] is not None
        t.add_row(q["query"], "10 s" if q["query"] in TARGET else "", f"{q['seconds']:.3f}",
                  f"{q['cpu_seconds']:.3f}", f"{q['rows']:,}",
                  f"{q['hand_sql_seconds']:.3f}" if hand else "",
                  f"{q['hand_sql_cpu_seconds']:.3f}" if hand else "",
                  "" if q["ratio"] is None else f"{q['ratio']:.2f}")  # fmt: skip
    t.caption = (f"suite {result['suite_seconds']:.1f} s wall, {result['suite_cpu_seconds']:.1f} s "
                 f"CPU; counted against the 10 s target (the trade figures, marked) "
                 f"{result['target_seconds']:.1f} s wall, {result['target_cpu_seconds']:.1f} s "
                 f"CPU; one bare scan and group-by of the same rows (the floor) "
                 f"{result['floor_seconds']} s wall, {result['floor_cpu_seconds']} s CPU; "
                 f"generated in {result['generate_seconds']:.1f} s (DuckDB, straight to Parquet). "
                 "CPU: this process only (not a Spark JVM or a PostgreSQL server)")  # fmt: skip
    return t
