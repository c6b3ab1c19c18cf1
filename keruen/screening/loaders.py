"""List files in, entries and rules out: OFAC SDN CSV, FollowTheMoney JSON lines, plain CSV,
goods-rule CSV, and the Common High Priority List shipped with Keruen.

Each loader returns a `Loaded` (list name, version, entries or rules). The version is the one
the caller gives, else a digest of the file contents, so loading the same file twice is a no-op
and loading a changed file makes a new version. A malformed file raises `ListFormatError`
naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from keruen.errors import KeruenError
from keruen.reference import data_path
from keruen.screening.countries import country_code
from keruen.screening.model import ACTIONS, Entry, GoodsRule, Identifier
from keruen.watch import WATCHED_DESTINATIONS

CHPL_FILE = "chpl_common_high_priority_list.csv"
OFAC_DEMO_FILE = "ofac_sdn_russia_related_eurasia_subset.csv"
CHPL_DESTINATIONS = WATCHED_DESTINATIONS
CHPL_SOURCE = "EU/US/UK/Japan Common High Priority List (BIS notice of 2024-02-23)"


class ListFormatError(KeruenError):
    """A list file that cannot be read: names the file, the line and the field."""

    status = 422

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}" + (f" line {line}" if line else "") + f": {reason}")


@dataclass
class Loaded:
    """What one file (or file set) holds: a party list or a goods-rule list, with its version."""

    name: str
    kind: str  # "parties" | "goods"
    version: str
    source: str
    entries: list[Entry] = field(default_factory=list)
    rules: list[GoodsRule] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.entries) + len(self.rules)


def digest(*paths: Path) -> str:
    """A short content digest: the default version of a list."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ListFormatError(path, None, "no such file")
    return path


# --- goods -------------------------------------------------------------------------------


def chpl(version: str | None = None) -> Loaded:
    """The Common High Priority List shipped in keruen/data (tiers 1-2 block, 3-4 flag)."""
    path = Path(data_path(CHPL_FILE))
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    version = version or rows[0]["list_version"]
    start = date.fromisoformat(rows[0]["list_version"])
    rules = [
        GoodsRule(
            list="chpl",
            version=version,
            hs_prefix=r["hs6"],
            destinations=CHPL_DESTINATIONS,
            action="block" if r["tier_major"] in ("1", "2") else "flag",
            tier=r["tier"],
            valid_from=start,
            source=CHPL_SOURCE,
            note=r["tier_definition"],
        )
        for r in rows
    ]
    return Loaded("chpl", "goods", version, CHPL_SOURCE, rules=rules)


GOODS_COLUMNS = ("hs_prefix", "destinations", "action")


