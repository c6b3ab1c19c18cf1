"""The dashboard's views, one module per screen."""

from __future__ import annotations

from fastapi import APIRouter

from keruen.web.views import alerts, auth, batches, cases, transits

ROUTERS: list[APIRouter] = [
    auth.router,
    alerts.router,
    cases.router,
    batches.router,
    transits.router,
]
