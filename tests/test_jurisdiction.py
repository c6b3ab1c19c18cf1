"""The home country is configuration: KERUEN_JURISDICTION selects the rules, and a second
jurisdiction (Kyrgyzstan, shipped as data) ingests, traces and detects like the first."""

from __future__ import annotations

import itertools
import json
import math
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen import jurisdiction, reference
from keruen.api.access import Role
from keruen.api.accounts import check_user
from keruen.api.errors import BadRequest
from keruen.errors import ConfigError, InvalidEvent
from keruen.ingest import ingest_lines
from keruen.model.validate import parse_object
from keruen.settings import get_settings
from keruen.sim import ids
from tests import factory as f
from tests import kg

KZ, KG = jurisdiction.get("KZ"), jurisdiction.get("KG")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_the_setting_selects_the_jurisdiction(env: pytest.MonkeyPatch) -> None:
    env.delenv("KERUEN_JURISDICTION", raising=False)
    assert get_settings().jurisdiction is KZ
    env.setenv("KERUEN_JURISDICTION", "kg")
    get_settings.cache_clear()
    assert get_settings().jurisdiction is KG and KG.home == "KG" and KG.name == "Kyrgyzstan"
    env.setenv("KERUEN_JURISDICTION", "XX")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"KERUEN_JURISDICTION: 'XX' is not a known .*KZ, KG"):
        get_settings()


def test_a_jurisdiction_travels_to_the_parse_process_by_its_code() -> None:
    assert pickle.loads(pickle.dumps(KG)) is KG
    assert len(pickle.dumps(KZ)) < 120  # its code, not its posts


def test_the_union_is_the_same_and_the_partners_differ() -> None:
    assert KZ.union == KG.union == frozenset({"AM", "BY", "KG", "KZ", "RU"})
    assert "KZ" in KG.partners and "KG" not in KG.partners and "KG" in KZ.partners


# --- tax ids: every row is (tax id, the reason it is refused, or None) --------------------

KG_INNS = [
    # real organisations' INNs, from OFAC's SDN list (public domain): 0 + DDMMYYYY + 5 digits
    ("01703202210110", None),
    ("02806202210325", None),
    ("01510201210159", None),
    ("01108201510101", None),
    ("20308197410028", None),  # a person on the same list: 2 (male), born 03.08.1974
    ("10101199000017", None),  # a woman born 01.01.1990
    ("0170320221011", "must be 14 digits (a Kyrgyz INN)"),
    ("017032022101100", "must be 14 digits (a Kyrgyz INN)"),
    ("0170320221011A", "must be 14 digits (a Kyrgyz INN)"),
    ("０１７０３２０２２１０１１０", "must be 14 digits (a Kyrgyz INN)"),  # full-width digits
    ("31703202210110", "must start with 0 (organisation) or 1, 2 (person) (a Kyrgyz INN)"),
    ("03202202210110", "digits 2-9 are not a registration date DDMMYYYY (a Kyrgyz INN)"),
    ("01713202210110", "digits 2-9 are not a registration date DDMMYYYY (a Kyrgyz INN)"),
    ("23002199010110", "digits 2-9 are not a date of birth DDMMYYYY (a Kyrgyz INN)"),
    ("20101180010110", "digits 2-9 are not a date of birth DDMMYYYY (a Kyrgyz INN)"),
    (f.A, "must be 14 digits (a Kyrgyz INN)"),  # a Kazakh BIN
]


@pytest.mark.parametrize(("tax_id", "reason"), KG_INNS)
def test_kyrgyz_inn(tax_id: str, reason: str | None) -> None:
    assert KG.tax_id_problem(tax_id) == reason


def test_the_real_kyrgyz_inns_in_the_shipped_ofac_extract_all_pass() -> None:
    rows = reference.read_rows("ofac_sdn_russia_related_eurasia_subset.csv")
    found = [
        word.rstrip(".;,")
        for r in rows
        for part in " ".join(r.values()).split("Tax ID No. ")[1:]
        if "(Kyrgyzstan)" in part[:40]
        for word in part.split()[:1]
    ]
    assert found, "the extract holds Kyrgyz tax ids"
    assert [t for t in found if KG.tax_id_problem(t)] == []


