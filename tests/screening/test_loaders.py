"""Loaders on the real OFAC files and on small files written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keruen.screening import loaders
from keruen.screening.loaders import ListFormatError, remark_ids

# OFAC's own files of 2024-07-02 (public domain; source: ../shared/data/README.md, section 3)
OFAC = Path(__file__).resolve().parent / "data" / "ofac"


def test_ofac_full_files_found_beside_sdn() -> None:
    loaded = loaders.ofac(OFAC / "sdn.csv")
    assert len(loaded.entries) == 15_443
    by_id = {e.id: e for e in loaded.entries}
    luka = by_id["9760"]
    assert luka.schema == "person" and "BY" in luka.countries
    assert "LUKASHENKO, Aleksandr Grigorevich" in luka.names  # from ofac_alt.csv
    assert loaded.version == loaders.ofac(OFAC / "sdn.csv").version


def test_ofac_extract_shipped() -> None:
    demo = loaders.ofac_demo()
    assert len(demo.entries) == 409
    assert all(e.names for e in demo.entries)


@pytest.mark.parametrize(
    ("remarks", "expected"),
    [
        (
            "Tax ID No. 7705001013 (Russia); Registration Number 1027700337906 (Russia).",
            [("inn", "7705001013", "RU"), ("ogrn", "1027700337906", "RU")],
        ),
        ("Identification Number 220340015320 (Kazakhstan)", [("bin", "220340015320", "KZ")]),
        (
            "Vessel Registration Identification IMO 9187629; MMSI 273123456",
            [("imo", "9187629", None), ("mmsi", "273123456", None)],
        ),
        ("DOB 30 Aug 1954; POB Kopys", []),
    ],
)
def test_remark_ids(remarks: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert [(i.scheme, i.value, i.country) for i in remark_ids(remarks)] == expected


def test_chpl_rules() -> None:
    rules = loaders.chpl().rules
    assert len(rules) == 50
    assert {r.action for r in rules if r.tier in ("1", "2")} == {"block"}
    assert {r.action for r in rules if r.tier.startswith(("3", "4"))} == {"flag"}


def test_goods_csv(tmp_path: Path) -> None:
    path = tmp_path / "kz.csv"
    path.write_text(
        "hs_prefix,destinations,action,tier,valid_from,note\n"
        "8471,RU;BY,licence,,2024-01-01,computers\n93,*,block,,,arms\n"
    )
    loaded = loaders.goods_csv(path, "kz-national")
    assert [(r.hs_prefix, r.action, sorted(r.destinations)) for r in loaded.rules] == [
        ("8471", "licence", ["BY", "RU"]),
        ("93", "block", ["*"]),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("hs_prefix,destinations\n", r"missing column\(s\) action"),
        ("hs_prefix,destinations,action\n84x,RU,block\n", "line 2: hs_prefix"),
        ("hs_prefix,destinations,action\n8471,RU,ban\n", "line 2: action: 'ban'"),
        ("hs_prefix,destinations,action\n8471,Russia,block\n", "line 2: destinations"),
        ("hs_prefix,destinations,action,valid_from\n8471,RU,block,May\n", "valid_from"),
    ],
)
def test_goods_csv_errors_name_line_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(ListFormatError, match=message):
        loaders.goods_csv(path, "bad")


def test_ftm_and_csv(tmp_path: Path) -> None:
    ftm = tmp_path / "e.json"
    ftm.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {
                    "id": "a",
                    "schema": "Company",
                    "properties": {
                        "name": ["ООО Ромашка"],
                        "alias": ["Romashka LLC"],
                        "innCode": ["7701234567"],
                        "country": ["ru"],
                    },
                },
                {"id": "b", "schema": "Address", "properties": {"full": ["Moscow"]}},
            ]
        )
    )
    [e] = loaders.ftm(ftm, "os").entries
    assert e.names == ("ООО Ромашка", "Romashka LLC") and e.countries == ("RU",)
    assert e.ids[0].scheme == "inn"
    plain = tmp_path / "p.csv"
    plain.write_text(
        "id,name,aliases,countries,ids,schema\n"
        "x1,Vostok Trade,Восток Трейд|VT,Russia;KZ,inn:7701234567;123456,"
        "organization\n"
    )
    [p] = loaders.parties_csv(plain, "mine").entries
    assert p.countries == ("RU", "KZ") and [i.scheme for i in p.ids] == ["inn", "id"]
    with pytest.raises(ListFormatError, match="line 2: schema"):
        plain.write_text("name,schema\nX,robot\n")
        loaders.parties_csv(plain, "mine")
    with pytest.raises(ListFormatError, match="line 1: not a FollowTheMoney"):
        ftm.write_text("[1, 2]\n")
        loaders.ftm(ftm, "os")
