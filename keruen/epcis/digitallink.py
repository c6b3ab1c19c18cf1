"""GS1 identifiers in their constrained canonical GS1 Digital Link form (CBV 2.0, section 8.9).

EPC URIs (`urn:epc:id:...`), EPC class URIs (`urn:epc:class:lgtin:...`), EPC pattern URIs
(`urn:epc:idpat:...`) and GS1 Digital Link URIs on any domain all become
`https://id.gs1.org/<AI>/<key>[/<AI>/<qualifier>]` with only the finest level of
identification. Anything else gives None: the caller keeps the value as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["check_digit", "to_digital_link"]

ROOT = "https://id.gs1.org/"
_SAFE = {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}
_URN_CHAR = r"(?:%[0-9A-Fa-f]{2}|[!')(*+,.0-9:;=A-Za-z_-])"
_URN_TAIL = re.compile(rf"{_URN_CHAR}+")
_Converter = Callable[[list[str]], str | None]


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit: weights 3 and 1 alternating from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _escape(text: str) -> str:
    return "".join(_SAFE.get(ch, ch) for ch in text)


def _with_check(digits: str) -> str:
    return digits + check_digit(digits)


def _gtin(prefix: str, item: str) -> str | None:
    """GTIN-14 from an EPC's company prefix and its indicator + item reference."""
    if not (prefix + item).isdigit() or len(prefix) + len(item) != 13 or len(prefix) < 6:
        return None
    return _with_check(item[0] + prefix + item[1:])


def _key(prefix: str, ref: str, width: int) -> str | None:
    """Company prefix + reference of a fixed total width, digits only (GLN, GDTI, ...)."""
    if not (prefix + ref).isdigit() or len(prefix) + len(ref) != width or len(prefix) < 6:
        return None
    return prefix + ref


def _tail(text: str, limit: int) -> bool:
    return bool(_URN_TAIL.fullmatch(text)) and len(text) <= limit if text else False


def _sgtin(p: list[str]) -> str | None:
    gtin = _gtin(p[0], p[1]) if len(p) == 3 and _tail(p[2], 60) else None
    return f"01/{gtin}/21/{_escape(p[2])}" if gtin else None


def _lgtin(p: list[str]) -> str | None:
    gtin = _gtin(p[0], p[1]) if len(p) == 3 and _tail(p[2], 60) else None
    return f"01/{gtin}/10/{_escape(p[2])}" if gtin else None


def _upui(p: list[str]) -> str | None:
    gtin = _gtin(p[0], p[1]) if len(p) == 3 and _tail(p[2], 84) else None
    return f"01/{gtin}/235/{_escape(p[2])}" if gtin else None


def _sscc(p: list[str]) -> str | None:
    if len(p) != 2 or not (p[0] + p[1]).isdigit() or len(p[0]) + len(p[1]) != 17:
        return None
    return "00/" + _with_check(p[1][0] + p[0] + p[1][1:])


def _sgln(p: list[str]) -> str | None:
    gln = _key(p[0], p[1], 12) if len(p) == 3 and _tail(p[2], 60) else None
    if gln is None:
        return None
    extension = "" if p[2] == "0" else f"/254/{_escape(p[2])}"
    return f"414/{_with_check(gln)}{extension}"


def _grai(p: list[str]) -> str | None:
    key = _key(p[0], p[1], 12) if len(p) == 3 and _tail(p[2], 48) else None
    return f"8003/{_with_check('0' + key)}{_escape(p[2])}" if key else None


def _gdti(p: list[str]) -> str | None:
    key = _key(p[0], p[1], 12) if len(p) == 3 and _tail(p[2], 60) else None
    return f"253/{_with_check(key)}{_escape(p[2])}" if key else None


def _sgcn(p: list[str]) -> str | None:
    key = _key(p[0], p[1], 12) if len(p) == 3 and p[2].isdigit() else None
    return f"255/{_with_check(key)}{p[2]}" if key else None


