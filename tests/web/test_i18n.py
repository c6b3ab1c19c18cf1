"""Kazakh, Russian and English: every message the screens show is translated; numbers, dates
and money follow each locale (CLDR)."""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources

import pytest

from keruen.web import i18n

NB = "\u00a0"


def template_messages() -> set[str]:
    found = set(i18n.VALUES)
    for item in resources.files("keruen.web").joinpath("templates").iterdir():
        text = item.read_text("utf-8")
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', text))
        found |= set(re.findall(r"_\('((?:[^'\\]|\\.)*)'", text))
        for choices in re.findall(r"_\(\{([^}]*)\}[^)]*\)", text):
            found |= set(re.findall(r'"([^"]*)"', choices))
        found |= set(re.findall(r'\.get\([^,]+, "([^"]+)"\)\)', text))
    return found


@pytest.mark.parametrize("code", ["kk", "ru"])
def test_every_message_is_translated(code: str) -> None:
    missing = sorted(m for m in template_messages() if m not in i18n.catalogue(code))
    assert missing == []


@pytest.mark.parametrize(
    ("code", "number", "money", "day"),
    [
        ("en", "1,234,567.5", "1,234,567.50" + NB + "USD", "6 Mar 2024"),
        ("ru", f"1{NB}234{NB}567,5", f"1{NB}234{NB}567,50{NB}USD", "6 мар. 2024 г."),
        ("kk", f"1{NB}234{NB}567,5", f"1{NB}234{NB}567,50{NB}USD", "2024 ж. 6 нау."),
    ],
)
def test_locale_formats(code: str, number: str, money: str, day: str) -> None:
    loc = i18n.LOCALES[code]
    assert loc.number(Decimal("1234567.50")) == number
    assert loc.money("1234567.5", "USD") == money
    assert loc.day("2024-03-06T10:00:00+05:00") == day
    assert loc.moment("2024-03-06T10:00:00+05:00").endswith("05:00 UTC")
    assert loc.number(0.955, 2) == ("0.96" if code == "en" else "0,96")  # Decimal rounding
    assert loc.number(None) == "" and loc.number("n/a") == "n/a"


def test_choice_order_cookie_then_browser_then_english() -> None:
    assert i18n.choose("kk", "ru-RU,ru;q=0.9") == "kk"
    assert i18n.choose(None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert i18n.choose("xx", "de-DE") == "en"
