"""API settings: typed, from KERUEN_* variables, refusing unsafe production values."""

from __future__ import annotations

import pytest

from keruen.api.settings import from_env
from keruen.errors import ConfigError

STRONG = "k" * 48


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"KERUEN_ENV": "production"}, "not set"),
        ({"KERUEN_ENV": "production", "KERUEN_SECRET": "short"}, "at least 32"),
        ({"KERUEN_ENV": "production", "KERUEN_SECRET": "changethis"}, "placeholder"),
        ({"KERUEN_SECRET": "changethis"}, "placeholder"),
        ({"KERUEN_SECRET": STRONG, "KERUEN_TOKEN_TTL": "soon"}, "integer"),
        ({"KERUEN_SECRET": STRONG, "KERUEN_API_MAX_BODY": "10"}, "at least"),
    ],
)
def test_unsafe_settings_are_refused(env: dict[str, str], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        from_env(env)


def test_production_with_a_strong_secret() -> None:
    s = from_env({"KERUEN_ENV": "production", "KERUEN_SECRET": STRONG, "KERUEN_TOKEN_TTL": "600"})
    assert (s.production, s.secret, s.token_ttl_s) == (True, STRONG, 600)


def test_development_without_secret_gets_a_random_one() -> None:
    a, b = from_env({}), from_env({})
    assert a.secret != b.secret and len(a.secret) >= 32 and not a.production
