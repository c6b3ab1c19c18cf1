"""Features, algorithm, index and screener on real list data (table-driven, no database)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keruen.screening import alignment, builtin_screener, screen_goods, screen_party
from keruen.screening.evaluation import pair_score, read_nomenklatura
from keruen.screening.features import ALGORITHMS, Pair, Side, generic_subset, get_algorithm
from keruen.screening.index import NameIndex, blocking_keys
from keruen.screening.model import Entry, Identifier
from keruen.screening.plausible import PlausibleNames
from keruen.screening.screener import Screener
from keruen.screening.text import analyse, is_patronymic, numbers
from keruen.screening.words import WEIGHTS

ALG = get_algorithm()


def side(name: str, schema: str = "") -> Side:
    found = analyse(name)
    kind = True if found.forms else {"person": False, "company": True}.get(schema)
    return Side(found.key, organization=kind, forms=frozenset(found.forms))


def score(a: str, b: str, schema: str = "") -> float:
    return ALG.score(Pair(side(a, schema), side(b, schema)))


# (query, list name, is a match) -- every reported false hit or miss becomes a row
CASES = [
    ("Путин Владимир Владимирович", "PUTIN, Vladimir Vladimirovich", True),
    ("Vladimir Putin", "PUTIN, Vladimir Vladimirovich", True),
    ("V. V. Putin", "PUTIN, Vladimir Vladimirovich", True),
    ("Wladimir Wladimirowitsch Putin", "PUTIN, Vladimir Vladimirovich", True),
    ("NIKITINA Irnia", "NIKITINA, Irina", True),
    ("ООО «Ромашка»", "Romashka LLC", True),
    ("Turin Vladimir", "PUTIN, Vladimir Vladimirovich", False),
    ("Сечин Иван Игоревич", "SECHIN, Igor Ivanovich", False),
    ("DA Group 23", "DA GROUP 22", False),
    ("Octavian Scholz", "Olaf Scholz", False),
    ("LABIN, Ruslan Viktorovich", "LABIN, Roman Viktorovich", False),
    # issue 13: ordinary names that scored near-certain on the full OFAC list
    ("Сервис", "LAB SERVIS", False),
    ("ООО «Сервис»", "LAB SERVIS", False),
    ("Волга", "OLGA", False),
    ("ООО «Инвест-Компани»", "M INVEST, OOO", False),
    ("Инвест-Компани", "M INVEST, OOO", False),
    ("ТОО «Атлант»", "LIMITED LIABILITY COMPANY ATLANT S", False),
    # issue 13, messy seed 9 with the full list: names that meet a listed name only on words
    # three or more listed entries share (a city, Technology, Trading House), the listed name's
    # own words missing (generic_subset); without the economy's word weights
    ("Guangzhou Technology Co., Ltd.", "GUANGZHOU AUSAY TECHNOLOGY CO., LIMITED", False),
    ("Guangzhou Technology Co., Ltd.", "NEW IDEA GUANGZHOU TECHNOLOGY CO. LTD.", False),
    ("ООО «Торговый дом»", "TORGOVIY DOM EPK", False),
    ("ООО «Торговый дом»", "OOO TORGOVY DOM ASBEST", False),
    ("Shenzhen Technology Co., Ltd.", "SHENZHEN CASPRO TECHNOLOGY CO., LTD", False),
    ("Shenzhen Trading Co., Ltd.", "SHENZHEN BIGUANG TRADING CO., LTD", False),
    ("International Service LLC", "MAK INTERNATIONAL SERVICE CO LTD", False),
    ("Ningbo Import & Export Co., Ltd.", "NINGBO NEW CENTURY IMPORT AND EXPORT CO., LTD.", False),
    ("Suzhou Communication Equipment Co., Ltd.", "JSC COMMUNICATION EQUIPMENT", False),
    ("Guangzhou Ausay Technology Co., Ltd.", "GUANGZHOU AUSAY TECHNOLOGY CO., LIMITED", True),
    # transliteration bench: COMPANY + LIMITED LIABILITY COMPANY, not COMPANY LIMITED + 2 words
    (
        "ООО «Интернатионал Компаны  Хорвик»",
        "INTERNATIONAL COMPANY LIMITED LIABILITY COMPANY KHORVIK",
        True,
    ),
    ("ООО «Торговый дом ЭПК»", "TORGOVIY DOM EPK", True),
    # name_bench: the Kazakh patronymic rule took Arabic nisbahs for patronymics
    ("BARZAN IBRAHIM HASSAN AL-MOSULI", "BARZAN IBRAHIM HASSAN AL-TIKRITI", False),
    ("IZZAT IBRAHIM AL-MOSULI", "IZZAT IBRAHIM AL-DURI", False),
    ("JAWHAR MAJID AL-MOSULI", "JAWHAR MAJID AL-DURI", False),
    ("Назарбаев Нурсултан Әбішұлы", "NAZARBAYEV, Nursultan", True),  # a Kazakh patronymic
    # name_bench: legal forms across languages
    ("Siemens Aktiengesellschaft", "Siemens AG", True),
    ("BMW Aktiengesellschaft", "BMW AG", True),
    ("Volkswagen Gesellschaft mit beschränkter Haftung", "Volkswagen GmbH", True),
    ("Societatea cu Răspundere Limitată PRO TRAFFIC", "SRL PRO TRAFFIC", True),
    ("Deutsche Bank AG", "Deutsche Bank Aktiengesellschaft", True),
    # name_bench: words joined or split
    ("VladimirPutin", "Vladimir Putin", True),
    ("SergeiLavrov", "Sergei Lavrov", True),
    ("AlisherUsmanov", "Alisher Usmanov", True),
    ("Goodwill Company", "Good Will Company", True),
    ("PricewaterhouseCoopers LLP", "Pricewaterhouse Coopers LLP", True),
    # name_bench: numbers as words or digits
    ("1st International Bank", "First International Bank", True),
    ("Brigade Forty-Four", "Brigade 44", True),
    ("Brigade Fourty-four", "Brigade 44", True),
    ("3 Percenters", "Three Percenters", True),
    ("Apollo Investment Fund VIII L.P.", "Apollo Investment Fund IX L.P.", False),
    # name_bench: one word, or one name a subset of the other
    ("construction ltd", "LLC CONSTRUCTION DREDGING COMPANY", False),
    ("CRYSTALORD SYSTEMS LIMITED", "CRYSTALORD LTD", False),
    ("OAO Gazprom", "Gasprom JSC", True),
    # transliteration bench: given name and surname, no patronymic
    ("Viktor Ânukovyč", "YANUKOVYCH, Viktor Fedorovych", True),  # a surname ending like one
    ("Алёкса Александр Иванович", "ALYOKSA, Aleksandr Ivanovich", True),  # ё written yo
    ("Aliaksandr Lasiakin", "LASIAKIN, Aliaksandr Mikhajlavich", True),  # Belarusian -avich
    ("Smirnov Viktor Petrovich", "SMIRNOV, Viktor Vladimirovich", False),  # another father
    # name_bench, issue 18 (second round): a digit between letters is the letter it looks like
    ("Ig0r Sech1n", "Igor Sechin", True),
    ("I9or Sech1n", "Igor Sechin", True),
    ("M2M Group", "M2M GROUP LLC", True),
    # "&" and "and" both vanish
    ("AT&T Inc.", "AT and T Inc.", True),
    ("Johnson & Johnson", "JOHNSON AND JOHNSON", True),
    # a contraction stands for its word (first and last letter, no vowel after the first)
    ("First Bank Int’l", "First International Bank", True),
    ("Zhang Jing", "ZHANG, Jicheng", False),  # a syllable is no contraction
    # a company's word one typo in five letters off, when other words or a long word agree
    ("Trafalgura Group Pte. Ltd.", "Trafigura Group Pte. Ltd.", True),
    ("Bank of Chima Limited", "Bank of China Limited", True),
    ("Amazonis.com, Inc.", "Amazon.com, Inc.", True),
    ("ТОО «Астана»", "ASTARA", False),  # burden: a short one-word name a letter off
    ("ООО «Эталон»", "TALOON COMPANY", False),
    # a legal form written onto the name
    ("SiemensAG", "Siemens AG", True),
    ("Siemens AG", "SiemensAG", True),
    ("GazpromJSC", "GAZPROM, OAO", True),
    # two or three words written as one; an acronym of the words the other lacks
    ("vanderbilt corp", "van der bilt corp", True),
    ("PLA", "People’s Liberation Army", True),
    ("U.S. Department of State", "United States Department of State", True),
    ("Анна Новикова", "NOVIKOV, Alexey Alexeyevich", False),  # burden: ANA is no acronym
    ("Delta Technologies MMC", "LIMITED LIABILITY COMPANY DM TECHNOLOGIES", False),  # messy seed 9
    # Arabic: one vowel apart in a long word, the article, Abdel / Abdul
    ("Al Qaeda", "Al Qa'ida", True),
    ("ABDULRAHMAN KHALED", "ABD AL-RAHMAN KHALED", True),
    ("Abdelaziz Bouteflika", "ABDUL AZIZ BOUTEFLIKA", True),
    # every word met a close partner: letters compared partner by partner, not alphabetically
    ("Cardinal Wealth, Inc.", "Cardinal Health, Inc.", True),
    ("Wolodymyr Selenskyj", "Volodymyr Zelenskyy", True),  # German Ukrainian
    ("Salman Sakriew", "ZAKRIEV, Salman Soipovich", True),  # German s for з
]


@pytest.mark.parametrize(("query", "name", "match"), CASES)
def test_cases(query: str, name: str, match: bool) -> None:
    assert (score(query, name) >= ALG.threshold) is match


# people (schema person on both sides); name_bench: a name found whole in a longer listed one,
# the other only adding names, on words that are not all common
PERSON_CASES = [
    ("FAZL RABI ABDUL HAMID", "FAZL RABI", True),
    ("JANAN MOHAMMAD AHMED AGHA", "JANAN AGHA", True),
    ("DOST MOHAMMAD KHAN HAQQANI", "DOST MOHAMMAD", True),
    ("ANJEM IFTIKHAR CHOUDARY MAHMOOD", "ANJEM CHOUDARY", True),
    ("SHER ABBAS STANEKZAI", "SHER MOHAMMAD ABBAS STANEKZAI PADSHAH KHAN", True),
    ("ABDUL GHANI TURK", "ABDUL GHANI BARADAR ABDUL AHMAD TURK", True),
    ("Ilie Bolojan", "Monsieur Ilie-Gabril Bolojan", True),
    ("Präsident Barack Obama", "Barack Obama", True),
    ("Nikolai Plat Ono Vich Patrushev", "Nikolai Platonovich Patrushev", True),
    ("SAIF AL-DIN AL-RAWI", "SAIF-AL-DIN FULAYYIH HASSAN TAHA AL-RAWI", False),  # common words
    ("Hans O Friedrich", "Hans Joachim Friedrich", False),
    # name_bench, issue 18 (second round)
    ("Moammar Qaddafi", "Muammar Gaddafi", True),  # one vowel apart
    ("Usama bin Ladin", "Osama bin Laden", True),
    ("Bachar el-Assad", "Bashar al-Assad", True),  # the article, el- or al-
    ("J.-C. Juncker", "Jean-Claude Juncker", True),  # J. for Jean, whose skeleton is "ean"
    ("UMAR PATEK ABDULLAH ANSHORI", "UMAR PATEK", True),  # the letters of the words found
    ("AKHTAR MANSOUR", "AKHTAR MOHAMMAD MANSOUR SHAH MOHAMMED", True),
    ("Nicolás Maduro SA", "Nicolás Maduro", True),  # a company bearing the whole name
    ("Nicolás Maduro LLC", "Nicolás Maduro", True),
    ("ИП Иванов Иван Петрович", "IVANOV, Ivan Petrovich", True),  # a sole trader is the person
    ("ООО «Иванов и партнёры»", "IVANOV, Ivan Petrovich", False),
    ("Frost, William G.", "William W Frost", False),  # initials of their own on both sides
    ("김종은", "김정은", False),  # Hangul and Han: a syllable a character
]


@pytest.mark.parametrize(("query", "name", "match"), PERSON_CASES)
def test_person_cases(query: str, name: str, match: bool) -> None:
    assert (score(query, name, "person") >= ALG.threshold) is match


KNOWN_WRONG = [  # found wrong; kept until fixed (strict: a fix makes this fail, move the row up)
    ("Friedrich Hans", "Hans Friedrich", False),  # role reversal: order is not evidence yet
    ("SALMAN BIN MUHAMMAD AL-RAWI", "MUHAMMAD BIN SALMAN AL-RAWI", False),
    ("Deutsche Bank AG", "Deutsche Bank GmbH", False),  # forms differ: 0.8, one penalty short
    ("Banco Santander S.A.", "Banco Santander Chile S.A.", False),  # an extra qualifier
    ("Hsi Chin-ping", "Xi Jinping", True),  # Wade-Giles
    ("Mao Tse-tung", "Mao Zedong", True),
    ("김정은", "Kim Jong Un", True),  # anyascii writes Revised Romanisation: gim jeong eun
    ("Malik Ruslanovich Barakhoev", "Malik Ruslanovich Barkhanoev", False),
    ("Алексеева Мария Максимовна", "ALEKSEEVA, Marina", False),  # Maria is not Marina: 0.90
    ("Zhang Mingjing", "WANG, Mingjing", False),  # 0.90
    ("ANO Iskusstvo Krasoty", "LIMITED LIABILITY COMPANY ISKUSSTVO KRASOTY", False),
    ("Deutsche Bank Trust Company", "Deutsche Bank", False),
    ("Sergej Obuxov", "OBUKHOV, Sergey Pavlovich", True),  # GOST 7.79 B writes х as x
]

# Rows that hold once the word weights know the economy's own party names (what screen_ledger
# teaches them): a word every third Chinese supplier carries says little.
ECONOMY_CASES = [
    ("Guangzhou Technology Co., Ltd.", "GUANGZHOU AUSAY TECHNOLOGY CO", False),
    ("Shenzhen Electronics Co., Ltd.", "SHENZHEN JINGHUA ELECTRONICS CO LTD", False),
    ("ООО «Торговый Дом»", "TORGOVIY DOM EPK", False),
    ("Guangzhou Ausay Technology Co., Ltd.", "GUANGZHOU AUSAY TECHNOLOGY CO", True),
    ("ООО «Ромашка»", "Romashka LLC", True),
]


@pytest.fixture
def economy() -> Iterator[None]:
    names = PlausibleNames(seed=99).names(3000)
    WEIGHTS.learn(analyse(n).skeleton for n, _ in names)
    yield
    WEIGHTS.forget_economy()


@pytest.mark.parametrize(("query", "name", "match"), ECONOMY_CASES)
def test_economy_cases(economy: None, query: str, name: str, match: bool) -> None:
    assert (score(query, name) >= ALG.threshold) is match


@pytest.mark.xfail(strict=True, reason="known false hit or miss")
@pytest.mark.parametrize(("query", "name", "match"), KNOWN_WRONG)
def test_known_wrong(query: str, name: str, match: bool) -> None:
    assert (score(query, name) >= ALG.threshold) is match


def test_scores_rank_rather_than_saturate() -> None:
    exact = score("Lukashenko Aleksandr", "LUKASHENKO, Aleksandr")
    variant = score("Lukashenka Alyaksandr", "LUKASHENKO, Aleksandr")
    typo = score("Lukashneko Aleksandr", "LUKASHENKO, Aleksandr")
    assert exact == 1.0 > variant and exact > typo
    assert score("Petrov Ivan", "Ivanov Petr") < variant


def test_every_feature_explains_itself() -> None:
    for alg in ALGORITHMS.values():
        for feature, _ in alg.features:
            assert feature.__doc__, feature.__name__
    with pytest.raises(KeyError, match="known"):
        get_algorithm("nope")


def test_blocking_keys_pair_prefixes() -> None:
    keys = blocking_keys(["lukashenko", "aleksandr"])
    assert {"w:lukashenko", "w:aleksandr", "p:ale|luk", "f:aleks", "f:lukas"} == keys
    assert {"p:pele", "s:leng"} <= blocking_keys(["peleng"])


def test_index_finds_without_scanning_everything() -> None:
    index = NameIndex()
    for i, name in enumerate(["aleksandr lukashenko", "ivan petrov", "romashka"] * 100):
        index.add(name, i)
    rows = index.candidates("aleksandr lukashenka")
    assert rows and len(rows) == 100
    assert {index.keys[r] for r in rows} == {"aleksandr lukashenko"}


def test_index_skips_a_common_word_once_a_rare_one_found_something() -> None:
    index = NameIndex(max_posting=300)
    for i in range(400):
        index.add("ivan petrov", i)
    rare = index.add("ivan lukashenko", 400)
    assert index.candidates("ivan lukashenko") == [rare]
    index.max_posting = 1000
    assert len(index.candidates("ivan lukashenko")) == 301  # the budget's share of "ivan" too
    assert len(index.candidates("ivan")) == 300  # nothing rarer: the budget's share of the posting


WORDS = st.sampled_from(
    ["ivan", "ivanov", "ivanovich", "petr", "petrov", "i", "p", "2", "22", "romashka", "ooo"]
)
NAMES = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


@given(NAMES, NAMES, st.booleans(), st.booleans())
def test_score_is_the_sum_of_its_explanation(q: str, c: str, same_id: bool, org: bool) -> None:
    ids = frozenset({"7701234567"})
    pair = Pair(
        Side(
            analyse(q).key, frozenset({"RU"}), ids, not org, frozenset({"llc"}), frozenset({"1970"})
        ),
        Side(
            analyse(c).key,
            frozenset({"KZ"}),
            ids if same_id else frozenset(),
            org,
            frozenset({"jsc"}),
            frozenset({"1990-01-01"}),
            weak=True,
        ),
    )
    score, parts = ALG.explain(pair)
    assert score == ALG.score(pair)
    assert [p.feature for p in parts] == [f.__name__ for f, _ in ALG.features]
    assert score == max(0.0, min(1.0, sum(p.value * p.weight for p in parts)))
    if same_id:  # an identifier decides, whatever the names, forms and kinds say
        assert score >= ALG.threshold


@given(NAMES)
def test_a_name_against_itself_takes_the_short_way_to_the_same_alignment(name: str) -> None:
    key = analyse(name).key
    assert alignment._same(key.split()) == alignment._align2(key, key)


@given(NAMES, NAMES, st.booleans(), st.floats(0.01, 1.0), st.sampled_from(list(ALGORITHMS)))
def test_pruned_score_is_exact_at_or_above_the_floor(
    q: str, c: str, org: bool, floor: float, name: str
) -> None:
    """Stopping once the features left cannot lift the sum to the floor never changes a hit."""
    alg = get_algorithm(name)
    pair = Pair(
        Side(analyse(q).key, frozenset({"RU"}), organization=org),
        Side(analyse(c).key, frozenset({"RU"}), organization=org, birth_dates=frozenset({"1970"})),
    )
    exact, pruned = alg.score(pair), alg.score_at_least(pair, floor)
    assert pruned == exact if exact >= floor else pruned < floor


COMMON = st.sampled_from(["guangzhou", "technology", "trading", "dom", "torgovyi", "the"])


@given(st.lists(COMMON, min_size=1, max_size=4).map(" ".join))
def test_shared_words_alone_are_a_generic_subset(name: str) -> None:
    """Words three listed entries share meet a name with a rare word more: generic, both ways;
    the same words on both sides are the same name, never generic."""
    same = Pair(side(name, "company"), side(name, "company"))
    longer = Pair(side(name, "company"), side(name + " ausay", "company"))
    shorter = Pair(longer.candidate, longer.query)
    assert (generic_subset(same), generic_subset(longer), generic_subset(shorter)) == (0, 1, 1)


def entry(
    eid: str,
    *names: str,
    ids: tuple[Identifier, ...] = (),
    countries: tuple[str, ...] = (),
    schema: str = "organization",
) -> Entry:
    return Entry("test", eid, schema, names, ids, countries)


def test_identifier_decides_and_country_qualifies() -> None:
    s = Screener()
    s.add_entries(
        [
            entry(
                "1", "OOO Vostok Trade", ids=(Identifier("inn", "7701234567"),), countries=("RU",)
            ),
            entry("2", "Vostok Trade GmbH", countries=("DE",)),
        ],
        "v1",
    )
    hits = s.screen_party("Zapad LLC", ids=["77-0123-4567"])
    assert [h.entry_id for h in hits] == ["1"]
    assert hits[0].contributions[2].feature == "identifier_match"
    ranked = s.screen_party("Vostok Trade", country="RU")
    assert [h.entry_id for h in ranked][:2] == ["1", "2"]
    assert ranked[0].score > ranked[1].score


def test_builtin_screener_ships_chpl_and_ofac_extract() -> None:
    assert builtin_screener().versions["chpl"] == "2024-02-23"
    hits = screen_goods("8542310000", "RU", date(2024, 5, 1))
    assert [(h.list, h.tier, h.action) for h in hits] == [("chpl", "1", "block")]
    assert screen_goods("8542310000", "DE", date(2024, 5, 1)) == []
    assert screen_goods("8542310000", "RU", date(2024, 1, 1)) == []  # before the list
    assert screen_goods("010121", "RU", date(2024, 5, 1)) == []
    hit = screen_party("Лукашенко Александр Григорьевич", country="BY")[0]
    assert hit.entry_id == "9760" and hit.list == "ofac-sdn"
    assert "align" in hit.public()["explanation"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["brigade", "forty", "four"], ["brigade", "44"]),
        (["forty", "4"], ["44"]),
        (["1st", "bank"], ["1", "bank"]),
        (["first", "bank"], ["1", "bank"]),
        (["fund", "viii"], ["fund", "8"]),
        (["fund", "ix"], ["fund", "9"]),
        (["xi", "jinping"], ["xi", "jinping"]),  # a name before a number
        (["v", "putin"], ["v", "putin"]),  # an initial, not five
    ],
)
def test_numbers_in_one_shape(words: list[str], expected: list[str]) -> None:
    assert numbers(words) == expected


@pytest.mark.parametrize(
    ("name", "patronymic"),
    [
        ("Әбішұлы", True),
        ("Abishuly", True),
        ("Қасымқызы", True),
        ("Vladimirovich", True),
        ("AL-MOSULI", False),
        ("MOSULI", False),
        ("Nabulsi", False),
    ],
)
def test_patronymics_not_nisbahs(name: str, patronymic: bool) -> None:
    assert any(map(is_patronymic, analyse(name).skeleton)) is patronymic


def test_given_name_and_surname_find_the_full_name_among_namesakes() -> None:
    """Crowded by shorter names nearer in letters, "Viktor Smirnov" still reaches SMIRNOV,
    Viktor Vladimirovich: each name is also filed without its patronymic."""
    s = Screener()
    surnames = ("IVANOV", "PETROV", "SIDOROV", "SMIRNOVA", "SMIRNYKH", "SIMONOV", "KOZLOV", "POPOV")
    crowd = [f"{surname}, {given}" for surname in surnames for given in ("Viktor", "Viktoria")]
    crowd += [f"SMIRNOV, {given}" for given in ("Viktoria", "Viktorina", "Pavel", "Petr", "Oleg")]
    s.add_entries(
        [entry(str(i), n, schema="person") for i, n in enumerate(crowd)]
        + [entry("target", "SMIRNOV, Viktor Vladimirovich", schema="person")],
        "v1",
    )
    hits = s.screen_party("Виктор Смирнов", schema="person")
    assert hits[0].entry_id == "target" and hits[0].matched_name.endswith("Vladimirovich")
    assert [h.entry_id for h in s.screen_party("Smirnov Viktor Petrovich")] != ["target"]


NAME_BENCH = Path(__file__).parent / "data" / "conformance" / "name_bench_cases.csv"
KNOWN_WRONG_BENCH = Path(__file__).parent / "data" / "name_bench_known_wrong.csv"


def test_name_bench_every_error_is_a_known_wrong_row() -> None:
    """nomenklatura's name_bench, pair by pair: each pair Keruen gets wrong is a row of
    name_bench_known_wrong.csv (a miss or a false hit left, with its score when listed), and
    each row there is still wrong: a fix must remove its row, a new error must add one."""
    with KNOWN_WRONG_BENCH.open(encoding="utf-8", newline="") as f:
        known = {(r["name1"], r["name2"], r["schema"]) for r in csv.DictReader(f)}
    wrong = {
        (c.query, c.target, c.schema)
        for c in read_nomenklatura(NAME_BENCH)
        if (pair_score(ALG, c.query, c.target, c.schema) >= ALG.threshold) is not c.is_match
    }
    assert sorted(wrong - known) == [], "new errors: add them as rows"
    assert sorted(known - wrong) == [], "fixed: remove their rows (and add a CASES row)"
