"""Accounts: passwords, disabling, removing, role changes, ids never reused (each backend)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keruen.api import accounts, audit, passwords
from keruen.api.access import Role
from keruen.api.errors import BadRequest, Conflict, Unauthorized
from keruen.api.tables import api_keys, users
from keruen.cli import app
from keruen.errors import NotFound
from keruen.store import db
from tests.api.conftest import Api
from tests.factory import A, B

PASSWORD = "correct horse battery"


def test_password_hash_is_salted_and_verifies() -> None:
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first != second and PASSWORD not in first and first.startswith("scrypt$15$8$1$")
    assert passwords.verify(PASSWORD, first) and passwords.verify(PASSWORD, second)
    assert not passwords.verify(PASSWORD + "x", first)
    assert not passwords.verify(PASSWORD, None) and not passwords.verify(PASSWORD, "md5$x")


@pytest.mark.parametrize(
    ("password", "why"),
    [("short", "at least"), (" " * 12, "only spaces"), ("x" * 1025, "at most")],
)
def test_weak_passwords_are_refused(engine: Engine, password: str, why: str) -> None:
    with pytest.raises(BadRequest, match=why) as e, engine.begin() as conn:
        accounts.add_user(conn, "olga", "officer", password=password)
    assert e.value.field == "password"


def _audit(conn: sa.Connection) -> list[dict[str, object]]:
    return audit.read(conn, 100)


def test_check_password_answers_alike_and_audits_every_attempt(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "olga", "officer", password=PASSWORD)
        accounts.add_user(conn, "ana", "analyst")  # no password: signs in with nothing
        accounts.add_user(conn, "acme", "declarant", A, password=PASSWORD)
    with engine.begin() as conn:
        user = accounts.check_password(conn, "acme", PASSWORD, "10.0.0.1")
        assert user == accounts.User(user.id if user else 0, "acme", Role.declarant, A)
        assert user is not None and user.principal().tenant == A
        refused = [
            accounts.check_password(conn, name, pw)
            for name, pw in [("olga", "wrong password"), ("ana", ""), ("nobody", PASSWORD)]
        ]
        assert refused == [None, None, None]
    with engine.connect() as conn:
        rows = _audit(conn)
    assert [(r["action"], r["outcome"], r["actor"]) for r in rows] == [
        ("auth.password", "denied", "anonymous"),
        ("auth.password", "denied", "anonymous"),
        ("auth.password", "denied", "anonymous"),
        ("auth.password", "ok", "acme"),
    ]
    assert [r["detail"] for r in rows[:3]] == [
        {"claimed": "nobody", "why": "unknown user"},
        {"claimed": "ana", "why": "no password set"},
        {"claimed": "olga", "why": "wrong password"},
    ]
    assert rows[3]["client"] == "10.0.0.1"


def test_disabled_user_is_refused_everywhere_until_enabled(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "acme", "declarant", A, password=PASSWORD)
        key = accounts.create_key(conn, "acme")
        assert accounts.set_disabled(conn, "acme", True)["disabled"] is True
    with engine.begin() as conn:
        with pytest.raises(Unauthorized):
            accounts.principal_by_key(conn, key.key)
        assert accounts.check_password(conn, "acme", PASSWORD) is None
        accounts.set_disabled(conn, "acme", False)
        assert accounts.principal_by_key(conn, key.key).name == "acme"
        assert accounts.check_password(conn, "acme", PASSWORD) is not None


def test_removed_user_id_and_keys_are_never_reused(engine: Engine) -> None:
    """The reported hole: on SQLite a new user took a deleted user's id, and its old keys."""
    with engine.begin() as conn:
        accounts.add_user(conn, "root", "admin")
        old = accounts.add_user(conn, "acme", "declarant", A)
        key = accounts.create_key(conn, "acme")
        assert accounts.remove_user(conn, "acme") == [key.key_id]
        new = accounts.add_user(conn, "newadmin", "admin")
    assert new["id"] > old["id"]
    with engine.connect() as conn:
        with pytest.raises(Unauthorized):
            accounts.principal_by_key(conn, key.key)
        assert conn.scalar(sa.select(sa.func.count()).select_from(api_keys)) == 0
    with engine.begin() as conn:  # a row deleted by hand (max id) is not reused either
        conn.execute(users.delete().where(users.c.name == "newadmin"))
        again = accounts.add_user(conn, "third", "officer")
    assert again["id"] > new["id"]


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            api_keys.insert(),
            {"id": "k1", "user_id": 999, "label": "x", "digest": "d" * 64, "created_us": 1},
        )


