"""Normalisation and transliteration: the spellings of one name must meet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keruen.screening.text import analyse, is_patronymic, latin

SAME = [
    ("ООО «Ромашка»", "OOO Romashka"),
    ("OOO Romashka", "Romashka LLC"),
    ("Общество с ограниченной ответственностью «Ромашка»", "Romashka Limited Liability Company"),
    ("ТОО «Сбер Восток»", "Sber Vostok LLP"),
    ("«Сбер Восток» ЖШС", "SBER VOSTOK LIMITED LIABILITY PARTNERSHIP"),
    ("Лукашенко Александр Григорьевич", "LUKASHENKO, Aleksandr Grigorevich"),
    ("Лукашенко Александр Григорьевич", "Lukashenko Alexandr Grigorievich"),
    ("Юрий", "Iurii"),  # ICAO
    ("Юрий", "Jurij"),  # German / scholarly
    ("Евгений", "Yevgeny"),
    ("Щербаков", "Shcherbakov"),
    ("Щербаков", "Ŝerbakov"),  # ISO 9
    ("Чайковский", "Tchaikovsky"),  # French
    ("Қазақстан", "Qazaqstan"),  # Kazakh Latin 2021
    ("Шымкент", "Şymkent"),
    ("Victor", "Viktor"),
    ("Цой", "Tsoi"),
    ("ANGLO-CARIBBEAN CO., LTD.", "Anglo Caribbean Company Limited"),
    ("LIMITED LIABILITY COPANY STK", "STK LLC"),  # a typo in the legal form
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_spellings_meet(a: str, b: str) -> None:
    assert analyse(a).key == analyse(b).key


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("ООО «Ромашка»", ("llc",)),
        ("TOO Elem", ("llp",)),
        ("АО «Банк»", ("jsc",)),
        ("Romashka", ()),
        ("O. G. Dmitrieva", ()),  # the initial O is not ООО
    ],
)
def test_legal_forms_lifted_out(text: str, forms: tuple[str, ...]) -> None:
    assert analyse(text).forms == forms


def test_a_name_of_only_legal_words_keeps_them() -> None:
    assert analyse("AO").key == "ao"


@pytest.mark.parametrize(
    ("word", "yes"),
    [
        ("vladimirovich", True),
        ("ivanovna", True),
        ("abishuly", True),  # the skeleton keeps a Kazakh patronymic's "y"
        ("mosuli", False),  # an Arabic nisbah (AL-MOSULI)
        ("vladimir", False),
        ("ivanov", False),
    ],
)
def test_patronymic(word: str, yes: bool) -> None:
    assert is_patronymic(word) is yes


@given(st.text(max_size=60))
def test_analyse_never_fails_and_is_ascii(text: str) -> None:
    name = analyse(text)
    assert all(t.isascii() for t in name.skeleton)
    assert name.key == " ".join(sorted(name.skeleton))


@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі ", max_size=40))
def test_cyrillic_always_transliterates(text: str) -> None:
    assert latin(text).isascii()