def _free(ai: str) -> _Converter:
    def convert(p: list[str]) -> str | None:
        ok = len(p) == 2 and p[0].isdigit() and len(p[0]) >= 6 and _tail(p[1], 90)
        return f"{ai}/{p[0]}{_escape(p[1])}" if ok else None

    return convert


def _digits(ai: str, width: int) -> _Converter:
    def convert(p: list[str]) -> str | None:
        key = _key(p[0], p[1], width) if len(p) == 2 else None
        return f"{ai}/{_with_check(key)}" if key else None

    return convert


def _cpi(p: list[str]) -> str | None:
    ok = len(p) == 3 and p[0].isdigit() and p[2].isdigit() and bool(p[1])
    return f"8010/{_escape(p[0] + p[1])}/8011/{p[2]}" if ok else None


def _itip(p: list[str]) -> str | None:
    ok = len(p) == 5 and len(p[2]) == 2 and len(p[3]) == 2 and (p[2] + p[3]).isdigit()
    gtin = _gtin(p[0], p[1]) if ok and _tail(p[4], 60) else None
    return f"8006/{gtin}{p[2]}{p[3]}/21/{_escape(p[4])}" if gtin else None


_ID: dict[str, _Converter] = {
    "sgtin": _sgtin,
    "sscc": _sscc,
    "sgln": _sgln,
    "grai": _grai,
    "giai": _free("8004"),
    "gsrn": _digits("8018", 17),
    "gsrnp": _digits("8017", 17),
    "gdti": _gdti,
    "cpi": _cpi,
    "sgcn": _sgcn,
    "ginc": _free("401"),
    "gsin": _digits("402", 16),
    "itip": _itip,
    "upui": _upui,
    "pgln": _digits("417", 12),
}


def _idpat(scheme: str, p: list[str]) -> str | None:
    """`idpat` URIs keep their key only (the `*` stands for any serial)."""
    if not p or p[-1] != "*":
        return None
    head = p[:-1]
    if scheme in ("sgtin", "upui") and len(head) == 2:
        gtin = _gtin(head[0], head[1])
        return f"01/{gtin}" if gtin else None
    if scheme == "itip" and len(head) == 4:
        gtin = _gtin(head[0], head[1])
        ok = gtin and len(head[2]) == len(head[3]) == 2 and (head[2] + head[3]).isdigit()
        return f"8006/{gtin}{head[2]}{head[3]}" if ok else None
    if scheme == "cpi" and len(head) == 2 and head[0].isdigit():
        return f"8010/{_escape(head[0] + head[1])}"
    width_ai = {"grai": ("8003", "0"), "gdti": ("253", ""), "sgcn": ("255", "")}
    if scheme in width_ai and len(head) == 2:
        key = _key(head[0], head[1], 12)
        ai, pad = width_ai[scheme]
        return f"{ai}/{_with_check(pad + key)}" if key else None
    return None


def _from_urn(uri: str) -> str | None:
    parts = uri.split(":", 4)
    if len(parts) != 5 or parts[0] != "urn" or parts[1] != "epc":
        return None
    kind, scheme, body = parts[2], parts[3], parts[4]
    fields = body.split(".")
    if kind == "id" and scheme in _ID:
        path = _ID[scheme](fields)
    elif kind == "class" and scheme == "lgtin":
        path = _lgtin(fields)
    elif kind == "idpat":
        path = _idpat(scheme, fields)
    else:
        path = None
    return ROOT + path if path else None


_ALIASES = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417",
    "gsrnp": "8017", "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253",
    "ginc": "401", "gsin": "402", "grai": "8003", "giai": "8004",
    "cpv": "22", "lot": "10", "ser": "21",
}  # fmt: skip
_PRIMARY = {"01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401",
            "402", "8003", "8004"}  # fmt: skip
