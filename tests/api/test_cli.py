"""`keruen users|keys|openapi`: what an administrator types, and what a user's mistake prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from keruen.cli import app
from tests.factory import A

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_users_and_keys_lifecycle(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    code, out, _ = run(
        "users", "add", "acme", "--role", "declarant", "--tax-id", A, "--db", db, "--json"
    )
    assert code == 0 and json.loads(out)["tax_id"] == A
    code, out, _ = run("keys", "create", "acme", "--db", db, "--json")
    created = json.loads(out)
    assert code == 0 and created["key"].startswith(f"kr_{created['key_id']}_")
    code, out, _ = run("keys", "list", "--db", db, "--json")
    assert [k["id"] for k in json.loads(out)] == [created["key_id"]]
    assert created["key"] not in out and "digest" not in out
    assert run("keys", "revoke", created["key_id"], "--db", db)[0] == 0
    assert json.loads(run("keys", "list", "--db", db, "--json")[1])[0]["revoked_us"] is not None
    code, out, _ = run("users", "list", "--db", db, "--json")
    assert [(u["name"], u["role"]) for u in json.loads(out)] == [("acme", "declarant")]


def test_key_printed_once_in_plain_output(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    run("users", "add", "olga", "--role", "officer", "--db", db)
    code, out, _ = run("keys", "create", "olga", "--db", db)
    assert code == 0 and out.count("kr_") == 1


def test_mistakes_are_clear_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    cases = [
        (("users", "add", "x", "--role", "declarant"), "tax id"),
        (("users", "add", "x", "--role", "king"), "unknown role"),
        (("users", "add", "x", "--role", "declarant", "--tax-id", "123"), "12 digits"),
        (("keys", "create", "nobody"), "no user named"),
        (("keys", "revoke", "nope"), "no API key"),
    ]
    for args, message in cases:
        code, _, err = run(*args, "--db", db)
        assert code == 1 and message in err and "Traceback" not in err, args
    run("users", "add", "x", "--role", "officer", "--db", db)
    code, _, err = run("users", "add", "x", "--role", "officer", "--db", db)
    assert code == 1 and "already exists" in err


def test_openapi_command_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert run("openapi", "--out", str(target))[0] == 0
    assert "/v1/events" in json.loads(target.read_text())["paths"]


def test_production_server_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KERUEN_SECRET"}
    run = subprocess.run(
        [sys.executable, "-m", "keruen", "serve", "--db", str(tmp_path / "k.db"), "--port", "1"],
        env={**env, "KERUEN_ENV": "production"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert b"KERUEN_SECRET is not set" in run.stderr and b"Traceback" not in run.stderr


def _audit(db: str) -> list[dict[str, object]]:
    from keruen.api import audit
    from keruen.store import db as store_db

    eng = store_db.new_engine(db)
    with eng.connect() as conn:
        rows = list(reversed(audit.read(conn, limit=1000)))
    eng.dispose()
    return rows


def test_user_and_key_commands_go_to_the_audit_log(tmp_path: Path, monkeypatch: Any) -> None:
    """Every change the CLI makes to users and keys is an audit_log entry in its own
    transaction, as the API's are: the actor is KERUEN_OPERATOR, else the OS user; the chain
    verifies; a refused command leaves no entry."""
    import getpass

    from keruen.settings import get_settings
    from keruen.store import db as store_db
    from keruen.store import integrity

    db = str(tmp_path / "k.db")
    monkeypatch.delenv("KERUEN_OPERATOR", raising=False)
    get_settings.cache_clear()
    assert run("users", "add", "root", "--role", "admin", "--db", db)[0] == 0
    monkeypatch.setenv("KERUEN_OPERATOR", "root")
    get_settings.cache_clear()
    try:
        assert run("users", "add", "olga", "--role", "officer", "--db", db)[0] == 0
        _, out, _ = run("keys", "create", "olga", "--db", db, "--json")
        key_id = json.loads(out)["key_id"]
        for args in (
            ("keys", "revoke", key_id),
            ("users", "disable", "olga"),
            ("users", "enable", "olga"),
            ("users", "role", "olga", "analyst"),
            ("users", "remove", "olga", "--yes"),
        ):
            assert run(*args, "--db", db)[0] == 0, args
        assert run("users", "remove", "nobody", "--yes", "--db", db)[0] == 1
    finally:
        get_settings.cache_clear()
    rows = _audit(db)
    assert [(r["action"], r["subject"], r["actor"], r["client"]) for r in rows] == [
        ("users.add", "root", getpass.getuser(), "cli"),
        ("users.add", "olga", "root", "cli"),
        ("keys.create", "olga", "root", "cli"),
        ("keys.revoke", key_id, "root", "cli"),
        ("users.update", "olga", "root", "cli"),
        ("users.update", "olga", "root", "cli"),
        ("users.update", "olga", "root", "cli"),
        ("users.remove", "olga", "root", "cli"),
    ]
    assert rows[0]["role"] == "os-user" and rows[1]["role"] == "admin"
    assert rows[1]["user_id"] == 1
    assert [r["detail"] for r in rows[4:7]] == [
        {"disabled": True},
        {"disabled": False},
        {"role": "analyst", "tax_id": None},
    ]
    assert rows[7]["detail"] == {"id": 2, "keys": [key_id]}
    eng = store_db.new_engine(db)
    with eng.connect() as conn:
        assert integrity.verify(conn).ok
    eng.dispose()
