"""OFAC's SDN list in its XML format (SDN.XML, `sdnList` / `sdnEntry`), SPEC C4 beside the CSV.

What the XML says and the CSV does not: whether an alias is strong or weak (`category`), the
dates of birth and nationalities as fields, identifiers with their type and country. Parsed
as a stream (the full list is ~100 MB) with entity resolution and network access off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from keruen.screening.countries import country_code
from keruen.screening.loaders import (
    _ID_LABELS,
    _MONTHS,
    _OFAC_SCHEMA,
    ListFormatError,
    Loaded,
    _require,
    _scheme,
    digest,
)
from keruen.screening.model import Entry, Identifier


def is_ofac_xml(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def ofac_xml(path: Path, version: str | None = None, name: str = "ofac-sdn") -> Loaded:
    """Every `sdnEntry` of an OFAC SDN.XML file as an entry."""
    _require(path)
    entries = list(_entries(path, name))
    return Loaded(
        name, "parties", version or digest(path), f"OFAC SDN XML: {path}", entries=entries
    )


def _entries(path: Path, name: str) -> Iterator[Entry]:
    parser = etree.iterparse(
        str(path), events=("end",), tag="{*}sdnEntry", resolve_entities=False, no_network=True
    )
    try:
        for _, node in parser:
            yield _entry(node, name, path)
            node.clear()
    except etree.XMLSyntaxError as e:
        raise ListFormatError(path, e.lineno, f"not well-formed XML: {e.msg}") from None


def _text(node: Any, tag: str) -> str:
    found = node.find(f"{{*}}{tag}")
    return (found.text or "").strip() if found is not None and found.text else ""


def _all(node: Any, path: str) -> list[Any]:
    return list(node.iterfind("/".join(f"{{*}}{p}" for p in path.split("/"))))


def _full_name(node: Any) -> str:
    last, first = _text(node, "lastName"), _text(node, "firstName")
    return f"{last}, {first}" if last and first else last or first


def _entry(node: Any, name: str, path: Path) -> Entry:
    uid = _text(node, "uid")
    primary = _full_name(node)
    if not uid or not primary:
        raise ListFormatError(path, node.sourceline, "sdnEntry without uid or lastName")
    strong, weak = [primary], list[str]()
    for aka in _all(node, "akaList/aka"):
        alias = _full_name(aka)
        if alias:
            (weak if _text(aka, "category").lower() == "weak" else strong).append(alias)
    countries = [
        country_code(_text(n, "country"))
        for n in _all(node, "addressList/address")
        + _all(node, "nationalityList/nationality")
        + _all(node, "citizenshipList/citizenship")
    ]
    flag = _all(node, "vesselInfo/vesselFlag")
    countries += [country_code(f.text or "") for f in flag]
    kind = _text(node, "sdnType").lower()
    return Entry(
        list=name,
        id=uid,
        schema=_OFAC_SCHEMA.get(kind, "organization"),
        names=tuple(dict.fromkeys(strong)),
        ids=tuple(dict.fromkeys(_id(i) for i in _all(node, "idList/id") if _text(i, "idNumber"))),
        countries=tuple(c for c in dict.fromkeys(countries) if c),
        programs=tuple(p.text.strip() for p in _all(node, "programList/program") if p.text),
        remarks=_text(node, "remarks"),
        weak_names=tuple(dict.fromkeys(w for w in weak if w not in strong)),
        birth_dates=tuple(
            dict.fromkeys(
                d
                for item in _all(node, "dateOfBirthList/dateOfBirthItem")
                if (d := _iso_prefix(_text(item, "dateOfBirth")))
            )
        ),
    )


def _id(node: Any) -> Identifier:
    label, value = _text(node, "idType"), _text(node, "idNumber")
    country = country_code(_text(node, "idCountry")) if _text(node, "idCountry") else None
    kind = _ID_LABELS.get(label, label.lower().replace(" ", "_").strip(".") or "id")
    return Identifier(_scheme(kind, value, country), value, country)


def _iso_prefix(text: str) -> str | None:
    """OFAC writes "30 Aug 1954", "Aug 1954", "1954" or "circa 1954"."""
    parts = text.replace("circa", "").split()
    if not parts or not parts[-1].isdigit() or len(parts[-1]) != 4:
        return None
    out = parts[-1]
    if len(parts) >= 2 and parts[-2] in _MONTHS:
        out += f"-{_MONTHS[parts[-2]]:02d}"
        if len(parts) >= 3 and parts[-3].isdigit():
            out += f"-{int(parts[-3]):02d}"
    return out