def test_role_changes_keep_the_tax_id_rule_and_an_admin(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "root", "admin")
        accounts.add_user(conn, "acme", "declarant", A)
        with pytest.raises(BadRequest, match="tax id"):
            accounts.set_role(conn, "acme", "officer", A)
        assert accounts.set_role(conn, "acme", "officer")["tax_id"] is None
        assert accounts.set_role(conn, "acme", "declarant", B)["tax_id"] == B
        for change in (
            lambda: accounts.set_role(conn, "root", "officer"),
            lambda: accounts.set_disabled(conn, "root", True),
            lambda: accounts.remove_user(conn, "root"),
        ):
            with pytest.raises(Conflict, match="last enabled admin"):
                change()
        with pytest.raises(NotFound):
            accounts.set_disabled(conn, "ghost", True)


def test_migration_keeps_users_and_keys_of_a_populated_database(tmp_path: Path) -> None:
    """0004 -> 0008 on SQLite rebuilds `users` (AUTOINCREMENT) with api_keys pointing at it."""
    eng = db.new_engine(str(tmp_path / "old.db"))
    cfg = Config()
    cfg.set_main_option("script_location", "keruen/store/migrations")
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(
            sa.text(
                "INSERT INTO users (name, role, tax_id, created_us) VALUES "
                "('root', 'admin', NULL, 1), ('acme', 'declarant', :a, 2)"
            ),
            {"a": A},
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_keys (id, user_id, label, digest, created_us) "
                "VALUES ('k', 2, 'x', :d, 3)"
            ),
            {"d": "0" * 64},
        )
    db.migrate(eng)
    with eng.begin() as conn:
        assert [u["name"] for u in accounts.list_users(conn)] == ["root", "acme"]
        assert accounts.list_keys(conn)[0]["user"] == "acme"
        accounts.remove_user(conn, "acme")
        assert accounts.add_user(conn, "next", "officer")["id"] == 3
    eng.dispose()


# --- over HTTP ----------------------------------------------------------------------------


def test_admin_disables_changes_and_removes_users_over_http(api: Api) -> None:
    root = api.auth("root")
    assert api.get("acme", "/v1/me").status_code == 200
    r = api.client.patch("/v1/users/acme", json={"disabled": True}, headers=root)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert api.get("acme", "/v1/me").status_code == 401  # at once, despite the auth cache
    api.client.patch("/v1/users/acme", json={"disabled": False}, headers=root)
    r = api.client.patch("/v1/users/acme", json={"role": "officer"}, headers=root)
    assert r.status_code == 200 and (r.json()["role"], r.json()["tax_id"]) == ("officer", None)
    assert api.get("acme", "/v1/me").json()["role"] == "officer"
    r = api.client.put("/v1/users/bolat/password", json={"password": "short"}, headers=root)
    assert r.status_code == 400 and r.json()["field"] == "password"
    r = api.client.put("/v1/users/bolat/password", json={"password": PASSWORD}, headers=root)
    assert r.status_code == 204 and api.get("bolat", "/v1/me").json()["password"] is True
    assert api.client.delete("/v1/users/bolat", headers=root).status_code == 204
    assert api.get("bolat", "/v1/me").status_code == 401
    assert api.client.delete("/v1/users/bolat", headers=root).status_code == 404
    assert api.client.delete("/v1/users/root", headers=root).status_code == 409
    assert api.client.delete("/v1/users/olga", headers=api.auth("olga")).status_code == 403
    actions = [r["action"] for r in api.get("root", "/v1/audit").json()]
    assert {"users.update", "users.password", "users.remove"} <= set(actions)


# --- the CLI ------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_passwords_and_account_changes(tmp_path: Path) -> None:
    url = str(tmp_path / "k.db")

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--db", url], input=stdin)
        return result.exit_code, result.stdout + result.stderr

    assert run("users", "add", "root", "--role", "admin")[0] == 0
    code, out = run(
        "users", "add", "olga", "--role", "officer", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, out
    assert run("users", "add", "x", "--role", "officer", "--password-stdin", stdin="short\n")[0]
    assert run("users", "password", "root", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert run("users", "disable", "olga")[0] == 0
    code, out = run("users", "role", "olga", "declarant")
    assert code == 1 and "tax" in out
    assert run("users", "role", "olga", "declarant", "--tax-id", A)[0] == 0
    code, out = run("users", "remove", "root", "--yes")
    assert code == 1 and "last enabled admin" in out
    code, out = run("users", "list", "--json")
    listed = {u["name"]: u for u in json.loads(out)}
    assert listed["olga"]["disabled"] and listed["olga"]["role"] == "declarant"
    assert listed["root"]["password"] and "scrypt" not in out
    assert run("users", "remove", "olga", "--yes")[0] == 0
    eng = db.new_engine(url)
    with eng.begin() as conn:
        assert accounts.check_password(conn, "root", PASSWORD) is not None
    eng.dispose()
