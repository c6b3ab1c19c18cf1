"""Administration: users, API keys, the audit log. Every change is audited in its own
transaction: the change and its audit entry commit together, or neither."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from keruen.api import accounts, audit
from keruen.api.deps import Admin, AuditDep, AuditReader, ConnDep, StateDep
from keruen.api.schemas import (
    AuditPublic,
    KeyCreate,
    KeyCreated,
    KeyPublic,
    PasswordSet,
    UserCreate,
    UserPublic,
    UserUpdate,
    problems,
)
from keruen.ledger.rules import iso

router = APIRouter(prefix="/v1", tags=["admin"])


def _user(row: dict[str, Any]) -> UserPublic:
    return UserPublic(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        tax_id=row["tax_id"],
        created=iso(row["created_us"]),
        disabled=row["disabled"],
        password=row["password"],
    )


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    responses=problems(400, 401, 403, 409, 413, 422, 503),
)
def add_user(body: UserCreate, user: Admin, state: StateDep, log: AuditDep) -> UserPublic:
    """Create a user; a declarant needs the tax id it acts for."""
    with state.engine.begin() as conn:
        row = accounts.add_user(conn, body.name, body.role.value, body.tax_id, body.password)
        detail = {"role": body.role.value, "tax_id": body.tax_id}
        log.write(conn, "users.add", body.name, detail=detail)
    return _user(row)


@router.patch(
    "/users/{name}",
    response_model=UserPublic,
    responses=problems(400, 401, 403, 404, 409, 413, 422, 503),
)
def update_user(
    name: str, body: UserUpdate, user: Admin, state: StateDep, log: AuditDep
) -> UserPublic:
    """Change a user's role (and tax id), or disable or enable it; the change applies to its
    keys and tokens at once."""
    with state.engine.begin() as conn:
        row = accounts.user_by_name(conn, name)
        if body.role is not None:
            row = accounts.set_role(conn, name, body.role.value, body.tax_id)
        if body.disabled is not None:
            row = accounts.set_disabled(conn, name, body.disabled)
        log.write(conn, "users.update", name, detail=body.model_dump(exclude_none=True))
    state.auth_cache.drop_user(row["id"])
    return _user(row)


@router.put(
    "/users/{name}/password",
    status_code=204,
    response_class=Response,
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def set_password(
    name: str, body: PasswordSet, user: Admin, state: StateDep, log: AuditDep
) -> Response:
    """Set or replace a user's password (for the web dashboard)."""
    with state.engine.begin() as conn:
        accounts.set_password(conn, name, body.password)
        log.write(conn, "users.password", name)
    return Response(status_code=204)


@router.delete(
    "/users/{name}",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 409, 503),
)
def remove_user(name: str, user: Admin, state: StateDep, log: AuditDep) -> Response:
    """Remove a user and delete its keys; its id is never given to another user."""
    with state.engine.begin() as conn:
        found = accounts.user_by_name(conn, name)
        keys = accounts.remove_user(conn, name)
        log.write(conn, "users.remove", name, detail={"id": found["id"], "keys": keys})
    state.auth_cache.drop_user(found["id"])
    return Response(status_code=204)


@router.get("/users", response_model=list[UserPublic], responses=problems(401, 403, 503))
def list_users(user: Admin, conn: ConnDep) -> list[UserPublic]:
    return [_user(r) for r in accounts.list_users(conn)]


@router.post(
    "/users/{name}/keys",
    response_model=KeyCreated,
    status_code=201,
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def create_key(
    name: str, user: Admin, state: StateDep, log: AuditDep, body: KeyCreate | None = None
) -> KeyCreated:
    """A new API key for a user, shown in this answer only."""
    with state.engine.begin() as conn:
        new = accounts.create_key(conn, name, body.label if body else "")
        log.write(conn, "keys.create", name, detail={"key_id": new.key_id})
    return KeyCreated(key_id=new.key_id, key=new.key, user=new.user, label=new.label)


def _key(row: dict[str, Any]) -> KeyPublic:
    revoked = row["revoked_us"]
    return KeyPublic(
        id=row["id"],
        user=row["user"],
        label=row["label"],
        created=iso(row["created_us"]),
        revoked=iso(revoked) if revoked else None,
    )


@router.get("/keys", response_model=list[KeyPublic], responses=problems(401, 403, 503))
def list_keys(user: Admin, conn: ConnDep) -> list[KeyPublic]:
    """Every key with its owner; never the key or its digest."""
    return [_key(r) for r in accounts.list_keys(conn)]


@router.delete(
    "/keys/{key_id}",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 503),
)
def revoke_key(key_id: str, user: Admin, state: StateDep, log: AuditDep) -> Response:
    """Revoke a key: it and every token issued for it stop working at once."""
    with state.engine.begin() as conn:
        accounts.revoke_key(conn, key_id)
        log.write(conn, "keys.revoke", key_id)
    state.auth_cache.drop_key(key_id)
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditPublic], responses=problems(401, 403, 422, 503))
def read_audit(
    user: AuditReader,
    conn: ConnDep,
    log: AuditDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="page: ids below")] = None,
) -> list[dict[str, Any]]:
    """The audit log, newest first."""
    rows = audit.read(conn, limit, actor, before)
    log.record("audit.read", actor or "*", detail={"rows": len(rows)})
    return rows