_X = r"[\"'\-.0-9;-?A-Z_a-z]"
_CANONICAL = re.compile(
    "|".join(
        [
            r"00/\d{18}",
            rf"01/\d{{14}}(?:/21/{_X}{{0,20}}|/10/{_X}{{0,20}}|/235/{_X}{{0,28}})?",
            rf"253/\d{{13}}{_X}{{0,17}}",
            r"255/\d{13}\d{0,12}",
            rf"401/{_X}{{0,30}}",
            r"402/\d{17}",
            rf"414/\d{{13}}(?:/254/{_X}{{0,20}})?",
            r"417/\d{13}",
            rf"8003/\d{{14}}{_X}{{0,16}}",
            rf"8004/{_X}{{0,30}}",
            rf"8006/\d{{18}}(?:/21/{_X}{{0,20}}|/10/{_X}{{0,20}})?",
            r"8010/[#\-/0-9A-Z]{0,30}(?:/8011/\d{0,12})?",
            r"8017/\d{18}",
            r"8018/\d{18}",
        ]
    )
)


# what urlsplit takes out of a URL before splitting it
_UNSAFE = str.maketrans("", "", "\t\r\n")
_FOUR_DIGITS = re.compile(r"\d{4}")


def _from_digital_link(uri: str) -> str | None:
    # Most URIs (Keruen's party, batch and document URIs, say) have no segment naming a GS1
    # key followed by one beginning with four digits, as the parse below requires. The path's
    # non-empty segments are consecutive tokens between [/?#] here, so without such a pair
    # the parse answers None: skip it.
    probe = uri.translate(_UNSAFE) if "\t" in uri or "\r" in uri or "\n" in uri else uri
    if _FOUR_OR_ALIAS.search(probe) is None:
        return None  # (the pair below needs four digits or an alias of a four-digit AI)
    if _KEY_THEN_DIGITS.search(probe) is None:
        return None
    return _parse_digital_link(uri)


def _key_then_digits() -> re.Pattern[str]:
    """A token naming a GS1 key (or its alias), then (past empty tokens) one that begins with
    four digits or is an alias of four digits: a pair of tokens `_parse_digital_link` needs."""
    keys = sorted((t for t in {*_PRIMARY, *_ALIASES} if _ALIASES.get(t, t) in _PRIMARY), key=len)
    fours = sorted(t for t, ai in _ALIASES.items() if _FOUR_DIGITS.match(ai))
    key = "|".join(map(re.escape, reversed(keys)))
    four = "|".join(map(re.escape, fours))
    return re.compile(rf"(?:^|[/?#])(?:{key})[/?#]+(?:\d{{4}}|(?:{four})(?:[/?#]|$))")


_KEY_THEN_DIGITS = _key_then_digits()
_FOUR_OR_ALIAS = re.compile(
    "|".join([r"\d{4}", *(re.escape(t) for t, ai in _ALIASES.items() if _FOUR_DIGITS.match(ai))])
)


def _parse_digital_link(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return None
    segments = [_ALIASES.get(s, s) for s in parts.path.split("/") if s]
    start = next((i for i, s in enumerate(segments) if s in _PRIMARY), None)
    if start is None or (len(segments) - start) % 2:
        return None
    key, value = segments[start], segments[start + 1]
    if not _FOUR_DIGITS.match(value):
        return None
    if key == "01" and len(value) in (8, 12, 13) and value.isdigit():
        value = value.zfill(14)
    pairs = dict(zip(segments[start + 2 :: 2], segments[start + 3 :: 2], strict=True))
    pairs.pop("22", None)
    if "21" in pairs:
        pairs.pop("10", None)
    path = "/".join([key, value, *(f"{ai}/{v}" for ai, v in pairs.items())])
    return ROOT + path if _CANONICAL.fullmatch(path) else None


def to_digital_link(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of a GS1 identifier, or None."""
    if uri.startswith("urn:epc:"):
        return _from_urn(uri)
    if uri.startswith(("http://", "https://")) and "." in uri:
        return _from_digital_link(uri)
    return None
