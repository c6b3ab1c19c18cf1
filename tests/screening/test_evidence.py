"""Evidence beyond the name: dates of birth, weak aliases, thresholds per list and schema, as
loaded from OFAC, FollowTheMoney and plain CSV and stored in the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keruen.screening import loaders, store
from keruen.screening.loaders import ListFormatError, remark_birth_dates
from keruen.screening.model import Entry
from keruen.screening.screener import Screener, parse_thresholds

LUKASHENKO = Entry(
    "test",
    "9760",
    "person",
    ("LUKASHENKO, Alexander Grigoryevich",),
    countries=("BY",),
    birth_dates=("1954-08-30",),
    weak_names=("BATKA",),
)


def screener(*entries: Entry) -> Screener:
    s = Screener()
    s.add_entries(entries, "v1")
    return s


@pytest.mark.parametrize(
    ("remarks", "dates"),
    [
        ("DOB 30 Aug 1954; POB Kopys, Belarus", ("1954-08-30",)),
        ("DOB Aug 1962", ("1962-08",)),
        ("DOB 1946; nationality Russia", ("1946",)),
        ("DOB circa 1955", ("1955",)),
        ("DOB 1960 to 1962", ("1960",)),
        ("DOB 03 May 1938; alt. DOB 04 May 1938", ("1938-05-03", "1938-05-04")),
        ("Passport 123456", ()),
    ],
)
def test_birth_dates_from_ofac_remarks(remarks: str, dates: tuple[str, ...]) -> None:
    assert remark_birth_dates(remarks) == dates


def test_date_of_birth_is_evidence_for_and_against() -> None:
    s = screener(LUKASHENKO)
    plain = s.screen_party("Lukashenko Alexander", threshold=0.0)[0].score
    same = s.screen_party("Lukashenko Alexander", birth_dates=["1954"], threshold=0.0)[0]
    other = s.screen_party("Lukashenko Alexander", birth_dates=["1990-01-02"], threshold=0.0)[0]
    near = s.screen_party("Lukashenko Alexander", birth_dates=["1955"], threshold=0.0)[0]
    assert other.score < near.score < plain <= same.score
    assert "dates of birth agree" in same.explanation
    assert not s.screen_party("Lukashenko Alexander", birth_dates=["1990-01-02"])  # no hit


def test_a_weak_alias_matches_with_less_weight() -> None:
    s = screener(LUKASHENKO)
    hit = s.screen_party("Batka", threshold=0.0)[0]
    assert hit.matched_name == "BATKA" and "weak alias" in hit.explanation
    strong = screener(Entry("test", "1", "person", ("BATKA",))).screen_party("Batka")[0]
    assert hit.score < strong.score


def test_thresholds_per_list_and_schema() -> None:
    company = Entry("other", "c1", "organization", ("Zapsibneft Trade Logistics LLC",))
    s = screener(LUKASHENKO, company)
    s.thresholds = parse_thresholds("test:person=0.99; *:organization=0.5")
    assert s.threshold_for(0) == 0.99 and s.threshold_for(1) == 0.5
    assert not s.screen_party("Lukashenka Aliaksandr")  # 0.9x < 0.99 for test's people
    assert [h.entry_id for h in s.screen_party("Zapsibneft")] == ["c1"]  # 0.62 ≥ 0.5, companies
    assert s.screen_party("Lukashenka Aliaksandr", threshold=0.5)  # an explicit one wins


@pytest.mark.parametrize("bad", ["ofac-sdn:person", "ofac-sdn=2", "=0.5", "x:person=zero"])
def test_thresholds_refuse_what_they_cannot_read(bad: str) -> None:
    with pytest.raises(ValueError, match="LIST"):
        parse_thresholds(bad)


def test_ftm_and_csv_carry_weak_aliases_and_birth_dates(tmp_path: Path) -> None:
    ftm = tmp_path / "e.json"
    person = {
        "id": "NK-1",
        "schema": "Person",
        "properties": {
            "name": ["Alexander Lukashenko"],
            "weakAlias": ["Batka"],
            "birthDate": ["1954-08-30"],
            "nationality": ["by"],
        },
    }
    ftm.write_text(json.dumps(person) + "\n", encoding="utf-8")
    e = loaders.ftm(ftm, "os").entries[0]
    assert (e.names, e.weak_names, e.birth_dates, e.countries) == (
        ("Alexander Lukashenko",),
        ("Batka",),
        ("1954-08-30",),
        ("BY",),
    )
    plain = tmp_path / "p.csv"
    plain.write_text(
        "name,weak_aliases,birth_dates\nIvan Petrov,Vanya|Petya,1970;1971-02\n", encoding="utf-8"
    )
    e = loaders.parties_csv(plain, "p").entries[0]
    assert (e.weak_names, e.birth_dates) == (("Vanya", "Petya"), ("1970", "1971-02"))
    plain.write_text("name,birth_dates\nIvan Petrov,02.03.1970\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="birth_dates"):
        loaders.parties_csv(plain, "p")


def test_store_keeps_weak_aliases_and_birth_dates(engine: Engine) -> None:
    loaded = loaders.Loaded("test", "parties", "v1", "test", entries=[LUKASHENKO])
    with engine.begin() as conn:
        store.save(conn, loaded)
        back = store.load_screener(conn)
    entry = back.owners[0].entry
    assert (entry.weak_names, entry.birth_dates) == (("BATKA",), ("1954-08-30",))
    assert back.screen_party("Lukashenko Alexander", birth_dates=["1954"])[0].entry_id == "9760"


SAMPLE_XML = Path(__file__).parent / "data" / "ofac" / "sdn_sample.xml"


def test_ofac_xml_beside_the_csv() -> None:
    loaded = loaders.ofac(SAMPLE_XML)
    assert loaded.size == 3 and loaded.name == "ofac-sdn"
    person, company, vessel = loaded.entries
    assert person.schema == "person" and person.names[0] == "LUKASHENKA, Alyaksandr Ryhorovich"
    assert person.weak_names == ("BATKA",) and "BATKA" not in person.names
    assert person.birth_dates == ("1954-08-30", "1954-08-31") and person.countries == ("BY",)
    assert {(i.scheme, i.value) for i in company.ids} == {
        ("ogrn", "1117746521452"),
        ("inn", "7718852163"),
    }
    assert company.programs[-1] == "RUSSIA-EO14024"
    assert (vessel.schema, vessel.countries) == ("vessel", ("CU",))
    s = Screener()
    s.add_entries(loaded.entries, loaded.version)
    assert s.screen_party("Лукашенко Александр Григорьевич", birth_dates=["1954"])[0].entry_id == (
        "9760"
    )
    assert s.screen_party("Some Name LLC", ids=["7718852163"])[0].entry_id == "18782"


def test_ofac_xml_expands_no_entity_and_names_bad_xml(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    evil = tmp_path / "evil.xml"
    evil.write_text(
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
        "<sdnList><sdnEntry><uid>1</uid><lastName>A &s;</lastName>"
        "<sdnType>Entity</sdnType></sdnEntry></sdnList>",
        encoding="utf-8",
    )
    entries = loaders.ofac(evil).entries
    assert "TOP SECRET" not in " ".join(entries[0].names)
    broken = tmp_path / "broken.xml"
    broken.write_text("<sdnList><sdnEntry><uid>1</uid>", encoding="utf-8")
    with pytest.raises(ListFormatError, match="not well-formed"):
        loaders.ofac(broken)