@settings(deadline=None)
@given(st.dates(min_value=date(1992, 1, 1)), st.integers(0, 99_999))
def test_an_organisation_inn_says_when_it_was_registered(day: Any, serial: int) -> None:
    inn = f"0{day:%d%m%Y}{serial:05d}"
    assert KG.tax_id_problem(inn) is None
    reg = jurisdiction.registered_us(inn, "KG")
    assert reg is not None and reg // 86_400_000_000 == day.toordinal() - 719_163


def test_a_kazakh_bin_says_its_registration_month_whatever_the_home() -> None:
    assert jurisdiction.registered_us(f.bin_(7, "2203"), "KZ") == 1_646_092_800_000_000
    assert jurisdiction.registered_us(kg.NEW, "KG") == 1_644_451_200_000_000  # 2022-02-10
    assert jurisdiction.registered_us(kg.SHOP, "KG") is None  # a person: a birth date
    assert jurisdiction.registered_us("7701234567", "RU") is None  # no rule we know


# --- the other country's identifiers, numbers and posts are refused, naming the field ------


def _refusal(event: dict[str, Any], j: jurisdiction.Jurisdiction) -> tuple[str, str]:
    with pytest.raises(InvalidEvent) as e:
        parse_object(event, j)
    return e.value.field, e.value.reason


def _kg_import(**change: Any) -> dict[str, Any]:
    return {**kg.story()[0], **change}


REFUSED_UNDER_KG = [
    ("holder", f.import_("x", "50635/260322/0000064/001"), "a Kyrgyz INN"),
    ("holder", _kg_import(holder=f.A), "must be 14 digits (a Kyrgyz INN)"),
    ("batch", _kg_import(batch="50635/260322/0000064/001"), "not a declaration item number"),
    ("batch", _kg_import(batch="41700000/310222/0000064/001"), "ddmmyy is not a date"),
    ("post", _kg_import(post="KZHOR-ROAD"), "'KZHOR-ROAD' is not a known border post"),
    ("to", {**kg.story()[1], "to": f.B}, "must be 14 digits (a Kyrgyz INN)"),
    (
        "seller.country",
        {**kg.story()[3], "seller": {"name": "Too", "country": "KG", "tax_id": kg.OLD}},
        "an arrival comes from a customs union partner, not KG",
    ),
]


@pytest.mark.parametrize(("field", "event", "reason"), REFUSED_UNDER_KG)
def test_kazakh_identifiers_are_refused_under_kg(
    field: str, event: dict[str, Any], reason: str
) -> None:
    got = _refusal(event, KG)
    assert got[0] == field and reason in got[1], got


REFUSED_UNDER_KZ = [
    ("holder", kg.story()[0], "must be 12 digits (a Kazakh BIN/IIN)"),
    ("from", kg.story()[1], "must be 12 digits (a Kazakh BIN/IIN)"),
    ("batch", f.import_("x", kg.BATCH), "not a declaration item number"),
    ("post", {**f.import_("x", "50635/260322/0000064/001"), "post": "KGTG1-ROAD"}, "border post"),
    (
        "buyer.country",
        f.dispatch("x", "B", f.A, "1", buyer={"name": "ОсОО", "country": "KZ", "tax_id": f.B}),
        "a dispatch goes to a customs union partner, not KZ",
    ),
]


@pytest.mark.parametrize(("field", "event", "reason"), REFUSED_UNDER_KZ)
def test_kyrgyz_identifiers_are_refused_under_kz(
    field: str, event: dict[str, Any], reason: str
) -> None:
    got = _refusal(event, KZ)
    assert got[0] == field and reason in got[1], got


def test_each_story_event_passes_under_its_own_jurisdiction() -> None:
    for e in kg.story():
        assert parse_object(e, KG).event.id == e["id"]
    assert parse_object(f.import_("x", KZ.declaration_example), KZ).event.id == "x"
    assert KG.declaration_problem(KG.declaration_example) is None


# --- the Kyrgyz border posts ------------------------------------------------------------