def goods_csv(path: Path, name: str, version: str | None = None, source: str = "") -> Loaded:
    """An administrator's rule list: hs_prefix, destinations ("RU;BY" or "*"), action
    (block|licence|flag), and optional tier, valid_from, valid_to, source, note."""
    _require(path)
    version = version or digest(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in GOODS_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ListFormatError(path, 1, f"missing column(s) {', '.join(missing)}")
        rules = [
            _goods_rule(path, n, row, name, version, source) for n, row in enumerate(reader, 2)
        ]
    return Loaded(name, "goods", version, source or str(path), rules=rules)


def _goods_rule(
    path: Path, line: int, row: dict[str, str], name: str, version: str, source: str
) -> GoodsRule:
    prefix = (row["hs_prefix"] or "").replace(".", "").strip()
    if not re.fullmatch(r"\d{2,10}", prefix):
        raise ListFormatError(path, line, f"hs_prefix: {prefix!r} is not 2 to 10 digits")
    action = (row["action"] or "").strip().lower()
    if action not in ACTIONS:
        raise ListFormatError(path, line, f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    dests = frozenset(
        d.strip().upper() for d in re.split(r"[;, ]+", row["destinations"] or "") if d.strip()
    )
    if not dests or any(d != "*" and not re.fullmatch(r"[A-Z]{2}", d) for d in dests):
        raise ListFormatError(path, line, "destinations: ISO alpha-2 codes separated by ; or *")
    return GoodsRule(
        list=name,
        version=version,
        hs_prefix=prefix,
        destinations=dests,
        action=action,
        tier=(row.get("tier") or "").strip(),
        valid_from=_date(path, line, "valid_from", row.get("valid_from")),
        valid_to=_date(path, line, "valid_to", row.get("valid_to")),
        source=(row.get("source") or source).strip(),
        note=(row.get("note") or "").strip(),
    )


def _date(path: Path, line: int, column: str, value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ListFormatError(path, line, f"{column}: {value!r} is not a YYYY-MM-DD date") from None


# --- parties: OFAC -----------------------------------------------------------------------

_NONE = "-0-"
_OFAC_SCHEMA = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft"}
_ID_LABELS = {
    "Tax ID No.": "tax",
    "Registration Number": "registration",
    "Registration ID": "registration",
    "Company Number": "registration",
    "Business Registration Number": "registration",
    "Government Gazette Number": "registration",
    "Public Registration Number": "registration",
    "Identification Number": "national_id",
    "National ID No.": "national_id",
    "Personal ID Card": "national_id",
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "Vessel Registration Identification IMO": "imo",
    "IMO": "imo",
    "MMSI": "mmsi",
    "SWIFT/BIC": "swift",
    "BIK (RU)": "bik",
    "Legal Entity Number": "lei",
}
_ID_PATTERN = re.compile(
    r"(?P<label>"
    + "|".join(re.escape(k) for k in sorted(_ID_LABELS, key=len, reverse=True))
    + r")\s+(?P<value>[A-Za-z0-9][A-Za-z0-9./-]*[A-Za-z0-9])(?:\s+\((?P<country>[^)]+)\))?"
)
_NATIONALITY = re.compile(r"(?:nationality|citizen|Vessel Flag) ([A-Z][A-Za-z ,]+?)(?=;|\.|$)")


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DOB = re.compile(r"DOB (?:circa |c\. )?(?:(\d{1,2}) )?(?:([A-Z][a-z]{2}) )?(\d{4})")


def remark_birth_dates(remarks: str) -> tuple[str, ...]:
    """Dates of birth written into OFAC remarks ("DOB 10 Dec 1948", "DOB Aug 1962", "DOB 1946";
    a range "1960 to 1962" keeps its first year), as ISO prefixes."""
    found = []
    for day, month, year in _DOB.findall(remarks):
        parts = [year]
        if month in _MONTHS:
            parts.append(f"{_MONTHS[month]:02d}")
            if day:
                parts.append(f"{int(day):02d}")
        found.append("-".join(parts))
    return tuple(dict.fromkeys(found))


def remark_ids(remarks: str) -> tuple[Identifier, ...]:
    """Identifiers written into OFAC remarks ("Tax ID No. 7705001013 (Russia)"), with the scheme
    named the way Russian and Kazakh registries call them where the country tells."""
    found: list[Identifier] = []
    for m in _ID_PATTERN.finditer(remarks):
        value = m["value"].rstrip(".")
        if value.startswith("IMO"):
            value = value[3:]
        country = country_code(m["country"]) if m["country"] else None
        found.append(Identifier(_scheme(_ID_LABELS[m["label"]], value, country), value, country))
    return tuple(dict.fromkeys(found))


def _scheme(kind: str, value: str, country: str | None) -> str:
    digits = value.isdigit()
    if country == "RU" and digits and kind in ("tax", "registration"):
        return {10: "inn", 12: "inn", 13: "ogrn", 15: "ogrnip"}.get(len(value), kind)
    if country == "KZ" and digits and len(value) == 12:
        return "bin"
    return kind


def ofac(
    path: Path,
    alt: Path | None = None,
    add: Path | None = None,
    version: str | None = None,
    name: str = "ofac-sdn",
) -> Loaded:
    """OFAC's SDN list: `sdn.csv` (legacy, header-less) with `alt.csv` and `add.csv` found beside
    it (any of `alt.csv`, `ofac_alt.csv`, `sdn_alt.csv`) unless given; OFAC's `SDN.XML`; or
    Keruen's flattened extract with a header (ent_num, name, ...)."""
    _require(path)
    from keruen.screening.ofac_xml import is_ofac_xml, ofac_xml  # it builds on this module

    if is_ofac_xml(path):
        return ofac_xml(path, version, name)
    if path.read_text(encoding="latin-1")[:8] == "ent_num,":
        return ofac_extract(path, version, name)
    alt = alt or _beside(path, "alt")
    add = add or _beside(path, "add")
    files = [p for p in (path, alt, add) if p]
    version = version or digest(*files)
    aliases = _ofac_side(alt, lambda r: (r[0], r[3])) if alt else {}
    places = _ofac_side(add, lambda r: (r[0], r[4])) if add else {}
    entries = [_ofac_entry(name, row, aliases, places) for row in _ofac_rows(path, 12)]
    return Loaded(
        name, "parties", version, "OFAC SDN list: " + ", ".join(map(str, files)), entries=entries
    )


def _beside(path: Path, kind: str) -> Path | None:
    stem = path.stem.lower()
    for candidate in (stem.replace("sdn", kind), kind, f"ofac_{kind}", f"sdn_{kind}"):
        p = path.with_name(candidate + path.suffix)
        if candidate != stem and p.is_file():
            return p
    return None


def _ofac_rows(path: Path, width: int) -> Iterator[list[str | None]]:
    with path.open(encoding="latin-1", newline="") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if len(row) < 2:  # the DOS end-of-file marker, blank lines
                continue
            if len(row) != width:
                raise ListFormatError(path, n, f"{len(row)} fields, OFAC's layout has {width}")
            yield [None if v.strip() == _NONE else v.strip() for v in row]


def _ofac_side(path: Path, pick: Any) -> dict[str, list[str]]:
    width = 5 if "alt" in path.name else 6
    out: dict[str, list[str]] = defaultdict(list)
    for row in _ofac_rows(path, width):
        key, value = pick(row)
        if key and value:
            out[key].append(value)
    return out


def _ofac_entry(
    name: str, row: list[str | None], aliases: dict[str, list[str]], places: dict[str, list[str]]
) -> Entry:
    ent, primary, kind, programs = row[0] or "", row[1] or "", row[2], row[3] or ""
    remarks = row[11] or ""
    countries = [c for c in map(country_code, places.get(ent, [])) if c]
    countries += [c for c in (country_code(m) for m in _NATIONALITY.findall(remarks)) if c]
    if row[9]:
        countries.append(country_code(row[9]) or "")
    return Entry(
        list=name,
        id=ent,
        schema=_OFAC_SCHEMA.get(kind or "", "organization"),
        names=tuple(dict.fromkeys([primary, *aliases.get(ent, [])])),
        ids=remark_ids(remarks),
        countries=tuple(c for c in dict.fromkeys(countries) if c),
        programs=tuple(p.strip("[] ") for p in programs.split("] [")),
        remarks=remarks,
        birth_dates=remark_birth_dates(remarks),
    )


def ofac_extract(path: Path, version: str | None = None, name: str = "ofac-sdn") -> Loaded:
    """Keruen's flattened OFAC extract (keruen/data/ofac_sdn_russia_related_eurasia_subset.csv)."""
    version = version or digest(path)
    entries = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            aliases = [a.split(": ", 1)[-1] for a in (row["aliases"] or "").split(" | ") if a]
            countries = [country_code(c) for c in (row["address_countries"] or "").split("; ")]
            entries.append(
                Entry(
                    list=name,
                    id=row["ent_num"],
                    schema=_OFAC_SCHEMA.get(row["sdn_type"], "organization"),
                    names=tuple(dict.fromkeys([row["name"], *aliases])),
                    ids=remark_ids(row["remarks"] or ""),
                    countries=tuple(c for c in dict.fromkeys(countries) if c),
                    programs=tuple(p for p in (row["programs"] or "").split("; ") if p),
                    remarks=row["remarks"] or "",
                    birth_dates=remark_birth_dates(row["remarks"] or ""),
                )
            )
    return Loaded(name, "parties", version, f"OFAC SDN extract: {path}", entries=entries)


def ofac_demo() -> Loaded:
    """The OFAC extract shipped with Keruen, for demos and first runs."""
    return ofac_extract(Path(data_path(OFAC_DEMO_FILE)))


# --- parties: FollowTheMoney and plain CSV -----------------------------------------------

_FTM_NAMES = ("name", "alias", "previousName", "abbreviation")
_FTM_IDS = {
    "innCode": "inn",
    "ogrnCode": "ogrn",
    "taxNumber": "tax",
    "imoNumber": "imo",
    "registrationNumber": "registration",
    "passportNumber": "passport",
    "idNumber": "national_id",
    "leiCode": "lei",
    "swiftBic": "swift",
    "mmsi": "mmsi",
    "okpoCode": "okpo",
    "vatCode": "vat",
}
_FTM_COUNTRIES = ("country", "nationality", "citizenship", "jurisdiction", "flag", "mainCountry")
_FTM_SCHEMA = {
    "Person": "person",
    "Vessel": "vessel",
    "Airplane": "aircraft",
    "Company": "organization",
    "Organization": "organization",
    "LegalEntity": "organization",
    "PublicBody": "organization",
}


def ftm(path: Path, name: str, version: str | None = None) -> Loaded:
    """FollowTheMoney entities, one JSON object a line (OpenSanctions `entities.ftm.json`)."""
    _require(path)
    version = version or digest(path)
    entries = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                entry = _ftm_entry(path, n, line, name)
                if entry:
                    entries.append(entry)
    return Loaded(name, "parties", version, f"FollowTheMoney: {path}", entries=entries)


def _ftm_entry(path: Path, n: int, line: str, name: str) -> Entry | None:
    try:
        data = json.loads(line)
        props: dict[str, list[str]] = data.get("properties") or {}
        schema = _FTM_SCHEMA.get(data.get("schema", ""))
        entity_id = str(data["id"])
    except (ValueError, KeyError, AttributeError) as e:
        raise ListFormatError(path, n, f"not a FollowTheMoney entity ({e})") from None
    names = [v for p in _FTM_NAMES for v in props.get(p, [])]
    weak = [v for v in props.get("weakAlias", []) if v not in names]
    if schema is None or not (names or weak):  # addresses, sanctions, ownership: not parties
        return None
    return Entry(
        list=name,
        id=entity_id,
        schema=schema,
        names=tuple(dict.fromkeys(names)),
        ids=tuple(Identifier(s, v) for p, s in _FTM_IDS.items() for v in props.get(p, [])),
        countries=tuple(
            dict.fromkeys(
                c.upper() for p in _FTM_COUNTRIES for c in props.get(p, []) if len(c) == 2
            )
        ),
        programs=tuple(props.get("program", []) + props.get("topics", [])),
        remarks="; ".join(props.get("notes", [])),
        weak_names=tuple(dict.fromkeys(weak)),
        birth_dates=tuple(dict.fromkeys(d[:10] for d in props.get("birthDate", []) if d)),
    )


def parties_csv(path: Path, name: str, version: str | None = None) -> Loaded:
    """A plain CSV: name (required), and optional id, aliases ("|"-separated), weak_aliases
    ("|"), schema, countries (";"), ids (";", each `value` or `scheme:value`), programs (";"),
    birth_dates (";", YYYY[-MM[-DD]]), remarks."""
    _require(path)
    version = version or digest(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "name" not in (reader.fieldnames or ()):
            raise ListFormatError(path, 1, "missing column name")
        entries = [_csv_entry(path, n, row, name) for n, row in enumerate(reader, 2)]
    return Loaded(name, "parties", version, f"CSV: {path}", entries=entries)


def _csv_entry(path: Path, n: int, row: dict[str, str], name: str) -> Entry:
    primary = (row.get("name") or "").strip()
    if not primary:
        raise ListFormatError(path, n, "name: empty")
    schema = (row.get("schema") or "unknown").strip().lower()
    if schema not in ("person", "organization", "vessel", "aircraft", "unknown"):
        raise ListFormatError(
            path, n, f"schema: {schema!r} is not person, organization, vessel, aircraft or unknown"
        )
    return Entry(
        list=name,
        id=(row.get("id") or "").strip() or str(n - 1),
        schema=schema,
        names=tuple(dict.fromkeys([primary, *_split(row.get("aliases"), "|")])),
        ids=tuple(_csv_id(v) for v in _split(row.get("ids"), ";")),
        countries=tuple(c for c in map(country_code, _split(row.get("countries"), ";")) if c),
        programs=tuple(_split(row.get("programs"), ";")),
        remarks=row.get("remarks") or "",
        weak_names=tuple(_split(row.get("weak_aliases"), "|")),
        birth_dates=tuple(_birth_date(path, n, v) for v in _split(row.get("birth_dates"), ";")),
    )


_ISO_PREFIX = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _birth_date(path: Path, n: int, value: str) -> str:
    if not _ISO_PREFIX.match(value):
        raise ListFormatError(path, n, f"birth_dates: {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    return value


def _split(value: str | None, sep: str) -> list[str]:
    return [v.strip() for v in (value or "").split(sep) if v.strip()]


def _csv_id(value: str) -> Identifier:
    scheme, _, rest = value.partition(":")
    return Identifier(scheme.strip().lower(), rest.strip()) if rest else Identifier("id", value)


def entries_of(loaded: Iterable[Loaded]) -> list[Entry]:
    return [e for lst in loaded for e in lst.entries]
