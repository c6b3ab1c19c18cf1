"""What the detectors read besides the ledger: screening hits and transit findings.

Plain data, filled by the storage adapter from the screening and transit areas' services; the
detectors never call those areas themselves, so they stay pure and testable without a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class GoodsHit:
    """A goods rule that fired (from screening): which list, which version, which tier."""

    list: str
    version: str
    hs_prefix: str
    action: str  # block | licence | flag
    tier: str
    source: str = ""

    def cite(self) -> str:
        tier = f", tier {self.tier}" if self.tier else ""
        return f"{self.list} {self.version} (HS {self.hs_prefix}{tier}, action {self.action})"


# (hs code, destination country, time in microseconds) -> the rules that fire
GoodsRules = Callable[[str, str, int], list[GoodsHit]]


@dataclass(frozen=True, slots=True)
class PartyHit:
    """A party of an event matched a sanctions-list entry (from screening)."""

    event_id: str
    role: str  # buyer, seller, consignee, carrier, holder, ...
    tax_id: str
    name: str
    country: str
    entry_id: str
    entry_name: str
    list: str
    version: str
    score: float
    why: str = ""
    entry_countries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TransitFinding:
    """A transit finding (from transit monitoring) about one movement."""

    mrn: str  # the MRN; for a receipt check of a dispatch or export, that event's id
    kind: str  # overdue, exit_other_post, route_deviation, seal_breach, mass_difference, ...
    time_us: int
    severity: str  # high | medium | low
    explanation: str
    facts: dict[str, Any] = field(default_factory=dict)
    subject: str = "transit"  # transit | dispatch | export | seal


@dataclass(slots=True)
class Facts:
    """Everything a run reads besides the ledger."""

    goods_rules: GoodsRules
    party_hits: list[PartyHit] = field(default_factory=list)
    transit: list[TransitFinding] = field(default_factory=list)
    # MRN -> the movement is clean so far: seals intact and reported, no finding
    seals_intact: set[str] = field(default_factory=set)
