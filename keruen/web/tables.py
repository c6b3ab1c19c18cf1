"""Tables of the web dashboard: signed-in sessions (migration 0010).

A session is stored as the SHA-256 digest of its cookie only (the cookie is 256-bit random,
so a fast digest is safe); signing out deletes the row, so a copied cookie dies with it.
"""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store.schema import metadata

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    # no foreign key: the migration chains after the newest revision, not after the users
    # table's; a session whose user is gone matches no user, so it signs no one in
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("expires_us", sa.BigInteger, nullable=False),
)
