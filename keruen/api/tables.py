"""Tables of the API area: users, their API keys and the audit log (migrations 0004, 0008, 0011).

Keys are stored as a SHA-256 digest only; the key itself is shown once, at creation.
Audit rows are appended, never updated.
"""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store.schema import metadata

ROLE_CHECK = "role IN ('admin', 'officer', 'analyst', 'declarant')"
# a declarant is bound to a tax id; other roles act for the service, not for a company
TAX_ID_CHECK = "(role = 'declarant') = (tax_id IS NOT NULL)"

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("tax_id", sa.String(64), nullable=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),  # scrypt, see keruen.api.passwords
    sa.Column("disabled_us", sa.BigInteger, nullable=True),  # set: its keys and password refused
    sa.CheckConstraint(ROLE_CHECK, name="ck_users_role"),
    sa.CheckConstraint(TAX_ID_CHECK, name="ck_users_tax_id"),
    sqlite_autoincrement=True,  # ids never reused (migration 0008)
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("label", sa.String(100), nullable=False),
    # sha256 of the whole key: unique, so a lookup by digest finds at most one key
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("revoked_us", sa.BigInteger, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_us", sa.BigInteger, nullable=False, index=True),
    sa.Column("user_id", sa.Integer, nullable=True, index=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    # the audit log's hash chain (keruen.store.chain, migration 0011), checked by keruen verify
    sa.Column("hash", sa.String(64), nullable=False),
)
