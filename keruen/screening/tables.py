"""Screening tables on the shared metadata (migration 0002, branch "screening").

- `screening_lists`: every version of every list ever loaded (name, version, kind, source,
  size, loaded_us); a list's current version is its most recently loaded one.
- `screening_entries` / `screening_rules`: the entries of party lists and the rules of goods
  lists, for each list's current version (older versions' rows are replaced on load).
- `screening_checks`: one row per (event, list, version) screened, hits or not — what makes
  re-screening incremental: a new list version has no checks yet.
- `screening_hits`: what fired, keyed by event id + list + version + subject + entry, read by
  the risk engine through `keruen.screening.results_for`.
"""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store.schema import Id, metadata

Name = sa.String(100)
Version = sa.String(64)

screening_lists = sa.Table(
    "screening_lists",
    metadata,
    sa.Column("name", Name, primary_key=True),
    sa.Column("version", Version, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("loaded_us", sa.BigInteger, nullable=False),
)

screening_entries = sa.Table(
    "screening_entries",
    metadata,
    sa.Column("list", Name, primary_key=True),
    sa.Column("version", Version, primary_key=True),
    sa.Column("entry_id", sa.String(200), primary_key=True),
    sa.Column("schema", sa.String(16), nullable=False),
    sa.Column("names", sa.Text, nullable=False),  # JSON array, primary name first
    sa.Column("ids", sa.Text, nullable=False),  # JSON array of [scheme, value, country]
    sa.Column("countries", sa.Text, nullable=False),  # JSON array of ISO alpha-2
    sa.Column("programs", sa.Text, nullable=False),  # JSON array
    sa.Column("remarks", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=True),  # JSON object: weak_names, birth_dates
)

screening_rules = sa.Table(
    "screening_rules",
    metadata,
    sa.Column("list", Name, primary_key=True),
    sa.Column("version", Version, primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("hs_prefix", sa.String(10), nullable=False),
    sa.Column("destinations", sa.Text, nullable=False),  # "RU;BY" or "*"
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=True),
    sa.Column("valid_to", sa.Date, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

screening_checks = sa.Table(
    "screening_checks",
    metadata,
    sa.Column("event_id", Id, primary_key=True),
    sa.Column("list", Name, primary_key=True),
    sa.Column("version", Version, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("screened_us", sa.BigInteger, nullable=False),
)

screening_hits = sa.Table(
    "screening_hits",
    metadata,
    sa.Column("event_id", Id, primary_key=True),
    sa.Column("list", Name, primary_key=True),
    sa.Column("version", Version, primary_key=True),
    sa.Column("subject", sa.String(32), primary_key=True),  # goods[0], buyer, carrier, ...
    sa.Column("entry_id", sa.String(200), primary_key=True),  # list entry id, or HS prefix
    sa.Column("kind", sa.String(8), nullable=False),  # goods | party
    sa.Column("query", sa.Text, nullable=False),  # the HS code or party name screened
    sa.Column("matched", sa.Text, nullable=False),  # the rule's prefix or the matched name
    sa.Column("score", sa.Float, nullable=False),  # 1.0 for goods rules
    sa.Column("action", sa.String(8), nullable=False),  # block|licence|flag, "match" for parties
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
)
