"""The OpenAPI document as checked into docs/openapi.json (a test keeps the two equal)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from keruen.api.settings import ApiSettings


def document() -> dict[str, Any]:
    """The document, built without touching any database."""
    from keruen.api.app import create_app

    app = create_app(sa.create_engine("sqlite://"), ApiSettings(secret="unused-for-export"))
    return app.openapi()


def document_text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
