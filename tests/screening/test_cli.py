"""The screening commands, end to end through the CLI runner on a temporary database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keruen.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_screen_goods_and_party(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    code, out = run(
        "screen", "goods", "8542.31", "--to", "RU", "--date", "2024-05-01", "--db", db, "--json"
    )
    assert code == 0 and json.loads(out)["hits"][0]["tier"] == "1"
    code, out = run("screen", "goods", "12x", "--to", "RU", "--db", db)
    assert code == 1 and "hs: '12x'" in out
    code, out = run("screen", "party", "Лукашенко Александр", "--db", db, "--json")
    answer = json.loads(out.splitlines()[-1])  # no party list loaded: the shipped extract, named
    assert answer["hits"][0]["id"] == "9760" and "shipped OFAC extract" in answer["warning"]
    assert "warning" in out.splitlines()[0] or "shipped OFAC extract" in out
    code, out = run("screen", "ledger", "--db", db, "--json")
    assert code == 0 and "no party list" in json.loads(out)["warning"]
    code, out = run("lists", "load", "ofac", "--db", db, "--json")
    assert code == 0 and json.loads(out)["size"] == 409
    code, out = run("screen", "party", "Лукашенко Александр", "--db", db, "--json")
    assert json.loads(out)["hits"][0]["id"] == "9760"
    names = tmp_path / "names.csv"
    names.write_text("name,country,id\nЛукашенко Александр,BY,\nRomashka,,\n")
    code, out = run("screen", "party", "--file", str(names), "--db", db, "--json")
    lines = [json.loads(x) for x in out.splitlines()]
    assert [len(x["hits"]) > 0 for x in lines] == [True, False]
    code, out = run("lists", "show", "--db", db, "--json")
    assert {r["name"] for r in json.loads(out)} == {"chpl", "ofac-sdn"}
    code, out = run("lists", "load", "csv", str(tmp_path / "none.csv"), "--name", "x", "--db", db)
    assert code == 1 and "no such file" in " ".join(out.split())
