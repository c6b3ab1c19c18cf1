"""The web dashboard under `/ui/`: server-rendered pages over the same service functions as the
API and the CLI (SPEC C5, C7, C9). `mount(app)` adds it to the API's FastAPI app.

Every page reads without JavaScript; htmx (vendored, `static/`) only makes links and forms
swap the page body instead of reloading it.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Add the dashboard's pages and its static files to `app`.

    The views are imported here, not with the package: the store imports `keruen.web.tables`
    for every CLI command, which must not pay for the pages' imports."""
    from keruen.web.views import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    static = resources.files("keruen.web").joinpath("static")
    app.mount("/ui/static", StaticFiles(directory=str(static)), name="ui-static")
