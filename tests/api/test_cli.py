"""`keruen users|keys|openapi`: what an administrator types, and what a user's mistake prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
