"""Company names as they appear on documents: Cyrillic for Kazakh, Russian, Kyrgyz and
Belarusian companies, Latin for the rest; and the spellings evaders use for a listed name.
"""

from __future__ import annotations

import random
import re

from anyascii import anyascii

from keruen.sim.tables import name_parts

CYRILLIC_COUNTRIES = frozenset({"KZ", "RU", "KG", "BY"})

_LATIN: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "CN": (
        (
            "Shenzhen",
            "Guangzhou",
            "Yiwu",
            "Urumqi",
            "Shanghai",
            "Ningbo",
            "Xiamen",
            "Qingdao",
            "Tianjin",
            "Dongguan",
            "Suzhou",
            "Chengdu",
            "Huaxin",
            "Xinyuan",
            "Jinlong",
            "Tianrui",
            "Hengtai",
            "Zhongke",
            "Dingsheng",
            "Ruifeng",
        ),
        (
            "Electronics",
            "Trading",
            "Machinery",
            "Technology",
            "Import & Export",
            "Industrial",
            "Supply Chain",
            "Components",
        ),
        "Co., Ltd.",
    ),
    "HK": (
        (
            "Pacific Rim",
            "Golden Bridge",
            "Silverline",
            "Harbour",
            "Kowloon",
            "Victoria",
            "Lucky Star",
            "Everbright",
        ),
        ("Trading", "Electronics", "Components"),
        "Limited",
    ),
    "DE": (
        (
            "Müller",
            "Schmidt",
            "Bauer",
            "Weber",
            "Fischer",
            "Wagner",
            "Becker",
            "Hoffmann",
            "Koch",
            "Richter",
            "Rhein",
            "Elbe",
        ),
        ("Maschinenbau", "Handel", "Technik", "Elektronik", "Logistik", "Pharma"),
        "GmbH",
    ),
    "US": (
        (
            "Midwest",
            "Pacific",
            "Atlantic",
            "Summit",
            "Liberty",
            "Northstar",
            "Pioneer",
            "Great Lakes",
            "Keystone",
            "Lone Star",
        ),
        ("Supply", "Industries", "Technologies", "Components", "Equipment"),
        "Inc.",
    ),
    "TR": (
        (
            "Anadolu",
            "Marmara",
            "Ege",
            "Yıldız",
            "Kardeşler",
            "Karadeniz",
            "Toros",
            "Bosphorus",
            "Kapadokya",
        ),
        ("Dış Ticaret", "Tekstil", "Gıda", "Makina", "Mobilya"),
        "A.Ş.",
    ),
    "KR": (
        ("Hanil", "Daesung", "Seoul", "Busan", "Hyundae", "Samil", "Kumho", "Daewon"),
        ("Electronics", "Motors", "Trading", "Industrial"),
        "Co., Ltd.",
    ),
    "JP": (
        ("Nippon", "Tokai", "Kansai", "Fuji", "Sakura", "Hokuto", "Yamato"),
        ("Shoji", "Trading", "Machinery", "Electronics"),
        "Corporation",
    ),
    "IT": (
        ("Lombarda", "Veneta", "Adriatica", "Rossi", "Bianchi", "Ferrari"),
        ("Meccanica", "Farmaceutici", "Alimentari", "Commerciale"),
        "S.r.l.",
    ),
    "IN": (
        ("Shree", "Bharat", "Ganga", "Deccan", "Sun", "Lotus"),
        ("Pharma", "Exports", "Industries", "Textiles"),
        "Pvt. Ltd.",
    ),
    "AE": (
        ("Gulf", "Emirates", "Falcon", "Oasis", "Pearl", "Jebel Ali"),
        ("Trading", "General Trading", "Logistics"),
        "FZE",
    ),
    "UZ": (
        ("Toshkent", "Samarqand", "Farg'ona", "Buxoro", "Navoiy", "Andijon"),
        ("Savdo", "Invest", "Trans", "Tekstil", "Agro"),
        "MChJ",
    ),
}
_GENERIC = (
    ("Nord", "Euro", "Global", "Prime", "Alpha", "Delta", "Orion", "Vector", "Astra"),
    ("Trading", "Industries", "Technologies", "Export", "Logistics"),
    "Ltd",
)
_FORMS = {
    "FR": "SAS",
    "PL": "Sp. z o.o.",
    "NL": "B.V.",
    "ES": "S.L.",
    "AT": "GmbH",
    "CH": "AG",
    "GB": "Ltd",
    "CZ": "s.r.o.",
    "BE": "NV",
    "SE": "AB",
    "GE": "LLC",
    "AZ": "MMC",
    "TJ": "LLC",
    "TM": "HJ",
    "VN": "JSC",
    "TW": "Co., Ltd.",
    "EU": "GmbH",
}


