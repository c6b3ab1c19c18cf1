"""Trade analytics: figures written once as Ibis expressions, run on DuckDB (embedded default),
PostgreSQL and Spark over the ledger exported to Parquet; mirror statistics from shipped files.

Layout: `source` reads the ledger (the one place that does), `flatten` turns typed events into
flat rows (pure), `export` writes them as partitioned Parquet with a manifest, `decimals` holds
the money policy and its checker, `rates` loads currency rates, `figures` the named queries,
`engines` connects Ibis to a backend, `mirror` the partner-statistics comparison.
"""
