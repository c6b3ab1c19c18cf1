"""`create_app`: the FastAPI application over one Keruen database.

uvicorn --factory 'keruen.api.app:from_env'      # or: keruen serve --db URL
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.engine import Engine

from keruen import __version__, reference, web
from keruen.api import engines
from keruen.api.authcache import AuthCache
from keruen.api.deps import AppState
from keruen.api.fastpath import SubmitFastPath
from keruen.api.middleware import AccessLog, BodyLimit
from keruen.api.problems import HANDLERS
from keruen.api.profile import Profile
from keruen.api.routers import ROUTERS
from keruen.api.settings import ApiSettings, get_api_settings
from keruen.api.writer import Writer
from keruen.model.events import json_schema
from keruen.settings import get_settings
from keruen.store import checkpoint, db

DESCRIPTION = """Keruen's HTTP API: declarants submit events and read their own stock; officers
trace batches; analysts read aggregates; administrators manage users and keys.
Authenticate with `Authorization: Bearer <API key>` or a token from `POST /v1/token`.
Errors are RFC 9457 problem details naming the field and the reason."""


def _warm() -> None:
    """Load reference data before the first request, not during it."""
    reference.hs_subheadings()
    get_settings().jurisdiction.posts  # noqa: B018 - loads the border posts
    reference.units()
    reference.countries()


def settle() -> None:
    """Prepare a server process once its app is built: load the reference data, then move
    every object alive now (modules, reference data, the app) out of the cycle collector's
    sight (`gc.freeze`).

    Why: otherwise every full collection walks those objects again, a 40-110 ms pause of the
    whole process (event loop and writer alike) every few seconds under load, the largest
    part of the submit latency's p99 once the WAL checkpoints left the writer. Only for a
    server process (`keruen serve`, `from_env`): the frozen objects are never collected."""
    _warm()
    gc.collect()
    gc.freeze()


def create_app(
    engine_or_url: Engine | str | None = None, settings: ApiSettings | None = None
) -> FastAPI:
    """The API over an engine (used as is) or a URL (connected and migrated)."""
    settings = settings or get_api_settings()
    eng = engine_or_url if isinstance(engine_or_url, Engine) else db.ready(engine_or_url)
    write = engines.writer(eng)
    checkpointer = engines.Checkpointer(write)
    signed = checkpoint.Auto.from_settings(write)  # None without a checkpoint key

    def between_groups(lines: int) -> None:
        checkpointer.finish()
        if signed is not None:
            signed.note(lines)

    profile = Profile() if settings.profile_path else None
    writer = Writer(
        write,
        settings.writer_batch,
        settings.writer_linger_ms / 1000,
        between_groups,
        profile,
    )
    cache = AuthCache(settings.auth_cache_s)
    state = AppState(eng, engines.reader(eng), writer, settings, cache)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warm()
        checkpointer.start()
        yield
        state.writer.stop()
        if signed is not None:
            signed.close()
        checkpointer.stop()
        if profile is not None and settings.profile_path:
            profile.dump(settings.profile_path)
        for own in {state.reader, write} - {eng}:
            own.dispose()

    app = FastAPI(
        title="Keruen",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        exception_handlers=HANDLERS,
    )
    app.state.keruen = state
    for router in ROUTERS:
        app.include_router(router)
    web.mount(app)  # the dashboard under /ui/
    app.add_middleware(SubmitFastPath)  # innermost: inside the body limit and the access log
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


def from_env() -> FastAPI:
    """Factory for `uvicorn --factory`: database and settings from KERUEN_* variables."""
    app = create_app()
    settle()
    return app


def event_components() -> dict[str, Any]:
    """The event contract's JSON Schema as OpenAPI components, `Event` at the root."""
    schema: dict[str, Any] = dict(json_schema())
    defs: dict[str, Any] = schema.pop("$defs", {})
    for drop in ("$schema", "title"):
        schema.pop(drop, None)
    components: dict[str, Any] = _retarget(
        {"Event": schema, **{f"Event{k}": v for k, v in defs.items()}}
    )
    return components


def _retarget(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/Event")
                if k == "$ref" and isinstance(v, str)
                else _retarget(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_retarget(v) for v in node]
    return node


def openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the event contract (generated from the model) included."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(event_components())
        app.openapi_schema = doc
    return app.openapi_schema
