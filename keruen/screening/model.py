"""The pure types of screening: list entries, goods rules, and the hits that cite them."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple

Action = Literal["block", "licence", "flag"]
ACTIONS: tuple[Action, ...] = ("block", "licence", "flag")
SCHEMAS = ("person", "organization", "vessel", "aircraft", "unknown")
MIN_ID_LENGTH = 5  # shorter numbers (house numbers, years) meet by chance

_ID_NOISE = re.compile(r"[^0-9A-Z]")


def normalise_id(value: str) -> str:
    """Identifiers compare exactly, but without spaces, dashes, dots or case."""
    return _ID_NOISE.sub("", value.upper())


@dataclass(frozen=True, slots=True)
class Identifier:
    """A registry number of an entry: `scheme` says which (inn, ogrn, bin, imo, passport, ...)."""

    scheme: str
    value: str
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One entity of a sanctions list, with every name it is known by (`names[0]` is primary)."""

    list: str
    id: str
    schema: str
    names: tuple[str, ...]
    ids: tuple[Identifier, ...] = ()
    countries: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    remarks: str = ""
    weak_names: tuple[str, ...] = ()  # OFAC's weak AKAs, FtM's weakAlias: matched with less weight
    birth_dates: tuple[str, ...] = ()  # ISO prefixes: "1954-10-12", "1962-08", "1946"

    @property
    def digest(self) -> str:
        """What the list says of the entry, hashed: it changes when the entry changes."""
        ids = sorted(f"{i.scheme}:{i.value}" for i in self.ids)
        body: list[Any] = [self.schema, self.names, self.weak_names, self.birth_dates]
        body += [self.countries, self.programs, ids]
        return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()[:16]

    def details(self) -> dict[str, Any]:
        """What the list says beyond names, ids and countries (stored as one JSON object)."""
        out = {"weak_names": list(self.weak_names), "birth_dates": list(self.birth_dates)}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class GoodsRule:
    """An export-control rule: goods whose HS code starts with `hs_prefix`, bound for one of
    `destinations` ("*" for anywhere), between `valid_from` and `valid_to` (inclusive)."""

    list: str
    version: str
    hs_prefix: str
    destinations: frozenset[str]
    action: Action
    tier: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""
    note: str = ""

    def applies(self, hs: str, destination: str, on: date) -> bool:
        return (
            hs.startswith(self.hs_prefix)
            and ("*" in self.destinations or destination in self.destinations)
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_to is None or on <= self.valid_to)
        )


@dataclass(frozen=True, slots=True)
class GoodsHit:
    """A goods rule that fired, with the list version that held it."""

    list: str
    version: str
    hs_prefix: str
    action: Action
    tier: str
    source: str
    note: str

    def public(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "version": self.version,
            "hs_prefix": self.hs_prefix,
            "action": self.action,
            "tier": self.tier,
            "source": self.source,
            "note": self.note,
        }


class Contribution(NamedTuple):
    """One feature's part in a score: its value, weight, and the sentence a user reads (a
    named tuple: a hit makes fourteen of them, and a tuple is made fastest)."""

    feature: str
    value: float
    weight: float
    why: str


@dataclass(frozen=True, slots=True)
class PartyHit:
    """A list entry a party matched: which of its names, how well, and why."""

    list: str
    version: str
    entry_id: str
    name: str
    matched_name: str
    score: float
    schema: str
    programs: tuple[str, ...]
    countries: tuple[str, ...]
    contributions: tuple[Contribution, ...] = field(default=())
    entry_digest: str = ""  # the entry as matched (a decision against it holds while it holds)

    @property
    def explanation(self) -> str:
        parts = [
            f"{c.why} ({c.value:.2f} × {c.weight:+.2f})" for c in self.contributions if c.value
        ]
        return f"{self.score:.3f} = " + "; ".join(parts)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "name": self.name,
            "matched_name": self.matched_name,
            "list": self.list,
            "version": self.version,
            "score": round(self.score, 4),
            "schema": self.schema,
            "programs": list(self.programs),
            "countries": list(self.countries),
            "explanation": self.explanation,
            "features": {c.feature: round(c.value, 4) for c in self.contributions},
            "entry_digest": self.entry_digest,
        }
