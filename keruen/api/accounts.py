"""Users, their passwords and API keys in the database: the service behind `keruen users|keys`,
/v1/users and the web dashboard's sign-in (`check_password`).

A user is disabled (its keys, tokens and password refused until enabled again) or removed (its
row and keys deleted; its id is never given to another user). The last enabled admin cannot be
disabled, removed or demoted. Driver errors are translated here: a duplicate name becomes
`Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.api import audit, passwords, tokens
from keruen.api.access import Principal, Role
from keruen.api.audit import AuditEntry
from keruen.api.errors import BadRequest, Conflict, Unauthorized
from keruen.api.tables import api_keys, users
from keruen.errors import NotFound
from keruen.jurisdiction import Jurisdiction
from keruen.settings import get_settings
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
    name: str, role: str, tax_id: str | None, jurisdiction: Jurisdiction | None = None
) -> Role:
    """The role of a valid new user, or BadRequest naming the field at fault (a declarant's
    tax id by the home country's rule: `jurisdiction`, by default the configured one)."""
    if not name.strip() or len(name) > 100:
        raise BadRequest("a name of 1 to 100 characters is required", "name")
    r = _role(role)
    if r is Role.declarant and not tax_id:
        raise BadRequest("a declarant is bound to a tax id: give --tax-id", "tax_id")
    if r is not Role.declarant and tax_id:
        raise BadRequest("only a declarant is bound to a tax id", "tax_id")
    home = jurisdiction or get_settings().jurisdiction
    if tax_id and (problem := home.tax_id_problem(tax_id)):
        raise BadRequest(problem, "tax_id")
    return r


def _password_hash(password: str) -> str:
    if problem := passwords.problem(password):
        raise BadRequest(problem, "password")
    return passwords.hash_password(password)


def add_user(
    conn: Connection,
    name: str,
    role: str,
    tax_id: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    r = check_user(name, role, tax_id)
    row = {
        "name": name,
        "role": r.value,
        "tax_id": tax_id,
        "created_us": micros_now(),
        "password_hash": _password_hash(password) if password is not None else None,
        "disabled_us": None,
    }
    try:
        new_id = conn.execute(users.insert().returning(users.c.id), row).scalar_one()
    except sa.exc.IntegrityError as e:
        raise Conflict(f"a user named {name!r} already exists", "name") from e
    return public_user({"id": new_id, **row})


def public_user(row: Any) -> dict[str, Any]:
    """A user as shown: whether it has a password, never the hash."""
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {
        "id": m["id"],
        "name": m["name"],
        "role": m["role"],
        "tax_id": m["tax_id"],
        "created_us": m["created_us"],
        "disabled": m.get("disabled_us") is not None,
        "password": m.get("password_hash") is not None,
    }


def list_users(conn: Connection) -> list[dict[str, Any]]:
    return [public_user(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def _row(conn: Connection, name: str) -> Any:
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return row


def user_by_name(conn: Connection, name: str) -> dict[str, Any]:
    return public_user(_row(conn, name))


# --- passwords ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    """A user signed in with its password (what the web dashboard keeps in its session)."""

    id: int
    name: str
    role: Role
    tax_id: str | None

    def principal(self, via: str = "password") -> Principal:
        """The caller this user is; `via` stands where a key id stands for a key's caller."""
        return Principal(self.id, self.name, self.role, self.tax_id, via)


def set_password(conn: Connection, name: str, password: str) -> None:
    """Set (or replace) a user's password; its API keys are not touched."""
    digest = _password_hash(password)
    row = _row(conn, name)
    conn.execute(users.update().where(users.c.id == row.id).values(password_hash=digest))


def check_password(conn: Connection, username: str, password: str, client: str = "") -> User | None:
    """The user if `password` is its password and it is enabled, else None.

    Costs the same (one scrypt) for an unknown user, a user without a password and a wrong
    password, and answers them alike; every attempt is written to the audit log on `conn`
    (in the caller's transaction), a refusal with its reason."""
    row = conn.execute(sa.select(users).where(users.c.name == username[:100])).first()
    matches = passwords.verify(password, row.password_hash if row is not None else None)
    why = _refusal(row, matches)
    user = User(row.id, row.name, Role(row.role), row.tax_id) if row and not why else None
    entry = AuditEntry(
        user.principal() if user else None,
        "auth.password",
        username[:100],
        client,
        "denied" if why else "ok",
        {"claimed": username[:100], "why": why} if why else None,
    )
    audit.write(conn, [entry])
    return user


def _refusal(row: Any, matches: bool) -> str | None:
    if row is None:
        return "unknown user"
    if row.password_hash is None:
        return "no password set"
    if not matches:
        return "wrong password"
    if row.disabled_us is not None:
        return "user disabled"
    return None


# --- disable, remove, change role ---------------------------------------------------------


def _enabled_admins(conn: Connection) -> int:
    u = users.c
    q = sa.select(sa.func.count()).where(u.role == Role.admin.value, u.disabled_us.is_(None))
    return int(conn.scalar(q) or 0)


def _keep_an_admin(conn: Connection, row: Any, what: str) -> None:
    """Refuse to leave the service without an enabled admin (nobody could manage it)."""
    if row.role == Role.admin.value and row.disabled_us is None and _enabled_admins(conn) <= 1:
        raise Conflict(f"{row.name!r} is the last enabled admin: it cannot be {what}", "name")


def set_disabled(conn: Connection, name: str, disabled: bool) -> dict[str, Any]:
    """Disable (keys, tokens and password refused) or enable a user again; idempotent."""
    row = _row(conn, name)
    if disabled and row.disabled_us is None:
        _keep_an_admin(conn, row, "disabled")
        conn.execute(users.update().where(users.c.id == row.id).values(disabled_us=micros_now()))
    elif not disabled:
        conn.execute(users.update().where(users.c.id == row.id).values(disabled_us=None))
    return user_by_name(conn, name)


def remove_user(conn: Connection, name: str) -> list[str]:
    """Delete a user and its keys; returns the ids of the keys that stopped working.

    The audit log keeps the user's id and name; the id is never given to another user."""
    row = _row(conn, name)
    _keep_an_admin(conn, row, "removed")
    key_ids = list(conn.scalars(sa.select(api_keys.c.id).where(api_keys.c.user_id == row.id)))
    conn.execute(api_keys.delete().where(api_keys.c.user_id == row.id))
    conn.execute(users.delete().where(users.c.id == row.id))
    return key_ids


def set_role(conn: Connection, name: str, role: str, tax_id: str | None = None) -> dict[str, Any]:
    """Change a user's role (a declarant needs the tax id it acts for; other roles have none)."""
    row = _row(conn, name)
    r = check_user(name, role, tax_id)
    if r.value != row.role:
        _keep_an_admin(conn, row, "given another role")
    conn.execute(users.update().where(users.c.id == row.id).values(role=r.value, tax_id=tax_id))
    return user_by_name(conn, name)


def key_ids_of(conn: Connection, name: str) -> list[str]:
    """The ids of a user's keys (to drop them from an authentication cache)."""
    row = _row(conn, name)
    return list(conn.scalars(sa.select(api_keys.c.id).where(api_keys.c.user_id == row.id)))


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
    """Every key with its user's name (a disabled user's keys show as they are: not revoked)."""
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
    users.c.disabled_us,
    users.c.id,
    users.c.name,
    users.c.role,
    users.c.tax_id,
).join_from(api_keys, users, api_keys.c.user_id == users.c.id)


def _principal(row: Any) -> Principal:
    if row is None or row.revoked_us is not None or row.disabled_us is not None:
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
