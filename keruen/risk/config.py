"""The risk engine's typed configuration: every threshold a detector, the scoring or the lanes use.

Defaults are the tuned values (see docs/risk.md for how they were tuned and on which seed). An
administrator overrides any of them with a TOML file (`--config FILE` or `$KERUEN_RISK_CONFIG`),
using the section and field names below; unknown names are refused, never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keruen.risk.errors import BadInput
from keruen.watch import CONDUITS, WATCHED_DESTINATIONS

# States that ban the export of high-priority items to Russia: the United States and the
# partners it exempts from its Russia foreign-direct-product rule (15 CFR 746, Supplement
# No. 3: the EU 27, Australia, Canada, Iceland, Japan, Liechtenstein, New Zealand, Norway,
# South Korea, Switzerland, Taiwan, the United Kingdom).
EU27 = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
SANCTIONING = frozenset(
    [*EU27, "US", "GB", "JP", "CA", "AU", "NZ", "NO", "CH", "IS", "LI", "KR", "TW"]
)

Lane = Literal["green", "yellow", "red", "blue"]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Watch(Section):
    """Who the goods must not reach, and who made them."""

    destinations: frozenset[str] = WATCHED_DESTINATIONS
    # the export bans on these goods took effect on 24 February 2022 (EU Regulation 2022/328,
    # US EAR Russia rules of the same day); dispatches before it were lawful
    effective: date = date(2022, 2, 24)
    # EAEU partners through which goods are re-routed to the watched destinations
    conduits: frozenset[str] = CONDUITS
    sanctioning: frozenset[str] = SANCTIONING


class Chpl(Section):
    """High-priority goods reaching a watched destination, directly or through a chain."""

    score_direct: float = Field(0.95, ge=0, le=1)
    score_chain: float = Field(0.9, ge=0, le=1)
    # the same goods to a conduit state: scored up by the buyer's signs of a front company
    score_conduit: float = Field(0.55, ge=0, le=1)
    front_company_months: int = Field(18, ge=0)


class Reexport(Section):
    """Goods imported from a sanctioning state and dispatched on soon after."""

    max_days: float = Field(90, gt=0)
    # ordinary goods from the EU sold on to Russia are common and mostly lawful: a signal that
    # raises the risk (and the lane); controlled goods raise their own alerts
    score: float = Field(0.45, ge=0, le=1)
    conduit_factor: float = Field(0.7, ge=0, le=1)


class Origin(Section):
    """Goods made in a sanctioning state sent to a watched destination or a conduit state."""

    score: float = Field(0.8, ge=0, le=1)
    score_conduit: float = Field(0.55, ge=0, le=1)


class Transit(Section):
    """Transit findings: a score per finding kind, else one per severity the finding carries."""

    severity: dict[str, float] = {"high": 0.8, "medium": 0.5, "low": 0.25}
    kinds: dict[str, float] = {
        "overdue": 0.75,
        "late_exit": 0.3,
        # seals in the field miss reports often; alone, silence is not worth a lane
        "seal_silent": 0.15,
        "exit_other_post": 0.7,
        "seal_alarm": 0.2,
        "long_stop": 0.35,
        "route_unresolved": 0.1,
    }
    # an exit at a post on the border of a watched destination, declared elsewhere
    exit_toward_watched: float = Field(0.95, ge=0, le=1)


class Phantom(Section):
    """Outflows whose stock came only from positive stocktake adjustments."""

    min_share: float = Field(0.2, gt=0, le=1)
    score: float = Field(0.8, ge=0, le=1)


class NewCompany(Section):
    """A company registered recently that moves outsized value."""

    max_age_months: int = Field(12, ge=0)
    min_value_usd: float = Field(1_000_000, ge=0)
    # alone, a young company with volume is common in a growing economy: a signal
    score: float = Field(0.3, ge=0, le=1)


class UnitValue(Section):
    """Unit value or mass per unit far from its peers (same HS code, origin, route)."""

    min_peers: int = Field(12, ge=3)
    # robust z-score on log(value per unit): |z| at least this fires ...
    z: float = Field(5.0, gt=0)
    # ... and the value at least this many times its peers' median (or at most 1/this)
    min_ratio: float = Field(4.0, ge=1)
    # a value this many times the peers' median is anomalous whatever their spread, given at
    # least `min_peers_extreme` peers
    extreme_ratio: float = Field(25.0, ge=1)
    min_peers_extreme: int = Field(4, ge=2)
    # ... and not within the spread of a heterogeneous group (a heading of unlike goods)
    z_extreme: float = Field(3.0, gt=0)
    score: float = Field(0.7, ge=0, le=1)
    # undervaluation is a customs matter more than a diversion one: a signal, not an alert
    score_low: float = Field(0.3, ge=0, le=1)


class Layering(Section):
    """Long or circular chains of quick transfers before the goods leave."""

    min_hops: int = Field(4, ge=2)
    quick_days: float = Field(10, gt=0)
    score: float = Field(0.7, ge=0, le=1)


class Ghost(Section):
    """Dispatches with no partner receipt; receipts that refer to nothing."""

    grace_days: float = Field(45, gt=0)
    # the score of a missing receipt where every comparable movement got one; scaled down by
    # the share that did (receipt coverage of the buyer, else of the partner country)
    score_missing: float = Field(0.7, ge=0, le=1)
    score_orphan: float = Field(0.8, ge=0, le=1)
    # earlier movements a buyer (else a partner) needs before its coverage is trusted
    min_history: int = Field(3, ge=1)
    # a partner's receipts are awaited the longest delay seen from it, plus this share
    wait_margin: float = Field(0.5, ge=0)
    # coverage assumed before that: a receipt neither expected nor excluded
    prior_coverage: float = Field(0.5, ge=0, le=1)
    # a transit closed with a mass within this share of its declaration is consistent
    mass_tolerance: float = Field(0.02, ge=0, le=1)


class Screening(Section):
    """Party hits from screening become alerts from this score on."""

    min_party_score: float = Field(0.88, ge=0, le=1)
    # a name match whose countries disagree with the entry's must be near certain
    min_party_score_other_country: float = Field(0.95, ge=0, le=1)


class Scoring(Section):
    """How alerts make one risk per subject, and what positive evidence takes off."""

    alert_min: float = Field(0.5, ge=0, le=1)
    # clean history: each clean, received movement of the holder takes off this much ...
    clean_step: float = Field(0.01, ge=0, le=1)
    # ... up to this; intact seal telemetry and consistent documents take off their own share
    clean_cap: float = Field(0.2, ge=0, le=1)
    intact_seals: float = Field(0.1, ge=0, le=1)
    consistent_documents: float = Field(0.05, ge=0, le=1)
    # no evidence excuses these: a good history does not make a sanctioned buyer acceptable
    hard_rules: frozenset[str] = frozenset(
        {"sanctioned_party", "high_priority_goods", "transit_exit_other_post", "phantom_stock"}
    )


class Lanes(Section):
    """Selectivity: risk thresholds per lane, random selection, planned rates and waits."""

    red: float = Field(0.8, ge=0, le=1)
    yellow: float = Field(0.5, ge=0, le=1)
    blue: float = Field(0.4, ge=0, le=1)
    random_rate: float = Field(0.005, ge=0, le=1)
    random_lane: Lane = "yellow"
    expected: dict[Lane, float] = {"green": 0.95, "yellow": 0.02, "red": 0.01, "blue": 0.02}
    wait_hours: dict[Lane, float] = {"green": 0.0, "yellow": 4.0, "red": 24.0, "blue": 0.0}
    seed: str = "keruen"


class UsdRates(Section):
    """Approximate USD per unit of currency (2022-2024 averages), to compare values."""

    rates: dict[str, float] = {
        "USD": 1.0,
        "EUR": 1.08,
        "GBP": 1.25,
        "CNY": 0.14,
        "KZT": 0.00217,
        "RUB": 0.012,
        "JPY": 0.0072,
        "KGS": 0.0113,
        "AMD": 0.0026,
        "BYN": 0.33,
        "TRY": 0.04,
        "UZS": 0.000082,
        "CHF": 1.12,
        "KRW": 0.00075,
        "AED": 0.27,
        "INR": 0.012,
    }


class RiskConfig(Section):
    watch: Watch = Watch()
    chpl: Chpl = Chpl()
    reexport: Reexport = Reexport()
    origin: Origin = Origin()
    transit: Transit = Transit()
    phantom: Phantom = Phantom()
    new_company: NewCompany = NewCompany()
    unit_value: UnitValue = UnitValue()
    layering: Layering = Layering()
    ghost: Ghost = Ghost()
    screening: Screening = Screening()
    scoring: Scoring = Scoring()
    lanes: Lanes = Lanes()
    usd: UsdRates = UsdRates()


def load(path: Path | None = None) -> RiskConfig:
    """The configuration from a TOML file (or `$KERUEN_RISK_CONFIG`), else the defaults."""
    name = path or os.environ.get("KERUEN_RISK_CONFIG")
    if not name:
        return default()
    try:
        data = tomllib.loads(Path(name).read_text(encoding="utf-8"))
        return RiskConfig.model_validate(data)
    except OSError as e:
        raise BadInput("config", f"{name}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise BadInput("config", f"{name}: not TOML ({e})") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"config {where}", first["msg"]) from e


@lru_cache(maxsize=1)
def default() -> RiskConfig:
    return RiskConfig()
