"""Settings, read once from `KERUEN_*` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from keruen.errors import ConfigError
from keruen.jurisdiction import Jurisdiction
from keruen.jurisdiction import get as get_jurisdiction

DEFAULT_DB = "sqlite:///keruen.db"
DEFAULT_JURISDICTION = "KZ"


@dataclass(frozen=True)
class Settings:
    db_url: str
    env: str
    chunk_size: int
    # how far after the ingest clock an event's time may be (clocks drift; a document is
    # never written tomorrow): KERUEN_FUTURE_TOLERANCE_S, seconds
    future_tolerance_s: int = 900
    # party master data for EPCIS import (GLN to tax id): KERUEN_EPCIS_PARTIES, a file path
    epcis_parties: str | None = None
    # the user the CLI acts as in cases (an enabled officer): never a free --by
    operator: str | None = None
    # party-screening thresholds per list and schema: KERUEN_SCREENING_THRESHOLDS, for example
    # "ofac-sdn:person=0.82;*:organization=0.8" (see keruen.screening.screener.parse_thresholds)
    screening_thresholds: str = ""
    # the key that signs checkpoints of the ledger's heads (keruen.store.checkpoint), held
    # outside the database: a file (KERUEN_CHECKPOINT_KEY_FILE) or the value itself
    # (KERUEN_CHECKPOINT_KEY)
    checkpoint_key_file: str | None = None
    checkpoint_key: str | None = field(default=None, repr=False)
    # automatic checkpoints (keruen.store.checkpoint.Auto), on whenever a key is configured:
    # the file they are appended to (KERUEN_CHECKPOINT_FILE), every how many lines
    # (KERUEN_CHECKPOINT_EVERY) or seconds (KERUEN_CHECKPOINT_INTERVAL_S); 0 and 0: off
    checkpoint_file: str | None = None
    checkpoint_every: int = 10_000
    checkpoint_interval_s: int = 60
    # SQLite's synchronous mode: "normal" (WAL: a power cut may lose the last commits) or
    # "full" (every commit on disk before it returns); the API always runs "full"
    sqlite_sync: str = "normal"
    # the home country (KERUEN_JURISDICTION, a code of keruen/data/jurisdictions.json): its
    # customs union, tax-id rule, declaration numbers and border posts
    jurisdiction: Jurisdiction = field(
        default_factory=lambda: get_jurisdiction(DEFAULT_JURISDICTION)
    )
    # a file ingested with its chunks judged apart from their writes (keruen.split):
    # on unless KERUEN_INGEST_SPLIT=0 (PostgreSQL: a thread judges while the server writes; a
    # SQLite file: a forked child judges, 1.5-1.6x the parse-process path at 1 M in the twelfth
    # sitting, where it had been 0.79x before the native judge: docs/ledger.md)
    ingest_split: bool = True
    # the ingest's native judge (keruen/store/_judge.c) for the common accepted events, the
    # Python rules for the rest; KERUEN_NATIVE=0 judges everything in Python (issue 19)
    native: bool = True

    @property
    def production(self) -> bool:
        return self.env == "production"


def normalise_db_url(url: str) -> str:
    """Accept `postgresql://` and bare file paths as well as SQLAlchemy URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ.get("KERUEN_ENV", "development")
    try:
        chunk = int(os.environ.get("KERUEN_CHUNK", "20000"))
    except ValueError as e:
        raise ConfigError("KERUEN_CHUNK must be an integer") from e
    if chunk < 1:
        raise ConfigError("KERUEN_CHUNK must be at least 1")
    return Settings(
        db_url=normalise_db_url(os.environ.get("KERUEN_DB", DEFAULT_DB)),
        env=env,
        chunk_size=chunk,
        future_tolerance_s=_non_negative("KERUEN_FUTURE_TOLERANCE_S", 900),
        epcis_parties=os.environ.get("KERUEN_EPCIS_PARTIES") or None,
        operator=os.environ.get("KERUEN_OPERATOR") or None,
        screening_thresholds=os.environ.get("KERUEN_SCREENING_THRESHOLDS", ""),
        checkpoint_key_file=os.environ.get("KERUEN_CHECKPOINT_KEY_FILE") or None,
        checkpoint_key=os.environ.get("KERUEN_CHECKPOINT_KEY") or None,
        checkpoint_file=os.environ.get("KERUEN_CHECKPOINT_FILE") or None,
        checkpoint_every=_non_negative("KERUEN_CHECKPOINT_EVERY", 10_000),
        checkpoint_interval_s=_non_negative("KERUEN_CHECKPOINT_INTERVAL_S", 60),
        sqlite_sync=_sync(os.environ.get("KERUEN_SQLITE_SYNC", "normal")),
        jurisdiction=_jurisdiction(os.environ.get("KERUEN_JURISDICTION") or DEFAULT_JURISDICTION),
        ingest_split=not _off(os.environ.get("KERUEN_INGEST_SPLIT", "")),
        native=not _off(os.environ.get("KERUEN_NATIVE", "")),
    )


def _off(value: str) -> bool:
    """Whether a switch that is on by default is turned off."""
    return value.strip().lower() in ("0", "false", "no", "off")


def _jurisdiction(code: str) -> Jurisdiction:
    try:
        return get_jurisdiction(code.strip())
    except KeyError as e:
        raise ConfigError(f"KERUEN_JURISDICTION: {e.args[0]}") from None


def _sync(value: str) -> str:
    if value.lower() not in ("normal", "full"):
        raise ConfigError("KERUEN_SQLITE_SYNC must be normal or full")
    return value.lower()


def _non_negative(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, str(default)))
    except ValueError as e:
        raise ConfigError(f"{name} must be an integer") from e
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value