def _outlines() -> dict[str, list[list[list[list[float]]]]]:
    doc = json.loads(Path(reference.data_path("countries_kz_region_50m.geojson")).read_text())
    out = {}
    for feat in doc["features"]:
        g = feat["geometry"]
        out[feat["properties"]["iso_a2"]] = (
            g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        )
    return out


def _inside(lat: float, lon: float, polys: list[list[list[list[float]]]]) -> bool:
    for poly in polys:
        ring, crossings = poly[0], False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                crossings = not crossings
        if crossings:
            return True
    return False


def _km_to(lat: float, lon: float, polys: list[list[list[list[float]]]]) -> float:
    """Distance to the nearest edge of an outline (flat-Earth, fine at a few km)."""
    k, best = math.cos(math.radians(lat)), math.inf
    for poly in polys:
        ring = poly[0]
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            ax, ay, bx, by = (x1 - lon) * k, y1 - lat, (x2 - lon) * k, y2 - lat
            dx, dy = bx - ax, by - ay
            t = max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy or 1)))
            best = min(best, math.hypot(ax + t * dx, ay + t * dy) * 111.2)
    return best


def test_every_kyrgyz_post_is_in_kyrgyzstan_by_the_border_it_names() -> None:
    """Natural Earth 1:50m is generalised by a few km: a post may fall just outside it (the
    village of Irkeshtam, 2 km from the line, is drawn 1.5 km inside China)."""
    outlines = _outlines()
    posts = KG.posts
    assert len(posts) == 20 and {p.neighbour for p in posts.values()} == {"KZ", "CN", "TJ", "UZ"}
    for p in posts.values():
        assert _inside(p.lat, p.lon, outlines["KG"]) or _km_to(p.lat, p.lon, outlines["KG"]) < 3
        assert _km_to(p.lat, p.lon, outlines[p.neighbour]) < 15, p.code
        assert not set(posts) & set(KZ.posts)


def test_stored_events_are_not_judged_again_under_another_jurisdiction(
    sqlite_engine: Engine,
) -> None:
    """A cancellation ingested under KZ into a ledger KG wrote reads its target as stored."""
    assert ingest_lines(sqlite_engine, kg.lines(kg.story()).splitlines(), jurisdiction=KG).accepted
    cancel = f.line(f.cancel("c1", "kg-arr-1", day=5))
    report = ingest_lines(sqlite_engine, [cancel], jurisdiction=KZ)
    assert (report.accepted, report.rejected) == (1, 0), report.public()


# --- a Kyrgyz ledger end to end, as a user runs it ----------------------------------------


def test_the_parse_process_checks_by_the_jurisdiction_it_is_sent(
    sqlite_engine: Engine, env: pytest.MonkeyPatch
) -> None:
    """One line per chunk, parsed ahead in a forked process: the process's own settings say
    KZ, the ingest sends KG, and KG's rules decide."""
    env.setenv("KERUEN_JURISDICTION", "KZ")
    lines = kg.lines(kg.story()).splitlines()
    report = ingest_lines(sqlite_engine, lines, chunk_size=1, parallel=True, jurisdiction=KG)
    assert (report.accepted, report.rejected) == (4, 0), report.public()
    kz = ingest_lines(
        sqlite_engine,
        [f.line(f.import_("i", "50635/260322/0000064/001"))] * 3,
        chunk_size=1,
        parallel=True,
        jurisdiction=KG,
    )
    assert [r.error.field for r in kz.rejections] == ["holder"] * 3


def keruen(*args: str, stdin: bytes | None = None, home: str = "KG") -> Any:
    run = subprocess.run(
        [sys.executable, "-m", "keruen", *args, "--json"],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "KERUEN_JURISDICTION": home, "KERUEN_CHUNK": "1"},
    )
    assert run.returncode in (0, 3), run.stderr.decode()
    return json.loads(run.stdout)


