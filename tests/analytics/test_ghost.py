"""Ghost trade per consignment: the partner file's layout and errors, the matching rules on
hand-made declarations, and recall and precision against the simulator's truth on a seed the
matcher was not developed on."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from keruen.analytics import engines, ghost
from keruen.analytics import figures as fg
from keruen.analytics import rates as rt
from keruen.analytics.export import export_parquet
from keruen.errors import AnalyticsError, MissingRate
from keruen.ingest import ingest_lines
from keruen.sim import partner
from keruen.sim.run import write_all
from keruen.store import db

HEADER = "partner,date,hs,mass_kg,value,currency,reference\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("DEU,2022-03-01,850440,10,5,EUR,R1", "f.csv:2: partner 'DEU' is not an ISO 3166"),
        ("DE,2022-13-01,850440,10,5,EUR,R1", "f.csv:2: date '2022-13-01' is not YYYY-MM-DD"),
        ("DE,2022-03-01,85,10,5,EUR,R1", "f.csv:2: hs '85' needs at least 4 digits"),
        ("DE,2022-03-01,850440,-1,5,EUR,R1", "f.csv:2: mass_kg '-1' must be a number"),
        ("DE,2022-03-01,850440,10,x,EUR,R1", "f.csv:2: value 'x' is not a number"),
        ("DE,2022-03-01,850440,10,5,EURO,R1", "f.csv:2: currency 'EURO' is not an ISO 4217"),
        ("DE,2022-03-01,850440,10,5,EUR,", "f.csv:2: reference is empty"),
    ],
)
def test_a_bad_line_names_file_line_and_field(line: str, message: str) -> None:
    with pytest.raises(AnalyticsError, match=message.replace("(", r"\(")):
        ghost.parse(HEADER + line + "\n", "f.csv")


def test_the_header_and_a_repeated_reference_are_checked() -> None:
    with pytest.raises(AnalyticsError, match=r"f.csv:1: header lacks reference"):
        ghost.parse("partner,date,hs,mass_kg,value,currency\n", "f.csv")
    two = HEADER + "DE,2022-03-01,850440,10,5,EUR,R1\nDE,2022-03-02,850440,10,5,EUR,R1\n"
    with pytest.raises(AnalyticsError, match=r"f.csv:3: reference 'R1' appears twice"):
        ghost.parse(two, "f.csv")


def test_a_currency_the_rates_lack_is_named() -> None:
    (rec,) = ghost.parse(HEADER + "CN,2022-03-01,850440,10,5,CNY,R1\n", "f.csv")
    with pytest.raises(MissingRate, match="CNY"):
        ghost.convert([rec], rt.usd_only())


def rec(ref: str, day: int, mass: float, usd: float, hs: str = "850440") -> ghost.PartnerRecord:
    return ghost.PartnerRecord("DE", date(2022, 3, day), hs, mass, Decimal(usd), "USD", ref, usd)


def kz(id_: str, day: int, mass: float, usd: float, hs: str = "850440") -> ghost.KzDeclaration:
    return ghost.KzDeclaration(id_, "DE", date(2022, 3, day), hs, mass, usd)


def run(
    records: list[ghost.PartnerRecord], decls: list[ghost.KzDeclaration]
) -> dict[str, ghost.Outcome]:
    return {o.record.reference: o for o in ghost.Matcher(decls, ghost.Settings()).run(records)}


def test_whole_partial_and_unmatched_consignments() -> None:
    got = run(
        [
            rec("whole", 1, 1000, 9500),  # FOB 5 % under the CIF value, mass rounded
            rec("part-a", 2, 400, 3800),
            rec("part-b", 4, 600, 5700),
            rec("ghost", 3, 5000, 50000),
            rec("other-sub", 20, 1000, 9500, hs="850450"),
        ],
        [kz("k1", 8, 1000, 10000), kz("k2", 9, 1003, 10000), kz("k3", 25, 1000, 10000)],
    )
    assert (got["whole"].status, got["whole"].home_events) == ("matched", ["k1"])
    assert got["part-a"].status == got["part-b"].status == "partial"
    assert got["part-a"].home_events == ["k2"]
    assert got["ghost"].status == "unmatched"
    assert got["ghost"].reason.startswith("nearest k2 of 2022-03-09")
    assert got["ghost"].reason.endswith("(already matched to another record)")
    assert "mass 1,003.0 kg vs 5,000.0" in got["ghost"].reason
    # same heading, another subheading, within the window: matched to what is left
    assert got["other-sub"].home_events == ["k3"]


def test_a_record_that_fits_two_does_not_take_the_only_one_another_fits() -> None:
    # "wide" fits k1 and k2 (k1 best); "narrow" fits only k1: both are matched
    got = run(
        [rec("wide", 1, 1000, 9500), rec("narrow", 1, 1060, 9700)],
        [kz("k1", 5, 1040, 9800), kz("k2", 5, 985, 9000)],
    )
    assert got["narrow"].home_events == ["k1"] and got["wide"].home_events == ["k2"]


def test_nothing_from_that_partner_and_heading_is_named_so() -> None:
    got = run([rec("r", 1, 10, 10, hs="010121")], [kz("k1", 5, 10, 10)])
    assert got["r"].reason.startswith("no import or arrival from DE under heading 0101")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small preset, seed 7 (the matcher was developed on the year preset, seed 1)."""
    out = tmp_path_factory.mktemp("sim")
    write_all(7, "small", out)
    with db.scratch(None) as eng:
        with (out / "events.jsonl").open("rb") as f:
            assert ingest_lines(eng, f, source="sim").rejected == 0
        with eng.connect() as conn:
            export_parquet(conn, out / "export")
    return out


def test_the_simulator_writes_partner_records_in_the_documented_layout(simulated: Path) -> None:
    text = (simulated / "partner_exports.csv").read_text()
    records = ghost.parse(text, "partner_exports.csv")
    truth = [json.loads(x) for x in (simulated / "partner_truth.jsonl").read_text().splitlines()]
    assert len(records) == len(truth) > 100
    assert {r.currency for r in records} >= {"EUR", "CNY", "USD"}
    assert any(t["expected"] == "unmatched" for t in truth)
    assert partner.HEADER == ghost.HEADER


def test_recall_and_precision_against_the_simulators_truth(simulated: Path) -> None:
    rates = rt.load(simulated / "rates.csv")
    records = ghost.load(simulated / "partner_exports.csv")
    src = engines.duckdb(simulated / "export")
    outcomes = ghost.match(src, records, rates)
    truth = [json.loads(x) for x in (simulated / "partner_truth.jsonl").read_text().splitlines()]
    score = ghost.evaluate(outcomes, truth)
    assert score["ghost_records"] > 0
    assert score["recall"] >= 0.9, score
    assert score["precision"] >= 0.3, score
    assert score["matched_to_the_right_declaration"] >= 0.95, score
    assert fg.rates_table(rates) is not None
