"""The risk commands as a user runs them, on a real SQLite file: in process (Typer's runner)
for speed, and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keruen.risk.__main__ import app
from tests import factory as f

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def keruen(*args: str) -> Run:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def test_the_module_runs_as_a_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "keruen.risk", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0 and "precheck" in run.stdout


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("cli")
    events = where / "events.jsonl"
    events.write_bytes(
        b"\n".join(
            f.lines(
                f.import_("i1", B1, holder=f.A, qty="100"),
                f.transfer("t1", B1, f.A, f.B, "80"),
                f.dispatch("d1", B1, f.B, "30", day=4),
                f.import_("i2", B2, holder=f.A, qty="100", hs="940360"),
                f.dispatch("d2", B2, f.A, "10", day=5),
            )
        )
        + b"\n"
    )
    dbfile = where / "k.db"
    run = subprocess.run(
        [sys.executable, "-m", "keruen", "ingest", str(events), "--db", str(dbfile)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert keruen("detect", "--db", str(dbfile)).returncode == 0
    return dbfile


def test_detect_is_idempotent_and_reports_json(ledger: Path) -> None:
    run = keruen("detect", "--db", str(ledger), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["alerts_added"] == 0 and report["lanes"]["total"] == 2


def test_alerts_json_carries_the_subject_identifiers(ledger: Path) -> None:
    rows = json.loads(keruen("alerts", "--db", str(ledger), "--json").stdout)
    [a] = rows
    assert a["rule"] == "high_priority_goods" and a["subject"] == "d1"
    assert a["event_ids"][0] == "d1" and a["batches"] == [B1] and f.B in a["tax_ids"]
    assert a["explanation"].startswith("dispatch d1 on 2024-03-04")
    text = keruen("alerts", "--db", str(ledger)).stdout
    assert "high_priority_goods" in text and "d1" in text


def test_precheck_json(ledger: Path) -> None:
    run = keruen(
        "precheck",
        B2,
        "5",
        "--buyer-name",
        "ООО Ромашка",
        "--buyer-country",
        "RU",
        "--buyer-id",
        "7701234567",
        "--db",
        str(ledger),
        "--json",
    )
    assert run.returncode == 0, run.stderr
    verdict = json.loads(run.stdout)
    assert verdict["lane"] == "green" and verdict["holder"] == f.A
    red = json.loads(
        keruen(
            "precheck",
            B1,
            "5",
            "--buyer-name",
            "X",
            "--buyer-country",
            "RU",
            "--holder",
            f.B,
            "--db",
            str(ledger),
            "--json",
        ).stdout
    )
    assert red["lane"] == "red" and "high_priority_goods" in red["rules"]


def test_a_case_through_the_cli(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keruen.api import accounts
    from keruen.settings import get_settings
    from keruen.store import db

    with db.new_engine(str(ledger)).begin() as conn:
        for name in ("ivanov", "petrova"):
            accounts.add_user(conn, name, "officer")
    monkeypatch.setenv("KERUEN_OPERATOR", "ivanov")
    get_settings.cache_clear()
    monkeypatch.setattr("keruen.settings.get_settings", get_settings)
    alert_id = json.loads(keruen("alerts", "--db", str(ledger), "--json").stdout)[0]["id"]
    opened = keruen("case", "open", str(alert_id), "--db", str(ledger), "--json")
    case_id = str(json.loads(opened.stdout)["case"])
    for args in (
        ("assign", case_id, "petrova"),
        ("note", case_id, "asked for the invoice"),
        ("hold", case_id, "--reason", "documents missing"),
        ("inspect", case_id),
        ("findings", case_id, "labels relabelled", "--discrepancy"),
        ("decide", case_id, "confirmed_diversion", "--reason", "relabelled chips"),
    ):
        run = keruen("case", *args, "--db", str(ledger))
        assert run.returncode == 0, run.stderr
    case = json.loads(keruen("case", "show", case_id, "--db", str(ledger), "--json").stdout)
    assert (case["status"], case["decision"], case["assignee"]) == (
        "decided",
        "confirmed_diversion",
        "petrova",
    )
    assert [a["action"] for a in case["actions"]] == [
        "open",
        "assign",
        "note",
        "hold",
        "inspect",
        "findings",
        "decide",
    ]
    assert {a["actor"] for a in case["actions"]} == {"ivanov"}  # the operator, never a --by
    assert "--by" not in keruen("case", "note", "--help").stdout
    assert (
        keruen("case", "reopen", case_id, "--reason", "appeal", "--db", str(ledger)).returncode == 0
    )
    refused = keruen("case", "assign", case_id, "nobody", "--db", str(ledger))
    assert refused.returncode == 1 and "not an enabled officer" in refused.stderr
    monkeypatch.setenv("KERUEN_OPERATOR", "mallory")
    get_settings.cache_clear()
    refused = keruen("case", "note", case_id, "hi", "--db", str(ledger))
    assert refused.returncode == 1 and "operator: 'mallory' is not an enabled officer" in (
        refused.stderr
    )
    get_settings.cache_clear()
    # every action is also on the audit log, in its transaction, as the API writes it; the
    # refused ones left nothing
    from keruen.api import audit
    from keruen.store import integrity

    eng = db.new_engine(str(ledger))
    with eng.connect() as conn:
        rows = [r for r in reversed(audit.read(conn, 1000)) if r["action"].startswith("case.")]
        assert integrity.verify(conn).ok  # the audit chain included
    eng.dispose()
    assert [(r["action"], r["subject"]) for r in rows] == [
        (f"case.{a}", case_id)
        for a in ("open", "assign", "note", "hold", "inspect", "findings", "decide", "reopen")
    ]
    assert {(r["actor"], r["role"], r["client"]) for r in rows} == {("ivanov", "officer", "cli")}
    assert rows[0]["detail"] == {"alerts": [alert_id]}
    assert rows[1]["detail"] == {"officer": "petrova"}
    assert rows[6]["detail"] == {"decision": "confirmed_diversion"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("detect", "--now", "yesterday"), "now: 'yesterday' is not an RFC 3339 time"),
        (("alerts", "--status", "maybe"), "status: 'maybe' is not one of"),
        (("case", "decide", "1", "shrug"), "decision: 'shrug' is not one of"),
        (("case", "show", "999"), "case 999 does not exist"),
        (("precheck", "NOPE", "1", "--buyer-name", "X", "--buyer-country", "RU"), "NOPE"),
        (
            ("precheck", B2, "0", "--buyer-name", "X", "--buyer-country", "RU"),
            "quantity: must be a positive number",
        ),
        (("evaluate", "--truth", "/no/such/truth.jsonl"), "truth: /no/such/truth.jsonl"),
    ],
)
def test_a_user_s_mistake_is_a_clear_message(
    ledger: Path, args: tuple[str, ...], message: str
) -> None:
    run = keruen(*args, "--db", str(ledger))
    assert run.returncode == 1
    assert message in run.stderr and "Traceback" not in run.stderr


def test_evaluate_json(ledger: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    truth.write_text(
        json.dumps(
            {
                "id": "S1",
                "kind": "shell_chain",
                "events": ["i1", "t1", "d1"],
                "batches": [B1],
                "parties": [f.B],
                "mrns": [],
                "value_usd": "900",
            }
        )
        + "\n"
    )
    run = keruen("evaluate", "--truth", str(truth), "--db", str(ledger), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["recall"], result["precision"], result["burden"]) == (1.0, 1.0, 0.0)
    assert result["per_kind"]["shell_chain"]["detected"] == 1


def test_outcomes_count_the_officers_decisions(ledger: Path) -> None:
    found = json.loads(keruen("outcomes", "--db", str(ledger), "--json").stdout)
    assert found["alerts"] == 1 and found["lanes"]["total"] == 2
    assert found["decided"] == sum(found["by_decision"].values())
