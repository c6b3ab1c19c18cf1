"""Ibis over an export: DuckDB (embedded default), Spark (local) on the Parquet files, or
PostgreSQL with the export loaded into a schema there. The queries never know which."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.parquet as pq

from keruen.analytics.export import BATCH_SCHEMA, EVENT_SCHEMA, MANIFEST, read_manifest
from keruen.errors import AnalyticsError

ENGINES = ("duckdb", "spark", "postgres")
WORK_MEM = "256MB"  # per sort or hash, for this session only


@dataclass
class Source:
    """The tables of one export on one engine, and what they describe."""

    engine: str
    con: Any  # an Ibis backend
    events: ir.Table
    batches: ir.Table
    vintage: str  # the ledger state: head seq and hash, export time
    # tables computed once for this source and kept (figures.cube): key -> (rates, table)
    memo: dict[Any, tuple[ir.Table, ir.Table]] = field(default_factory=dict, repr=False)


def files(export: Path, kind: str) -> list[str]:
    return sorted(str(p) for p in (export / kind).glob("**/part-*.parquet"))


def vintage(export: Path) -> str:
    m = read_manifest(export)
    if m is None:
        raise AnalyticsError(f"{export}: no {MANIFEST}: run keruen export parquet --out {export}")
    return f"ledger seq {m.head_seq} hash {m.head_hash[:16]} exported {m.exported_at}"


def _empty(schema: pa.Schema) -> ir.Table:
    return ibis.memtable(schema.empty_table())


def _parquet(con: Any, export: Path, kind: str, schema: pa.Schema) -> ir.Table:
    found = files(export, kind)
    if not found:
        return _empty(schema)
    table = con.read_parquet(found if len(found) > 1 else found[0])
    return table.select(*schema.names)


def duckdb(export: Path, threads: int | None = None) -> Source:
    con = ibis.duckdb.connect(**({"threads": threads} if threads else {}))
    con.raw_sql("SET TimeZone = 'UTC'")
    return _source("duckdb", con, export)


def _source(engine: str, con: Any, export: Path) -> Source:
    stamp = vintage(export)
    events = _parquet(con, export, "events", EVENT_SCHEMA)
    batches = _parquet(con, export, "batches", BATCH_SCHEMA)
    return Source(engine, con, events, batches, stamp)


def spark_session(cores: int = 2) -> Any:
    """One local Spark session, quiet and small: UTC, one shuffle partition."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("keruen")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.default.parallelism", str(cores))
        .getOrCreate()
    )


def spark(export: Path, session: Any = None) -> Source:
    con = ibis.pyspark.connect(session or spark_session())
    stamp = vintage(export)
    events = _spark_parquet(con, export, "events", EVENT_SCHEMA)
    batches = _spark_parquet(con, export, "batches", BATCH_SCHEMA)
    return Source("spark", con, events, batches, stamp)


def _spark_parquet(con: Any, export: Path, kind: str, schema: pa.Schema) -> ir.Table:
    if not files(export, kind):
        return _empty(schema)
    df = con._session.read.option("basePath", str(export / kind)).parquet(str(export / kind))
    name = f"keruen_{kind}_{abs(hash(str(export))):x}"
    df.createOrReplaceTempView(name)
    return con.table(name).select(*schema.names)


def postgres(export: Path, url: str, schema: str) -> Source:
    """Load the export into `schema` on the PostgreSQL server `url` (replacing what is there)."""
    con = ibis.connect(url.replace("postgresql+psycopg://", "postgres://"))
    # the server's default (4 MB) makes the queries' hash aggregates and joins spill to disk
    con.raw_sql(f"SET work_mem = '{WORK_MEM}'")
    # the planner underestimates the priced lines by ~250x (the join to the rate days) and
    # joined the mark-up's outflows to their imports by a nested loop: at 10 M events not done
    # in 10 minutes; by hash join 21 s, the other queries unchanged (same sitting, load 1-3)
    con.raw_sql("SET enable_nestloop = off")
    con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    stamp = vintage(export)
    for kind, sch in (("events", EVENT_SCHEMA), ("batches", BATCH_SCHEMA)):
        con.create_table(kind, sch.empty_table(), database=schema, overwrite=True)
        copy_into(con.con, f'"{schema}"."{kind}"', files(export, kind), sch)
        con.raw_sql(f'ANALYZE "{schema}"."{kind}"')
    events = con.table("events", database=schema)
    batches = con.table("batches", database=schema)
    return Source("postgres", con, events, batches, stamp)


def copy_into(conn: Any, table: str, found: list[str], schema: pa.Schema) -> None:
    """The Parquet files' rows into a PostgreSQL table by COPY, as CSV a batch at a time
    (Ibis's table creation inserts row by row: ≈ 3.5 minutes for 1 M events)."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
        for path in found:
            for batch in pq.ParquetFile(path).iter_batches(1 << 16, columns=schema.names):
                buf = io.BytesIO()
                rows = pa.Table.from_batches([batch]).cast(schema)
                csv.write_csv(rows, buf, csv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())


def manifest_text(export: Path) -> dict[str, Any]:
    return json.loads((export / MANIFEST).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
