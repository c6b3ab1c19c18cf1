"""Typed settings of the HTTP API, read once from `KERUEN_*` environment variables.

`KERUEN_SECRET` signs the bearer tokens (HS256). Without it a development server makes a
random secret per process (tokens then die with the process); a production server
(`KERUEN_ENV=production`) refuses to start without a strong one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from keruen.errors import ConfigError

MIN_SECRET = 32
KNOWN_WEAK = frozenset({"changethis", "secret", "keruen", "change-me", "changeme"})


@dataclass(frozen=True)
class ApiSettings:
    secret: str
    env: str = "development"
    token_ttl_s: int = 3600
    max_body_bytes: int = 32 * 1024 * 1024
    max_events: int = 100_000
    writer_batch: int = 5000
    auth_cache_s: float = 2.0
    writer_linger_ms: int = 0
    # what a declarant sees of the alerts: "none", or "own" (about itself or its own events,
    # without facts or other parties). Default none: alerts must not warn the companies that
    # officers investigate.
    declarant_alerts: str = "none"
    session_ttl_s: int = 8 * 3600  # a dashboard session, signed in once per working day
    # where the server writes, when it stops, where its submits' time went
    # (KERUEN_API_PROFILE, a file; off by default: keruen.api.profile)
    profile_path: str | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"


def _int(env: Mapping[str, str], name: str, default: int, low: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from e
    if value < low:
        raise ConfigError(f"{name} must be at least {low}")
    return value


def secret_problem(secret: str | None, production: bool) -> str | None:
    """Why a signing secret is unsafe for this environment, or None."""
    if secret is None:
        return "KERUEN_SECRET is not set" if production else None
    if secret.lower() in KNOWN_WEAK:
        return "KERUEN_SECRET is a well-known placeholder"
    if production and len(secret) < MIN_SECRET:
        return f"KERUEN_SECRET must be at least {MIN_SECRET} characters in production"
    return None


ALERT_POLICIES = ("none", "own")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, choices[0])
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def from_env(env: Mapping[str, str]) -> ApiSettings:
    """Settings from a mapping of environment variables; raises ConfigError on unsafe values."""
    name = env.get("KERUEN_ENV", "development")
    secret = env.get("KERUEN_SECRET") or None
    problem = secret_problem(secret, name == "production")
    if problem:
        raise ConfigError(problem)
    return ApiSettings(
        secret=secret or secrets.token_urlsafe(48),
        env=name,
        token_ttl_s=_int(env, "KERUEN_TOKEN_TTL", 3600, 60),
        max_body_bytes=_int(env, "KERUEN_API_MAX_BODY", 32 * 1024 * 1024, 1024),
        max_events=_int(env, "KERUEN_API_MAX_EVENTS", 100_000, 1),
        writer_batch=_int(env, "KERUEN_API_WRITER_BATCH", 5000, 1),
        auth_cache_s=_int(env, "KERUEN_AUTH_CACHE_S", 2, 0),
        writer_linger_ms=_int(env, "KERUEN_API_WRITER_LINGER_MS", 0, 0),
        declarant_alerts=_choice(env, "KERUEN_DECLARANT_ALERTS", ALERT_POLICIES),
        session_ttl_s=_int(env, "KERUEN_UI_SESSION_TTL", 8 * 3600, 60),
        profile_path=env.get("KERUEN_API_PROFILE") or None,
    )


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process's settings, read once."""
    return from_env(os.environ)
