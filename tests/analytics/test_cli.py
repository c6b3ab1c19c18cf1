from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keruen.cli import app
from tests.analytics.conftest import fill, ledger_events

runner = CliRunner()


def test_trade_figures_json_csv_parquet(sqlite_engine: Engine, tmp_path: Path) -> None:
    fill(sqlite_engine, ledger_events())
    url = str(sqlite_engine.url)
    data = tmp_path / "export"
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,date,units_per_usd\nKZT,2024-03,460\n")
    args = ["trade", "figures", "--by", "partner,year", "--flow", "dispatch,export",
            "--db", url, "--data", str(data), "--rates", str(rates)]  # fmt: skip
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [(x["flow"], x["partner"], x["year"]) for x in rows] == [
        ("dispatch", "KG", 2024),
        ("dispatch", "RU", 2024),
        ("export", "US", 2024),
    ]
    assert rows[0]["value_usd"] == 900.0 and rows[0]["quantity"] == 20 and rows[0]["events"] == 1
    assert {"mass_kg", "formula", "sources", "vintage"} <= rows[0].keys()
    r = runner.invoke(app, [*args, "--csv", "--parquet", str(tmp_path / "f.parquet")])
    assert r.exit_code == 0, r.output
    table = list(csv.DictReader(io.StringIO(r.output)))
    assert table[1]["value_usd"] == "900.00" and table[1]["partner"] == "RU"
    assert pq.read_table(tmp_path / "f.parquet").num_rows == 3


def test_a_bad_option_is_a_clear_error(sqlite_engine: Engine, tmp_path: Path) -> None:
    fill(sqlite_engine, ledger_events())
    base = ["trade", "figures", "--db", str(sqlite_engine.url), "--data", str(tmp_path)]
    r = runner.invoke(app, [*base, "--by", "nation"])
    assert r.exit_code == 1 and "by: 'nation' is not one of" in r.output
    r = runner.invoke(app, [*base, "--flow", "arrival"])
    assert r.exit_code == 1 and "no KZT rate for 2024-03-02" in r.output
    assert "Traceback" not in r.output
