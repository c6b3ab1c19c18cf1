"""Liveness and readiness, without authentication (for load balancers and orchestrators)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import Response

from keruen.api.deps import StateDep
from keruen.api.problems import problem
from keruen.api.schemas import Health, Readiness, problems

router = APIRouter(tags=["health"])


@cache
def heads() -> frozenset[str]:
    """The newest revision of every migration branch shipped with this version."""
    where = str(resources.files("keruen.store") / "migrations")
    return frozenset(ScriptDirectory(where).get_heads())


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (says nothing about the database)."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses=problems(503))
def readyz(state: StateDep) -> Readiness | Response:
    """Ready when the database answers and every migration branch is at its head."""
    try:
        with state.reader.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.DBAPIError:
        return problem(503, "the database cannot be reached", "/readyz")
    missing = heads() - current
    if missing:
        return problem(
            503,
            f"the database is not migrated (missing {', '.join(sorted(missing))})"
            "; run any keruen command with --db, or keruen serve",
            "/readyz",
        )
    return Readiness(revisions=sorted(current))
