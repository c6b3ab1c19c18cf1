"""Entities on the OFAC list (the Eurasian subset shipped in keruen/data) that a scheme can
trade with under another spelling: their names, aliases, country and identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from keruen import reference
from keruen.sim.names import variant
from keruen.sim.world import Company, World

COUNTRY = {"Russia": "RU", "Belarus": "BY", "Kyrgyzstan": "KG", "Armenia": "AM", "Kazakhstan": "KZ"}
_TAX_ID = re.compile(
    r"(Tax ID No\.|Identification Number|Registration Number) "
    r"([0-9A-Z./-]+) \((Russia|Kyrgyzstan|Armenia|Belarus|Kazakhstan)\)"
)
_NOT_TRADERS = re.compile(
    r"BANK|DIRECTORATE|DETENTION|CLUB|COMMITTEE|DEPARTMENT|MINISTRY|"
    r"OLYMPIC|KURORT|MILITARY|SBER|LEASING|ASSOCIATION|GUVD|UVD"
)


@dataclass(frozen=True, slots=True)
class Listed:
    ent_num: str
    name: str
    aliases: tuple[str, ...]
    country: str
    tax_id: str


@cache
def listed_entities() -> tuple[Listed, ...]:
    """Listed entities with an address in an EAEU state, in file order."""
    out = []
    for r in reference.read_rows("ofac_sdn_russia_related_eurasia_subset.csv"):
        if r["sdn_type"] != "entity":
            continue
        places = [COUNTRY[c] for c in r["address_countries"].split("; ") if c in COUNTRY]
        if not places or _NOT_TRADERS.search(r["name"]):
            continue
        aliases = tuple(a.split(": ", 1)[1] for a in r["aliases"].split(" | ") if ": " in a)
        out.append(
            Listed(
                r["ent_num"], r["name"], aliases, places[0], _identifier(r["remarks"], places[0])
            )
        )
    return tuple(out)


def _identifier(remarks: str, country: str) -> str:
    """The entity's tax number in its own country (registration number if no tax number)."""
    found = {label: value for label, value, c in _TAX_ID.findall(remarks) if COUNTRY[c] == country}
    return next(
        (
            found[k]
            for k in ("Tax ID No.", "Identification Number", "Registration Number")
            if k in found
        ),
        "",
    )


def buyers() -> tuple[Listed, ...]:
    """Listed entities a Kazakh seller could dispatch to (a partner state of the union)."""
    return tuple(e for e in listed_entities() if e.country in ("RU", "BY", "KG", "AM"))


def kazakh() -> tuple[Listed, ...]:
    """Listed Kazakh companies whose BIN is on the list (they appear as holders)."""
    from keruen.jurisdiction import kz_bin_problem

    return tuple(
        e
        for e in listed_entities()
        if e.country == "KZ" and e.tax_id and kz_bin_problem(e.tax_id) is None
    )


def listed_buyer(world: World, e: Listed, style: str, keep_id: bool) -> Company:
    """A buyer that is the listed entity `e` under another spelling (`style`: translit,
    abbrev, case or alias), with its listed tax number if `keep_id`."""
    name = e.aliases[0] if style == "alias" and e.aliases else e.name
    spelled = variant(name, "translit" if style == "alias" else style, e.country)
    registered = world.registration(world.start, 1995)
    c = world.new_foreign(e.country, "buyer", registered, spelled, e.tax_id if keep_id else "")
    world.extra.append(c)
    return c


def listed_holder(world: World, e: Listed) -> Company:
    """The listed Kazakh company `e` as a holder (its BIN is the one on the list)."""
    registered = date(2000 + int(e.tax_id[:2]), int(e.tax_id[2:4]), 1)
    known = next((c for c in world.extra if c.tax_id == e.tax_id), None)
    if known:
        return known
    c = Company(e.tax_id, variant(e.name, "translit", "KZ"), "KZ", "trader", registered)
    world.extra.append(c)
    world.taken.add(c.tax_id)
    return c