def company_name(country: str, rng: random.Random) -> str:
    """A plausible registered name for a company of `country`."""
    if country in CYRILLIC_COUNTRIES or country == "AM":
        return _local_name(country, rng)
    stems, trades, form = _LATIN.get(country, _GENERIC)
    form = _FORMS.get(country, form) if country not in _LATIN else form
    return f"{rng.choice(stems)} {rng.choice(trades)} {form}"


_ROMAN_FORMS = {
    "ООО": "LLC",
    "ОсОО": "LLC",
    "АО": "JSC",
    "ПАО": "PJSC",
    "ЗАО": "CJSC",
    "ОАО": "OJSC",
    "ЧУП": "PUE",
    "ТОО": "LLP",
}


def romanised(name: str) -> str:
    """A Cyrillic company name as firms write it on Latin-script documents:
    'ООО «Техноснаб»' -> 'Tekhnosnab LLC'."""
    form, _, rest = name.partition(" ")
    core = anyascii(rest.strip("«» ")).strip()
    return f"{core} {_ROMAN_FORMS.get(form, 'LLC')}" if form in _ROMAN_FORMS else anyascii(name)


def _local_name(country: str, rng: random.Random) -> str:
    parts = name_parts()
    form = rng.choice(parts[(country, "form")])
    stems = parts[(country, "stem")]
    core = rng.choice(stems) + (rng.choice(stems).lower() if rng.random() < 0.6 else "")
    if rng.random() < 0.5:
        core += "-" + rng.choice(parts[(country, "suffix")])
    return f"{core} {form}" if country == "AM" else f"{form} «{core}»"


def city(country: str, rng: random.Random) -> str:
    return rng.choice(name_parts().get((country, "city"), ("",)))


# --- spellings of a listed name -----------------------------------------------------------

