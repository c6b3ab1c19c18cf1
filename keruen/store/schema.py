"""SQLAlchemy Core tables of the ledger. Integrity comes from the schema where it can.

Facts (events, rejections, moves) are appended, never updated; `balances` is a projection
of `moves`, kept for fast stock queries and rebuilt identically on replay.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals on every backend: NUMERIC on PostgreSQL, canonical text on SQLite."""

    impl = sa.String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(38, 12))
        return dialect.type_descriptor(sa.String(48))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return plain(value if isinstance(value, Decimal) else Decimal(value))


def plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent: NUMERIC(38,12) 40.000000000000 -> 40."""
    return Decimal(format(value.normalize(), "f"))


Id = sa.String(64)
# On SQLite an INTEGER PRIMARY KEY is the rowid itself: no second index to maintain
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=False),
    sa.Column("id", Id, nullable=False, unique=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    # batch (stock events), mrn (transit events), seal (pings), ref (receipts), target (cancels)
    sa.Column("key", Id, nullable=True),
    sa.Column("canonical", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    # no second index needed to keep the chain from forking: writers hold the writer lock and
    # take seq and prev_hash from the same head row, and seq is the primary key
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("received_us", sa.BigInteger, nullable=False),
    # the key of the events looked up by it (transit events, pings, receipts, cancels; see
    # REF_TYPES), NULL for stock events: only these few carry an index (0015)
    sa.Column("ref", Id, nullable=True),
    # transit monitoring and the detectors read one kind of event at a time, in time order
    sa.Index("ix_events_type_time", "type", "time_us"),
    sa.Index(
        "ix_events_ref",
        "ref",
        sqlite_where=sa.text("ref IS NOT NULL"),
        postgresql_where=sa.text("ref IS NOT NULL"),
    ),
)

# the event types looked up by their key: it is stored again as `ref`, which is indexed
REF_TYPES = (
    "transit_open",
    "checkpoint",
    "transit_close",
    "incident",
    "seal_ping",
    "receipt",
    "cancel",
)

# Tables keyed by text, looked up by their key, are stored in their primary key's B-tree on
# SQLite (WITHOUT ROWID): one tree to write and read instead of a rowid table and the index
# of its key (0015).
CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}

# On PostgreSQL the key of `batches` carries the rest of the row in its leaves (0020): a trace
# reads a batch from the index alone where VACUUM has set the visibility map (`tidy`), one
# random read where the key and then the row were two; SQLite's table is its key's B-tree
BATCH_INCLUDED_PG = ("hs", "unit", "description", "origin", "created_us", "event_id")

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch", Id),
    sa.Column("hs", sa.String(10), nullable=False),
    sa.Column("unit", sa.String(3), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("origin", sa.String(2), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("event_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("batch", postgresql_include=list(BATCH_INCLUDED_PG)),
    **CLUSTERED,
)

MOVES_BY_BATCH = (
    "batch",
    "event_seq",
    "n",
    "kind",
    "source",
    "target",
    "quantity",
    "time_us",
    "event_id",
)
# PostgreSQL's `ix_moves_batch` is keyed by the batch in ledger order (0018) and carries the
# rest of what a trace reads in its leaves (0019, INCLUDE): an index-only scan reads no `moves`
# page where VACUUM has set the visibility map (`tidy` vacuums `moves` when the server does not)
MOVES_BY_BATCH_PG = MOVES_BY_BATCH[:3]
MOVES_INCLUDED_PG = MOVES_BY_BATCH[3:]


def only_on(dialect: str, index: sa.Index) -> sa.Index:
    """An index created on one database only (`info["dialect"]` names it for the schema
    comparison, which does not read `ddl_if`)."""
    index.info["dialect"] = dialect
    return index.ddl_if(dialect=dialect)


def on_dialect(obj: Any, dialect: str) -> bool:
    """Whether a schema object exists on `dialect` (an index `only_on` another does not)."""
    return obj.info.get("dialect", dialect) == dialect if isinstance(obj, sa.Index) else True


moves = sa.Table(
    "moves",
    metadata,
    sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("batch", Id, nullable=False),
    sa.Column("source", Id, nullable=True),
    sa.Column("target", Id, nullable=True),
    sa.Column("quantity", DecimalText, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("time_us", sa.BigInteger, nullable=False),
    # the id of the event that made the move (events.id of event_seq), so a trace or a
    # history reads a batch's moves from the index below alone (0015)
    sa.Column("event_id", Id, nullable=False),
    # by batch, covering what a trace reads: no lookup of the move rows themselves (SQLite;
    # on PostgreSQL the same columns, the key narrower and the rest included: 0018, 0019)
    only_on("sqlite", sa.Index("ix_moves_batch", *MOVES_BY_BATCH)),
    only_on(
        "postgresql",
        sa.Index("ix_moves_batch", *MOVES_BY_BATCH_PG, postgresql_include=list(MOVES_INCLUDED_PG)),
    ),
    **CLUSTERED,
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("input", Id, primary_key=True),
    sa.Column("output", Id, primary_key=True),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    # a walk back from output to input, index-only: on PostgreSQL the input included (0020),
    # on SQLite the key's columns are in every index of a WITHOUT ROWID table
    sa.Index("ix_links_output", "output", postgresql_include=["input"]),
    **CLUSTERED,
)

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("holder", Id, primary_key=True),
    sa.Column("batch", Id, primary_key=True),
    sa.Column("quantity", DecimalText, nullable=False),
    **CLUSTERED,
)

cancellations = sa.Table(
    "cancellations",
    metadata,
    # the primary key makes a second cancel of the same event impossible
    sa.Column("target", Id, primary_key=True),
    sa.Column("event_id", Id, nullable=False),
    **CLUSTERED,
)

# A derived index (keruen.store.partyindex): which events name a tax id in any role or moved its
# stock, for a party's pages; refreshed incrementally, read with a catch-up past its cursor.
event_parties = sa.Table(
    "event_parties",
    metadata,
    sa.Column("tax_id", Id, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
)

event_parties_cursor = sa.Table(
    "event_parties_cursor",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    # the last event indexed and its chain hash (another hash there: another ledger)
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_us", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("line", sa.Integer, nullable=True),
    sa.Column("event_id", sa.Text, nullable=True),
    sa.Column("error", sa.String(40), nullable=False),
    sa.Column("field", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    # sha256 of the submitted line: a line rejected again (same source, line) is not logged twice
    sa.Column("digest", sa.String(64), nullable=False, index=True),
    # the rejections' own hash chain (keruen.store.chain), checked by `keruen verify`
    sa.Column("hash", sa.String(64), nullable=False),
)


consumer_states = sa.Table(
    "consumer_states",
    metadata,
    # a reader that keeps its state between runs (keruen.store.consumers): "risk", "transit"
    sa.Column("name", sa.String(32), primary_key=True),
    # the last event its state has seen, and that event's chain hash: a ledger that no longer
    # has that hash at that seq was rewritten (restored, replaced), and the reader starts over
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("format", sa.String(32), nullable=False),  # the state's encoding and version
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("saved_us", sa.BigInteger, nullable=False),
)


AREA_TABLES = (
    "keruen.screening.tables",
    "keruen.transit.tables",
    "keruen.api.tables",
    "keruen.risk.tables",
    "keruen.web.tables",
)


def full_metadata() -> sa.MetaData:
    """The metadata with every area's tables registered (each area defines its own)."""
    from importlib import import_module

    for name in AREA_TABLES:
        try:
            import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not name.startswith(e.name):
                raise
    return metadata
