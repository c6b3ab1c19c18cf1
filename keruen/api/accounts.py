"""Users and API keys in the database: the service behind `keruen users|keys` and /v1/users.

Driver errors are translated here: a duplicate name becomes `Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.api import tokens
from keruen.api.access import Principal, Role
from keruen.api.errors import BadRequest, Conflict, Unauthorized
from keruen.api.tables import api_keys, users
from keruen.errors import NotFound
from keruen.jurisdiction import KAZAKHSTAN, Jurisdiction
from keruen.store.ledger import micros_now


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key; `key` is shown once and never stored."""

    key_id: str
    key: str
    user: str
    label: str


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise BadRequest(f"unknown role {role!r} (one of: {', '.join(Role)})", "role") from None


def check_user(
    name: str, role: str, tax_id: str | None, jurisdiction: Jurisdiction = KAZAKHSTAN
) -> Role:
    """The role of a valid new user, or BadRequest naming the field at fault."""
    if not name.strip() or len(name) > 100:
        raise BadRequest("a name of 1 to 100 characters is required", "name")
    r = _role(role)
    if r is Role.declarant and not tax_id:
        raise BadRequest("a declarant is bound to a tax id: give --tax-id", "tax_id")
    if r is not Role.declarant and tax_id:
        raise BadRequest("only a declarant is bound to a tax id", "tax_id")
    if tax_id and (problem := jurisdiction.tax_id_problem(tax_id)):
        raise BadRequest(problem, "tax_id")
    return r


def add_user(conn: Connection, name: str, role: str, tax_id: str | None = None) -> dict[str, Any]:
    r = check_user(name, role, tax_id)
    row = {"name": name, "role": r.value, "tax_id": tax_id, "created_us": micros_now()}
    try:
        new_id = conn.execute(users.insert().returning(users.c.id), row).scalar_one()
    except sa.exc.IntegrityError as e:
        raise Conflict(f"a user named {name!r} already exists", "name") from e
    return public_user({"id": new_id, **row})


def public_user(row: Any) -> dict[str, Any]:
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {
        "id": m["id"],
        "name": m["name"],
        "role": m["role"],
        "tax_id": m["tax_id"],
        "created_us": m["created_us"],
    }


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [public_user(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def user_by_name(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return public_user(row)


def create_key(conn: Connection, user: str, label: str = "") -> CreatedKey:
    owner = user_by_name(conn, user)
    new = tokens.new_key()
    label = (label or "default")[:100]
    conn.execute(
        api_keys.insert(),
        {
            "id": new.key_id,
            "user_id": owner["id"],
            "label": label,
            "digest": new.digest,
            "created_us": micros_now(),
        },
    )
    return CreatedKey(new.key_id, new.key, user, label)


def revoke_key(conn: Connection, key_id: str) -> None:
    """Revoke a key (idempotent); tokens issued for it stop working at once."""
    k = api_keys.c
    if conn.scalar(sa.select(k.id).where(k.id == key_id)) is None:
        raise NotFound(f"no API key {key_id!r}")
    conn.execute(
        api_keys.update()
        .where(k.id == key_id, k.revoked_us.is_(None))
        .values(revoked_us=micros_now())
    )


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    k, u = api_keys.c, users.c
    q = (
        sa.select(k.id, k.label, k.created_us, k.revoked_us, u.name.label("user"))
        .join_from(api_keys, users, k.user_id == u.id)
        .order_by(k.created_us, k.id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


_PRINCIPAL = sa.select(
    api_keys.c.id.label("key_id"),
    api_keys.c.revoked_us,
    users.c.id,
    users.c.name,
    users.c.role,
    users.c.tax_id,
).join_from(api_keys, users, api_keys.c.user_id == users.c.id)


def _principal(row: Any) -> Principal:
    if row is None or row.revoked_us is not None:
        raise Unauthorized("unknown or revoked credentials")
    return Principal(row.id, row.name, Role(row.role), row.tax_id, row.key_id)


def principal_by_key(conn: Connection, key: str) -> Principal:
    """The caller behind an API key; unknown and revoked keys look the same."""
    digest = tokens.key_digest(key)
    return _principal(conn.execute(_PRINCIPAL.where(api_keys.c.digest == digest)).first())


def principal_by_key_id(conn: Connection, key_id: str, user_id: int) -> Principal:
    """The caller behind a token: its key must still be live and still belong to the user."""
    q = _PRINCIPAL.where(api_keys.c.id == key_id, users.c.id == user_id)
    return _principal(conn.execute(q).first())
