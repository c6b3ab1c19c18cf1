"""HTTP API (SPEC C7, C9): `create_app`, authentication, roles and tenant isolation."""

from keruen.api.app import create_app

__all__ = ["create_app"]
