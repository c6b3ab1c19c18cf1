"""POST /v1/events straight from ASGI: the route's own code, without FastAPI's routing,
dependency solving and exception middleware around it.

Why: a single-event submit is the API's hottest request, and on the event loop FastAPI's
machinery around it (route matching over every route, dependency solving, three layers of
middleware) cost more than the submit's own work. This middleware sits inside `AccessLog` and
`BodyLimit`, so both still apply, and calls exactly what the FastAPI route calls: the bearer
scheme (`deps.bearer`), the capability check (`deps.submitter`), the endpoint
(`routers.events.submit`), and the one handler map (`problems.HANDLERS`) for every error.
The FastAPI route stays: it documents the operation in the OpenAPI document and answers when
this middleware is not installed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from keruen.api import deps
from keruen.api.problems import HANDLERS, Handler
from keruen.api.routers import events

PATH = "/v1/events"


def route_path(scope: Scope) -> str:
    """The path the router matches (without the mount point, as Starlette strips it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def handler_for(exc: Exception) -> Handler:
    """The handler of `HANDLERS` for an exception: its nearest class (`Exception` catches all)."""
    for cls in type(exc).__mro__:
        if (handler := HANDLERS.get(cls)) is not None:
            return handler
    return HANDLERS[Exception]


class SubmitFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or route_path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            user = await deps.submitter(request, await deps.bearer(request))
            response = await events.submit(request, user)
        except Exception as exc:
            response = await handler_for(exc)(request, exc)
            exc.__traceback__ = None
        await response(scope, receive, send)
