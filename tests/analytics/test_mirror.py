"""Mirror statistics: the data-quality gate as table-driven rows, the shipped files' figures,
the documented layouts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keruen.analytics import mirror_files as mf
from keruen.analytics.mirror import Record, mirror, roundabout
from keruen.analytics.rates import parse
from keruen.cli import app
from keruen.errors import AnalyticsError

D = Decimal


def rec(reporter: str, partner: str, flow: str, value: str, year: int = 2022,
        month: int | None = None, label: str | None = None) -> Record:  # fmt: skip
    return Record("s", reporter, partner, label or partner, flow, year, month, D(value))


def exp(partner: str, value: str, **kw: object) -> Record:
    """`partner` (the exporter) reports exporting to KZ."""
    return rec(partner, "KZ", "EXPORT", value, **kw)  # type: ignore[arg-type]


def imp(partner: str, value: str, **kw: object) -> Record:
    """KZ reports importing from `partner`."""
    return rec("KZ", partner, "IMPORT", value, **kw)  # type: ignore[arg-type]


MONTHS = [exp("DE", "10", month=m) for m in range(1, 13)]
CASES = [
    # (records, partner, expected exports, expected imports, flags that must appear)
    ([exp("DE", "120"), imp("DE", "100")], "DE", "120", "100", []),
    ([*MONTHS, imp("DE", "100")], "DE", "120", "100", []),
    ([*MONTHS[:8], imp("DE", "100")], "DE", "80", "100", ["partner side partial_year: 8"]),
    ([exp("DE", "120"), *MONTHS[:3], imp("DE", "100")], "DE", "120", "100", []),  # annual first
    (
        [exp("EU27", "300"), imp("EU27", "200"), imp("DE", "150"), imp("FR", "50")],
        "EU27", "300", "200", ["aggregates_in_country_column"],
    ),
    (
        [exp("EU27", "300"), imp("EU27", "200"), imp("DE", "100"), imp("FR", "50")],
        "EU27", "300", "200", ["reporter side member_sum_differs: members 150 vs aggregate 200"],
    ),
    (
        [exp("EU27", "300"), imp("DE", "100"), imp("FR", "50")],
        "EU27", "300", "150", ["reporter side from_member_sum"],
    ),
    (
        [exp("EU27", "300"), imp("EU27", "200", label="European Union - 27 countries (from 2020)"),
         imp("EU", "5", label="European Union (EU)")],
        "EU27", "300", "200", ["same_partner_two_labels: used 'European Union - 27"],
    ),
    (
        [exp("EU27", "300"), imp("DE", "100", label="Germany"), imp("DE", "7", label="Deutschland"),
         imp("FR", "50")],
        "EU27", "300", "150", ["same_partner_two_labels: used 'Germany'"],
    ),
    ([exp("DE", "120")], "DE", "120", None, ["missing_side: reporter"]),
    (
        [exp("DE", "120"), imp("DE", "100"), imp("DE", "900", year=2021)],
        "DE", "120", "100", ["reporter side suspect_drop"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("records", "partner", "exports", "imports", "flags"), CASES)
def test_the_quality_gate_flags_and_never_double_counts(
    records: list[Record], partner: str, exports: str, imports: str | None, flags: list[str]
) -> None:
    (row,) = mirror(records, "KZ", partner, [2022])
    assert row["partner_exports_eur"] == D(exports)
    assert row["reporter_imports_eur"] == (D(imports) if imports else None)
    for flag in flags:
        assert any(f.startswith(flag) or flag in f for f in row["flags"]), row["flags"]
    if imports:
        assert row["gap_eur"] == D(exports) - D(imports)
        assert row["ratio"] == pytest.approx(float(exports) / float(imports), rel=1e-12)
        assert row["cif_fob_adjusted_ratio"] == pytest.approx(row["ratio"] * 1.06, rel=1e-12)


def test_the_shipped_files_reproduce_the_published_roundabout_figures() -> None:
    rows = {r["figure"][:30]: r for r in roundabout(mf.shipped())}
    gap = rows["EU27 exports to KZ minus KZ imp"[:30]]
    assert gap["value"] == D("10347711062") - D("7627497665.52")  # Eurostat − KZ statistics
    assert gap["value_usd"] == 2864384706  # × 1.0530: the FT's "about 2.9 bn USD"
    assert rows["EU27 export growth to KZ, 2021"[:30]]["value"] == pytest.approx(0.8858, abs=1e-4)
    assert rows["EU27 export growth to KG, 2021"[:30]]["value"] == pytest.approx(3.4481, abs=1e-4)
    assert rows["EU27 export growth to AM, 2021"[:30]]["value"] == pytest.approx(1.4895, abs=1e-4)
    assert rows["share of the extra EU27 export"[:30]]["value"] == pytest.approx(0.4721, abs=1e-4)


def test_the_shipped_files_flag_what_is_wrong_with_them() -> None:
    rows = {r["year"]: r for r in mirror(mf.shipped(), "KG", "EU27")}
    assert any("same_partner_two_labels" in f for f in rows[2022]["flags"])
    assert any("third_party_fixed_rate" in f and "1.05" in f for f in rows[2022]["flags"])
    assert any("partial_year: 8 months" in f for f in rows[2024]["flags"])
    am = {r["year"]: r for r in mirror(mf.shipped(), "AM", "EU27")}
    assert any("suspect_drop" in f for f in am[2023]["flags"])


KERUEN = """reporter,partner,flow,period,value_eur
Kazakhstan,Germany,IMPORT,2022,100
DE,KZ,EXPORT,2022-01,60
DE,KZ,EXPORT,2022-02,
Germany,Kazakhstan,EXPORT,2022-03,61.5
"""
COMTRADE = """typeCode,freqCode,refYear,reporterCode,reporterISO,reporterDesc,flowCode,partnerCode,partnerISO,partnerDesc,cmdCode,primaryValue
C,A,2022,398,KAZ,Kazakhstan,M,276,DEU,Germany,TOTAL,210.6
C,A,2022,276,DEU,Germany,X,398,KAZ,Kazakhstan,TOTAL,
"""  # noqa: E501


def test_the_documented_layout_and_comtrade_load(tmp_path: Path) -> None:
    records = mf.keruen_layout(KERUEN, "k.csv")
    assert [(r.reporter, r.partner, r.flow, r.year, r.month, r.value_eur) for r in records] == [
        ("KZ", "DE", "IMPORT", 2022, None, D(100)),
        ("DE", "KZ", "EXPORT", 2022, 1, D(60)),
        ("DE", "KZ", "EXPORT", 2022, 3, D("61.5")),
    ]
    rates = parse("currency,date,usd_per_unit\nEUR,2022-01,1.0\nEUR,2022-02,1.106\n", "r.csv")
    (c,) = mf.comtrade(COMTRADE, "c.csv", rates)
    assert (c.reporter, c.partner, c.flow, c.value_eur) == ("KZ", "DE", "IMPORT", D("200.00"))
    assert "1.053000 USD per EUR" in (c.converted or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reporter,partner,flow,value_eur\n", "k.csv:1: missing columns period"),
        ("reporter,partner,flow,period,value_eur\nKZ,DE,SELL,2022,1\n", "k.csv:2: flow 'SELL'"),
        ("reporter,partner,flow,period,value_eur\nKZ,DE,IMPORT,22,1\n", "k.csv:2: period '22'"),
        ("reporter,partner,flow,period,value_eur\nKZ,DE,IMPORT,2022,x\n", "k.csv:2: value 'x'"),
        ("reporter,partner,flow,period,value_eur\n,DE,IMPORT,2022,1\n", "k.csv:2: reporter is"),
    ],
)
def test_a_bad_statistics_file_names_line_and_field(text: str, message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        mf.keruen_layout(text, "k.csv")


def test_comtrade_without_eur_rates_names_the_year() -> None:
    from keruen.errors import MissingRate

    with pytest.raises(MissingRate, match="no EUR rate for 2022"):
        mf.comtrade(COMTRADE, "c.csv", parse("currency,date,usd_per_unit\n", "r.csv"))


def test_trade_mirror_cli(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(KERUEN)
    r = CliRunner().invoke(app, ["trade", "mirror", "--reporter", "KZ", "--partner", "EU27",
                                 "--json", "--year", "2022"])  # fmt: skip
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)
    assert {"reporter", "partner", "year", "partner_exports_eur", "reporter_imports_eur",
            "gap_eur", "ratio", "flags"} <= row.keys()  # fmt: skip
    assert row["partner_exports_eur"] == 10347711062
    r = CliRunner().invoke(app, ["trade", "mirror", "--partner", "DE", "--year", "2022",
                                 "--file", str(extra), "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)[0]["partner_exports_eur"] > 0
    r = CliRunner().invoke(app, ["trade", "mirror", "--file", str(extra), "--format", "xml"])
    assert r.exit_code == 1 and "format: 'xml' is not one of" in r.output


def test_the_shadow_interval_triangulates_its_sources() -> None:
    from keruen.analytics.shadow import estimate

    row = estimate(mf.shipped(), "KZ", "EU27", 2022, None)
    assert row["shadow_low_eur"] == 2720213396  # A − B: no CIF/FOB margin
    assert row["shadow_high_eur"] == 3754984503  # A × 1.10 − B
    assert len(row["assumptions"]) == 3
    with_ledger = estimate(mf.shipped(), "KZ", "EU27", 2022, D("9000000000"))
    assert with_ledger["shadow_low_eur"] == 1347711062  # the ledger traced more than B
    assert with_ledger["shadow_high_eur"] == 3754984503
    assert with_ledger["ledger_coverage"] == pytest.approx(9e9 / 7627497665.52)
    r = CliRunner().invoke(app, ["trade", "shadow", "--year", "2022", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)[0]["shadow_low_eur"] == 2720213396


MONTHLY_CASES = [
    # (records, month, expected exports, expected imports, flags that must appear)
    ([*MONTHS, *(imp("DE", "8", month=m) for m in range(1, 13))], 3, "10", "8", []),
    ([*MONTHS, imp("DE", "100")], 3, "10", None,
     ["missing_side: reporter", "reporter side annual_only: 100 for 2022, no monthly"]),
    ([*MONTHS[:8], *(imp("DE", "8", month=m) for m in range(1, 9))], 8, "10", "8",
     ["partner side partial_year: 8 months of 2022", "reporter side partial_year: 8 months"]),
    ([*MONTHS, imp("DE", "8", month=3), imp("DE", "90", month=3, year=2021)], 3, "10", "8",
     ["reporter side suspect_drop: 8 after 90"]),  # against March of the year before
    ([*(exp(c, "5", month=4) for c in ("DE", "FR")), imp("EU27", "9", month=4),
      imp("DE", "4", month=4), imp("FR", "2", month=4)], 4, "10", "9",
     ["partner side from_member_sum",
      "reporter side member_sum_differs: members 6 vs aggregate 9"]),
]  # fmt: skip


@pytest.mark.parametrize(("records", "month", "exports", "imports", "flags"), MONTHLY_CASES)
def test_monthly_rows_go_through_the_same_gate(
    records: list[Record], month: int, exports: str | None, imports: str | None, flags: list[str]
) -> None:
    partner = "EU27" if any(r.partner == "EU27" for r in records) else "DE"
    rows = {r["month"]: r for r in mirror(records, "KZ", partner, [2022], by="month")}
    row = rows[month]
    assert row["partner_exports_eur"] == (D(exports) if exports else None)
    assert row["reporter_imports_eur"] == (D(imports) if imports else None)
    for f in flags:
        assert any(x.startswith(f) or f in x for x in row["flags"]), (f, row["flags"])
    assert all(r["year"] == 2022 for r in rows.values())


def test_monthly_mirror_cli_from_the_shipped_files() -> None:
    r = CliRunner().invoke(app, ["trade", "mirror", "--partner", "EU27", "--by", "month",
                                 "--year", "2024", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["month"] for x in rows] == list(range(1, 9))  # Eurostat monthly ends in August
    assert all(x["partner_exports_eur"] > 0 for x in rows)
    assert all("partner side partial_year: 8 months of 2024" in x["flags"] for x in rows)
    assert all("missing_side: reporter" in x["flags"] for x in rows)  # KZ publishes years
    r = CliRunner().invoke(app, ["trade", "mirror", "--by", "week"])
    assert r.exit_code == 1 and "by: 'week' is not one of year, month" in r.output


@pytest.mark.parametrize(
    ("reporter", "partner", "refused"),
    [
        ("KZ", "XX9", "partner: 'XX9'"),
        ("KZ", "EU72", "partner: 'EU72'"),
        ("KZ", "", "partner: ''"),
        ("KAZ", "EU27", "reporter: 'KAZ'"),
    ],
)
def test_an_unknown_country_or_group_is_refused_by_name(
    reporter: str, partner: str, refused: str
) -> None:
    """A mistyped code is an error naming the field, not a table of empty years."""
    with pytest.raises(AnalyticsError, match=f"^{refused} is neither"):
        mirror([rec("KZ", "DE", "IMPORT", "1")], reporter, partner, [2022])
