"""Signing in to the dashboard: credentials to a session, a session cookie back to a user.

- `sign_in` checks a user name and its password with `keruen.api.accounts.check_password`.
- A session is a 256-bit random cookie; only its SHA-256 digest is stored, with an absolute
  expiry. Signing out deletes the row: a copied cookie stops working at once.
- Each form carries a CSRF token derived from the session cookie (a digest the page shows and a
  cross-site page cannot read); the sign-in form's comes from a short-lived pre-session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.api import accounts
from keruen.api.access import Principal, Role
from keruen.api.tables import users
from keruen.store.ledger import micros_now
from keruen.web.tables import web_sessions

SESSION_KEY = "web"  # the `key_id` of a principal signed in through the dashboard
REFUSED = "unknown user name or wrong password"


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str
    principal: Principal
    expires_us: int


def digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def csrf_token(cookie: str) -> str:
    """The token a form of this session must send back."""
    return hashlib.sha256(f"csrf:{cookie}".encode()).hexdigest()[:40]


def csrf_ok(cookie: str | None, sent: str | None) -> bool:
    return bool(cookie and sent) and hmac.compare_digest(csrf_token(cookie or ""), sent or "")


def sign_in(
    conn: Connection, username: str, password: str, ttl_s: int, client: str = ""
) -> NewSession | None:
    """Open a session of `ttl_s` seconds for a user and its password; None when refused.

    A refusal returns (never raises) so that the caller's transaction keeps the audit entry
    `accounts.check_password` wrote for the attempt; it costs one scrypt whatever the cause."""
    user = accounts.check_password(conn, username, password, client)
    if user is None:
        return None
    cookie = secrets.token_urlsafe(32)
    now = micros_now()
    expires = now + ttl_s * 1_000_000
    row = {"digest": digest(cookie), "user_id": user.id, "created_us": now, "expires_us": expires}
    conn.execute(web_sessions.insert(), row)
    return NewSession(cookie, user.principal(SESSION_KEY), expires)


def principal(conn: Connection, cookie: str) -> Principal | None:
    """The signed-in user of a session cookie; None when unknown, expired or disabled."""
    s, u = web_sessions.c, users.c
    q = (
        sa.select(u.id, u.name, u.role, u.tax_id, s.expires_us)
        .join_from(web_sessions, users, s.user_id == u.id)
        .where(s.digest == digest(cookie), u.disabled_us.is_(None))
    )
    row = conn.execute(q).first()
    if row is None or row.expires_us <= micros_now():
        return None
    return Principal(row.id, row.name, Role(row.role), row.tax_id, SESSION_KEY)


def sign_out(conn: Connection, cookie: str) -> None:
    """End a session (idempotent), and sweep expired ones."""
    s = web_sessions.c
    conn.execute(
        web_sessions.delete().where(
            sa.or_(s.digest == digest(cookie), s.expires_us <= micros_now())
        )
    )