_TO_CYRILLIC = [
    ("SHCH", "Щ"),
    ("KH", "Х"),
    ("ZH", "Ж"),
    ("TS", "Ц"),
    ("CH", "Ч"),
    ("SH", "Ш"),
    ("YU", "Ю"),
    ("YA", "Я"),
    ("YE", "Е"),
    ("YO", "Ё"),
    ("IY", "ИЙ"),
    ("AY", "АЙ"),
    ("OY", "ОЙ"),
    ("EY", "ЕЙ"),
    ("A", "А"),
    ("B", "Б"),
    ("V", "В"),
    ("W", "В"),
    ("G", "Г"),
    ("D", "Д"),
    ("E", "Е"),
    ("Z", "З"),
    ("I", "И"),
    ("J", "ДЖ"),
    ("K", "К"),
    ("L", "Л"),
    ("M", "М"),
    ("N", "Н"),
    ("O", "О"),
    ("P", "П"),
    ("R", "Р"),
    ("S", "С"),
    ("T", "Т"),
    ("U", "У"),
    ("F", "Ф"),
    ("Y", "Ы"),
    ("C", "К"),
    ("Q", "К"),
    ("X", "КС"),
    ("H", "Х"),
]
_FORMS_LATIN = {
    "FOREIGN LIMITED LIABILITY COMPANY": ("ИООО", "FLLC"),
    "LIMITED LIABILITY PARTNERSHIP": ("ТОО", "LLP"),
    "OPEN JOINT STOCK COMPANY": ("ОАО", "OJSC"),
    "OPEN JOINT-STOCK COMPANY": ("ОАО", "OJSC"),
    "CLOSED JOINT-STOCK COMPANY": ("ЗАО", "CJSC"),
    "PUBLIC JOINT STOCK COMPANY": ("ПАО", "PJSC"),
    "OJSC": ("ОАО", "OJSC"),
    "CJSC": ("ЗАО", "CJSC"),
    "OAO": ("ОАО", "OJSC"),
    "PJSC": ("ПАО", "PJSC"),
    "JSC": ("АО", "JSC"),
    "LIMITED LIABILITY COMPANY": ("ООО", "LLC"),
    "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU": ("ООО", "LLC"),
    "OBSHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU": ("ООО", "LLC"),
    "JOINT STOCK COMPANY": ("АО", "JSC"),
    "CLOSED JOINT STOCK COMPANY": ("ЗАО", "CJSC"),
    "LLC": ("ООО", "LLC"),
    "OOO": ("ООО", "LLC"),
    "OSOO": ("ОсОО", "LLC"),
    "ZAO": ("ЗАО", "CJSC"),
    "AO": ("АО", "JSC"),
    "TOO": ("ТОО", "LLP"),
    "LLP": ("ТОО", "LLP"),
}
_FORM_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _FORMS_LATIN), key=len, reverse=True)) + r")\b"
)


def to_cyrillic(latin: str) -> str:
    """Romanised Russian back to Cyrillic (BGN/PCGN-ish), as a Russian clerk would write it."""
    out, s, i = [], latin.upper(), 0
    while i < len(s):
        for lat, cyr in _TO_CYRILLIC:
            if s.startswith(lat, i):
                out.append(cyr)
                i += len(lat)
                break
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def split_form(name: str) -> tuple[str, str | None]:
    """(core name, legal form) of a listed name like 'OOO ORLAN' or 'TACO LLC'."""
    m = _FORM_RE.search(name.upper())
    if not m:
        return name.strip(" ,."), None
    core = (name[: m.start()] + name[m.end() :]).replace('"', "").strip(" ,.")
    return re.sub(r"\s+", " ", core), m.group(1)


def variant(listed: str, style: str, country: str = "RU") -> str:
    """A spelling of a listed name: 'translit' (Cyrillic, local legal form), 'abbrev' (Latin,
    short legal form after the name), 'case' (title case, legal form at the end)."""
    core, form = split_form(listed)
    cyr_form, lat_form = _FORMS_LATIN.get(form or "", ("ООО", "LLC"))
    if style == "translit":
        cyr_form = "ОсОО" if country == "KG" and cyr_form == "ООО" else cyr_form
        return f"{cyr_form} «{to_cyrillic(core).title()}»"
    if style == "abbrev":
        return f"{core.upper()} {lat_form}"
    return f"{core.title()} {lat_form}"


def short_core(listed: str) -> bool:
    """Whether a listed name is a short trade name (worth spelling in another script)."""
    core, _ = split_form(listed)
    return 0 < len(core.split()) <= 3 and not any(ch.isdigit() for ch in core)


def lookalike(listed: str, rng: random.Random) -> str:
    """A legitimate Russian company whose name shares the distinctive word of a listed one
    but is plainly another firm (another trade, another city)."""
    core, _ = split_form(listed)
    word = to_cyrillic(max(core.split(), key=len)).title()
    trade = rng.choice(("Агро", "Строй", "Фарм", "Мебель", "Текстиль", "Авто", "Молоко"))
    place = rng.choice(("Омск", "Курган", "Оренбург", "Барнаул", "Тюмень", "Самара"))
    return f"ООО «{word}-{trade} {place}»"
