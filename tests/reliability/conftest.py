"""The API fixtures of tests/api, for the reliability suite's HTTP tests."""

from tests.api.conftest import api, sqlite_api

__all__ = ["api", "sqlite_api"]
