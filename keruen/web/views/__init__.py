"""The dashboard's views, one module per screen."""

from __future__ import annotations

from fastapi import APIRouter

from keruen.web.views import (
    admin,
    alerts,
    auth,
    batches,
    cases,
    declarant,
    outcomes,
    parties,
    trade,
    transits,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    alerts.router,
    cases.router,
    batches.router,
    transits.router,
    parties.router,
    declarant.router,
    outcomes.router,
    admin.router,
    trade.router,
]
