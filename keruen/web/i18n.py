"""Kazakh, Russian and English for the dashboard: messages, numbers, dates and money.

Messages are keyed by their English text; `locales/<code>.json` holds the Kazakh and Russian
ones, and English labels of codes such as `confirmed_diversion` (a test checks that every
message the templates use is translated). Number, date and money formats follow CLDR 45 for
kk, ru and en: group and decimal separators, abbreviated month names and the order of day,
month and year. Pure: no I/O beyond reading the package's own catalogues once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "en"
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Locale:
    code: str
    group: str
    decimal: str
    months: tuple[str, ...]
    date: str  # a str.format pattern over d, m (month name), y

    def number(self, value: Decimal | float | int | str | None, places: int | None = None) -> str:
        """A number with the locale's separators; `places` fixes the decimals shown."""
        if value is None or value == "":
            return ""
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        text = f"{d:,.{places}f}" if places is not None else f"{d.normalize():,f}"
        whole, _, frac = text.partition(".")
        whole = whole.replace(",", self.group)
        return f"{whole}{self.decimal}{frac}" if frac else whole

    def percent(self, share: float | None, places: int = 1) -> str:
        if share is None:
            return ""
        gap = "" if self.code == "en" else NBSP  # CLDR: 90.2% in en, 90,2 % in kk and ru
        return f"{self.number(share * 100, places)}{gap}%"

    def money(self, amount: Decimal | float | str | None, currency: str) -> str:
        return "" if amount is None else f"{self.number(amount, 2)}{NBSP}{currency}"

    def day(self, when: datetime | str | None) -> str:
        t = _datetime(when)
        if t is None:
            return ""
        return self.date.format(d=t.day, m=self.months[t.month - 1], y=t.year)

    def moment(self, when: datetime | str | None) -> str:
        """Date and time (UTC) of an event."""
        t = _datetime(when)
        return "" if t is None else f"{self.day(t)}, {t:%H:%M} UTC"


def _datetime(when: datetime | str | None) -> datetime | None:
    if not isinstance(when, str | datetime) or when == "":
        return None  # absent (None, or a value the caller may not see)
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


LOCALES = {
    "en": Locale(
        "en",
        ",",
        ".",
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        "{d} {m} {y}",
    ),
    "ru": Locale(
        "ru",
        NBSP,
        ",",
        (
            "янв.",
            "февр.",
            "мар.",
            "апр.",
            "мая",
            "июн.",
            "июл.",
            "авг.",
            "сент.",
            "окт.",
            "нояб.",
            "дек.",
        ),
        "{d} {m} {y} г.",
    ),
    "kk": Locale(
        "kk",
        NBSP,
        ",",
        (
            "қаң.",
            "ақп.",
            "нау.",
            "сәу.",
            "мам.",
            "мау.",
            "шіл.",
            "там.",
            "қыр.",
            "қаз.",
            "қар.",
            "жел.",
        ),
        "{y} ж. {d} {m}",
    ),
}


@cache
def catalogue(code: str) -> dict[str, str]:
    """The translations of one language (English: labels for the codes shown to users)."""
    text = resources.files("keruen.web").joinpath(f"locales/{code}.json").read_text("utf-8")
    found: dict[str, str] = json.loads(text)
    return found


def gettext(code: str, message: str) -> str:
    """The message in the language `code`, English when a translation is missing."""
    return catalogue(code).get(message, message)


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The user's choice (a cookie) first, then the browser's preference, then English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


# messages the templates translate from a value rather than a literal: codes shown to users
VALUES = (
    *("admin", "officer", "analyst", "declarant"),
    *("open", "in_case", "closed", "all", "assigned", "decided"),
    *("green", "yellow", "red", "blue"),
    *("event", "batch", "party", "transit", "alert", "signal"),
    *("release", "inspect", "hold", "confirmed_diversion", "false_positive"),
    *("declared", "in_transit", "overdue", "exited", "diverted", "cancelled"),
    *("high", "medium", "low"),
    *("import", "arrival", "transfer", "dispatch", "export", "write_off", "transform"),
    *("attach", "decide", "assign", "note", "alerts", "title", "to", "text", "reason"),
    *("held", "transformed", "turnover", "inspecting", "inspected", "findings", "reopen"),
    "discrepancy",
    "unknown user name or wrong password",
    "the form has expired: try again",
)