def test_a_kyrgyz_ledger_ingests_traces_and_detects(tmp_path: Path) -> None:
    db = str(tmp_path / "kg.db")
    report = keruen("ingest", "-", "--db", db, stdin=kg.lines(kg.story() + kg.transit()))
    assert (report["accepted"], report["rejected"]) == (6, 0), report
    forward = keruen("trace", kg.BATCH, "--forward", "--db", db)
    exits = forward["batches"][0]["exits"]
    assert [(x["holder"], x["post"], x["buyer"]["country"]) for x in exits] == [
        (kg.NEW, "KGAZ1-ROAD", "RU")
    ]
    back = keruen("trace", kg.BATCH, "--back", "--db", db)
    assert [(o["importer"], o["post"]) for o in back["origins"]] == [(kg.OLD, "KGTG1-ROAD")]
    stock = keruen("stock", kg.SHOP, "--db", db)
    assert stock == [{"batch": kg.FROM_KZ, "hs": "110100", "quantity": "20000", "unit": "KGM"}]
    keruen("detect", "--db", db)
    alerts = keruen("alerts", "--level", "all", "--db", db)
    rules = {a["rule"]: a for a in alerts}
    assert {"high_priority_goods", "new_company_volume"} <= set(rules), rules
    assert "registered in 2022-02 (its INN says so)" in rules["new_company_volume"]["explanation"]
    exit_ = rules["transit_exit_other_post"]["explanation"]
    assert "Ak-Zhol (KGAZ1-ROAD, border with KZ) instead of the declared Dostuk" in exit_
    page = tmp_path / "map.html"
    subprocess.run(
        [sys.executable, "-m", "keruen", "transit", "map", kg.MRN, "--db", db, "--out", str(page)],
        check=True,
        capture_output=True,
        env={**os.environ, "KERUEN_JURISDICTION": "KG"},
    )
    html = page.read_text(encoding="utf-8")
    assert "<title>Kyrgyzstan</title>" in html.split('class="country home"')[1].split("</path>")[0]
    assert "kg_border_crossing_points.csv" in html


def test_the_same_lines_are_refused_under_the_other_home(tmp_path: Path) -> None:
    report = keruen(
        "ingest", "-", "--db", str(tmp_path / "kz.db"), stdin=kg.lines(kg.story()), home="KZ"
    )
    assert report["accepted"] == 0
    assert [(r["field"], "Kazakh BIN/IIN" in r["reason"]) for r in report["rejections"]] == [
        ("holder", True),
        ("from", True),
        ("holder", True),
        ("holder", True),
    ]


# --- nothing else in the engine names the home country ------------------------------------

PACKAGE = Path(jurisdiction.__file__).parent
# Kazakhstan by name (English, Russian, Kazakh), its code as a literal, its identifiers and
# post codes, and file names of its data
NAMES_KZ = re.compile(
    r"Kazakh|Казах|Қазақ|[\"']KZ[\"']|\bBIN\b|\bIIN\b|\bkz_|_kz_|\bKZ[A-Z0-9]{3}-(ROAD|RAIL|AIR|SEA)"
)
# where naming it is the point, and why
ALLOWED = {
    "jurisdiction.py": "the home country's rules: this module holds them",
    "settings.py": "the default of KERUEN_JURISDICTION",
    "data/": "shipped data, of and about Kazakhstan among others",
    "sim/": "the simulator models Kazakhstan's economy (sim/home.py): its ledgers are Kazakh",
    "bench/": "synthetic ledgers for benchmarks, Kazakh like the simulator's",
    "web/i18n.py": "Kazakh is one of the dashboard's languages (kk), not the home country",
    "web/locales/": "the Kazakh translation",
    "screening/": "names are matched as written in Kazakh (Cyrillic, the 2021 Latin alphabet), "
    "and listed entities' ids read as their country's registry names them",
    "analytics/mirror.py": "reproduces published figures about named countries (EU to KZ, KG, AM)",
    "analytics/mirror_files.py": "file names of the shipped national statistics",
    "analytics/service.py": "the SPEC's public figures about Kazakhstan's trade, quoted as such",
}
# a line that names a country among all others says so
EVERY_COUNTRY = "(not the home)"


