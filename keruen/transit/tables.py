"""Tables of transit monitoring: which seal was bound to which MRN, from which event on.

A derived index, rebuilt from the ledger at any time (`service.refresh`): it lets one
movement be replayed from a few indexed reads -- its own events, the pings of its seals,
and the declarations that took one of those seals over -- instead of every transit event.
"""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store.schema import metadata

Id = sa.String(64)

transit_bindings = sa.Table(
    "transit_bindings",
    metadata,
    sa.Column("seal", Id, primary_key=True),
    # the transit_open (or authority incident) that bound it: one row per binding, never two
    sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("mrn", Id, nullable=False, index=True),
    sa.Column("time_us", sa.BigInteger, nullable=False),
)

transit_cursor = sa.Table(
    "transit_cursor",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    # the last ledger event indexed, and its chain hash (a different hash: another ledger)
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # the latest event time up to `seq`: "now" by default, without reading the whole ledger
    sa.Column("time_us", sa.BigInteger, nullable=False),
)
