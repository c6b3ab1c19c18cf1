"""Administration: users, API keys, the audit log. Every change is itself audited."""

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
    UserCreate,
    UserPublic,
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
        row = accounts.add_user(conn, body.name, body.role.value, body.tax_id)
    log.record("users.add", body.name, detail={"role": body.role.value, "tax_id": body.tax_id})
    return _user(row)


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
    log.record("keys.create", name, detail={"key_id": new.key_id})
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
    state.auth_cache.drop_key(key_id)
    log.record("keys.revoke", key_id)
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
