"""Partner and reporter labels of trade statistics to codes: ISO 3166-1 alpha-2 for countries,
a named code for aggregates, which the files mix with countries in the same column.

Every aggregate has a code here so that it is recognised and never added into a sum of
countries; labels that differ but name the same thing (`Czechia` / `Czech Republic`,
`EU27_2020` / `European Union - 27 countries (from 2020)`) resolve to the same code.
"""

from __future__ import annotations

from keruen.screening.countries import country_code

_EU27 = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EU27 = frozenset(_EU27.split(" "))
# aggregate code -> its labels in the files; a code's members when they are known and fixed
AGGREGATES: dict[str, tuple[str, ...]] = {
    "EU27": ("European Union - 27 countries (from 2020)", "EU27_2020", "EU27"),
    "EU": ("European Union (EU)", "EU (changing composition)"),
    "EA20": ("EA20", "Euro area (changing composition)"),
    "EUROPE": ("Europe",),
    "EAEU": ("Eurasian Economic Union",),
    "CIS": ("Commonwealth of Independent States",),
    "WORLD": ("World",),
    "REST": ("Rest of the world", "Other countries"),
    "NON_EAEU": ("Non-EAEU countries",),
    "NON_EU": ("Non-EU countries",),
    "EXTRA_EU27": ("Extra-EU27 (from 2020)",),
}
MEMBERS = {"EU27": EU27}
ALIASES = {
    "The Republic of Korea": "KR",
    "Republic of Korea": "KR",
    "South Korea": "KR",
    "Korea (DPRK)": "KP",
    "Democratic People's Republic of Korea": "KP",
    "Iran": "IR",
    "Moldova": "MD",
    "Réunion": "RE",
    "Turks and Caicos Islands": "TC",
    "United States Virgin Islands": "VI",
    "Hong Kong": "HK",
    "Macao": "MO",
    "Viet Nam": "VN",
    "Türkiye": "TR",
    "Russian Federation": "RU",
    "Kyrgyz Republic": "KG",
}
_LABELS = {label.casefold(): code for code, labels in AGGREGATES.items() for label in labels}


def resolve(label: str) -> str | None:
    """The code a label names, or None when nothing here knows it."""
    text = label.strip()
    if text.casefold() in _LABELS:
        return _LABELS[text.casefold()]
    if text in ALIASES:
        return ALIASES[text]
    return country_code(text)


def is_aggregate(code: str) -> bool:
    return code in AGGREGATES


def canonical(code: str) -> str:
    """The preferred label of an aggregate (the first listed), else the code itself."""
    return AGGREGATES[code][0] if code in AGGREGATES else code