def test_nothing_else_in_the_engine_names_the_home_country() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not path.is_file() or path.suffix not in (".py", ".html", ".js", ".css", ".json"):
            continue
        if any(rel == a or (a.endswith("/") and rel.startswith(a)) for a in ALLOWED):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NAMES_KZ.search(line) and EVERY_COUNTRY not in line:
                found.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert found == [], "name the home country through keruen.jurisdiction:\n" + "\n".join(found)


def test_the_grep_sees_a_home_country_named() -> None:
    for line in ('home = "KZ"', "a Kazakh BIN", "post KZHOR-ROAD", "kz_border_crossing_points"):
        assert NAMES_KZ.search(line), line
    for line in ('"KZT"', "KG", "BINARY", "Kyrgyz", "eaeu"):
        assert not NAMES_KZ.search(line), line


def test_the_demo_refuses_to_simulate_kazakhstan_under_another_home(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    run = subprocess.run(
        [sys.executable, "-m", "keruen", "demo", "--db", str(db)],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "KERUEN_JURISDICTION": "KG"},
    )
    assert run.returncode == 1 and not db.exists()
    assert b"run it with KERUEN_JURISDICTION=KZ (it is KG)" in run.stderr


def test_a_declarant_is_bound_to_a_tax_id_of_the_home_country() -> None:
    assert check_user("kg-trader", "declarant", kg.NEW, KG) is Role.declarant
    with pytest.raises(BadRequest) as e:
        check_user("kz-trader", "declarant", f.A, KG)
    assert (e.value.field, e.value.reason) == ("tax_id", "must be 14 digits (a Kyrgyz INN)")
    with pytest.raises(BadRequest) as e:
        check_user("kg-trader", "declarant", kg.NEW, KZ)
    assert e.value.field == "tax_id" and "Kazakh BIN/IIN" in e.value.reason


@settings(deadline=None)
@given(st.dates(min_value=date(1991, 9, 1)), st.integers(0, 10**9))
def test_the_simulator_s_kyrgyz_companies_pass_the_kyrgyz_rule(day: Any, serial: int) -> None:
    inn = ids.kg_inn(day, serial)
    assert KG.tax_id_problem(inn) is None
    assert jurisdiction.registered_us(inn, "KG") is not None


@settings(max_examples=300)
@given(tax_id=st.text(max_size=16) | st.from_regex(r"\A[0-9]{12,14}\Z"))
def test_a_remembered_tax_id_check_is_the_rule_s_answer(tax_id: str) -> None:
    for home in (KZ, KG):
        assert home.tax_id_problem(tax_id) == home.tax_id.problem(tax_id)
        assert home.checked_tax_ids[tax_id] == home.tax_id.problem(tax_id)


def test_the_remembered_tax_id_checks_are_bounded() -> None:
    checked = jurisdiction.CheckedTaxIds(jurisdiction.kz_bin_problem)
    for n in range((1 << 16) + 10):
        assert checked[f"{n:012d}"] == jurisdiction.kz_bin_problem(f"{n:012d}")
    assert len(checked) <= 1 << 16


def _kz_bin_problem_as_written(tax_id: str) -> str | None:
    """kz_bin_problem over a list of ints, as it was before it summed ASCII codes (the
    oracle of the property below)."""
    if len(tax_id) != 12 or not (tax_id.isascii() and tax_id.isdigit()):
        return "must be 12 digits (a Kazakh BIN/IIN)"
    digits = [int(c) for c in tax_id]
    for weights in ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            break
    if check == 10 or check != digits[11]:
        return "check digit does not match (not a valid Kazakh BIN/IIN)"
    return None


@settings(max_examples=2000)
@given(tax_id=st.from_regex(r"\A[0-9]{12}\Z") | st.text(max_size=13))
def test_the_kazakh_bin_check_refuses_what_it_refused(tax_id: str) -> None:
    assert jurisdiction.kz_bin_problem(tax_id) == _kz_bin_problem_as_written(tax_id)


def test_the_kazakh_bin_check_on_every_check_digit() -> None:
    for first11 in ("00000000001", "99999999999", "12345678901", "05014000012", "00000000010"):
        for last in "0123456789":
            tax_id = first11 + last
            assert jurisdiction.kz_bin_problem(tax_id) == _kz_bin_problem_as_written(tax_id)
