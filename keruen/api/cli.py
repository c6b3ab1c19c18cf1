"""CLI commands of keruen.api (mounted on the root `keruen` app by `keruen.cli`):
`keruen serve`, `keruen users add|list|password|disable|enable|role|remove`,
`keruen keys create|list|revoke`, `keruen openapi`, and `keruen bench api`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from keruen.console import DbOption, JsonOption, NewDbOption, emit_json, fail, out
from keruen.errors import KeruenError
from keruen.ledger.rules import iso
from keruen.store import db

T = TypeVar("T")

users_app = typer.Typer(no_args_is_help=True, help="Users of the HTTP API and their roles.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys (shown once, stored hashed).")


def _run(fn: Callable[[], T]) -> T:
    """Run a service call; a Keruen error is a clear message, never a traceback."""
    try:
        return fn()
    except KeruenError as e:
        fail(str(e))


def log_config() -> dict[str, Any]:
    """uvicorn's logs as JSON lines; the access log is Keruen's own (keruen.api.access)."""
    fmt = {"()": "keruen.api.logs.JsonFormatter"}
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": fmt},
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "keruen.api", "keruen.api.access")
        },
    }


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    db_url: Annotated[str | None, NewDbOption] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /docs and /openapi.json); logs are JSON lines on stderr."""
    import uvicorn

    from keruen.api.app import create_app, settle

    app = _run(lambda: create_app(db.ready(db_url)))
    settle()
    uvicorn.run(
        app, host=host, port=port, log_config=log_config(), access_log=False, server_header=False
    )


def openapi_cmd(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
) -> None:
    """Print the OpenAPI document of the HTTP API (docs/openapi.json is this output)."""
    from keruen.api.openapi import document_text

    text = document_text()
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


PasswordStdin = typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input"
)


def read_password(from_stdin: bool) -> str:
    """A password from stdin's first line, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        fail("no terminal to type a password in: give --password-stdin")
    typed: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return typed


def _write(
    db_url: str | None,
    fn: Callable[[Any], T],
    action: str,
    subject: str,
    detail: Callable[[T], dict[str, Any] | None] = lambda _: None,
) -> T:
    """One service call and its audit entry (as `audit.cli_actor`, taken before the call) in
    one transaction; a Keruen error is a clear message."""
    from keruen.api import audit

    def run() -> T:
        with db.ready(db_url).begin() as conn:
            actor = audit.cli_actor(conn)
            result = fn(conn)
            audit.write_cli(conn, actor, action, subject, detail(result))
            return result

    return _run(run)


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, officer, analyst or declarant")],
    tax_id: Annotated[
        str | None, typer.Option("--tax-id", help="Tax id a declarant acts for")
    ] = None,
    password_stdin: Annotated[bool, PasswordStdin] = False,
    db_url: Annotated[str | None, NewDbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Add a user with a role; a declarant is bound to its tax id. With --password-stdin the
    user can also sign in to the web dashboard (programs use API keys)."""
    from keruen.api import accounts

    password = read_password(True) if password_stdin else None

    user = _write(
        db_url,
        lambda c: accounts.add_user(c, name, role, tax_id, password),
        "users.add",
        name,
        lambda u: {"role": u["role"], "tax_id": u["tax_id"]},
    )
    if as_json:
        emit_json(user)
        return
    bound = f" for {user['tax_id']}" if user["tax_id"] else ""
    out.print(
        f"user [bold]{name}[/] ({user['role']}{bound}) added; "
        f"create a key with: keruen keys create {name}",
        highlight=False,
    )


@users_app.command("list")
def users_list(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Every user with its role and tax id."""
    from keruen.api import accounts

    with db.ready(db_url).connect() as conn:
        rows = accounts.list_users(conn)
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "name", "role", "tax id", "created", "password", "state")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            r["role"],
            r["tax_id"] or "",
            iso(r["created_us"]),
            "yes" if r["password"] else "",
            "disabled" if r["disabled"] else "enabled",
        )
    out.print(table)


@users_app.command("password")
def users_password(
    name: str,
    password_stdin: Annotated[bool, PasswordStdin] = False,
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Set or replace a user's password (for the web dashboard; API keys are unchanged)."""
    from keruen.api import accounts

    password = read_password(password_stdin)
    _write(db_url, lambda c: accounts.set_password(c, name, password), "users.password", name)
    out.print(f"password of {name} set", highlight=False)


def _disabled(user: dict[str, Any]) -> dict[str, Any]:
    return {"disabled": bool(user["disabled"])}


@users_app.command("disable")
def users_disable(name: str, db_url: Annotated[str | None, DbOption] = None) -> None:
    """Disable a user: its keys, their tokens and its password stop working until enabled."""
    from keruen.api import accounts

    _write(db_url, lambda c: accounts.set_disabled(c, name, True), "users.update", name, _disabled)
    out.print(f"user {name} disabled", highlight=False)


@users_app.command("enable")
def users_enable(name: str, db_url: Annotated[str | None, DbOption] = None) -> None:
    """Enable a disabled user again (its keys that were not revoked work again)."""
    from keruen.api import accounts

    _write(db_url, lambda c: accounts.set_disabled(c, name, False), "users.update", name, _disabled)
    out.print(f"user {name} enabled", highlight=False)


@users_app.command("role")
def users_role(
    name: str,
    role: Annotated[str, typer.Argument(help="admin, officer, analyst or declarant")],
    tax_id: Annotated[
        str | None, typer.Option("--tax-id", help="Tax id a declarant acts for")
    ] = None,
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Give a user another role (a declarant needs --tax-id)."""
    from keruen.api import accounts

    _write(
        db_url,
        lambda c: accounts.set_role(c, name, role, tax_id),
        "users.update",
        name,
        lambda u: {"role": u["role"], "tax_id": u["tax_id"]},
    )
    out.print(f"user {name} is now {role}", highlight=False)


@users_app.command("remove")
def users_remove(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    db_url: Annotated[str | None, DbOption] = None,
) -> None:
    """Remove a user and delete its keys (the audit log keeps its id and name; the id is never
    given to another user)."""
    from keruen.api import accounts

    if not yes and not typer.confirm(f"remove user {name} and its keys?"):
        fail("nothing removed")

    def remove(conn: Any) -> tuple[int, list[str]]:
        found = accounts.user_by_name(conn, name)
        return found["id"], accounts.remove_user(conn, name)

    _, keys = _write(db_url, remove, "users.remove", name, lambda r: {"id": r[0], "keys": r[1]})
    out.print(f"user {name} removed, {len(keys)} key(s) deleted", highlight=False)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="The user the key is for")],
    label: Annotated[str, typer.Option(help="What the key is for")] = "",
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Create an API key for a user and print it once (only its digest is stored)."""
    from keruen.api import accounts

    key = _write(
        db_url,
        lambda c: accounts.create_key(c, name, label),
        "keys.create",
        name,
        lambda k: {"key_id": k.key_id},
    )
    if as_json:
        emit_json({"key": key.key, "key_id": key.key_id, "user": key.user, "label": key.label})
        return
    out.print(
        f"key [bold]{key.key_id}[/] for {name} — copy it now, it is not shown again:",
        highlight=False,
    )
    sys.stdout.write(key.key + "\n")


@keys_app.command("list")
def keys_list(
    db_url: Annotated[str | None, DbOption] = None,
    as_json: Annotated[bool, JsonOption] = False,
) -> None:
    """Every key with its user, label and state (never the key itself)."""
    from keruen.api import accounts

    with db.ready(db_url).connect() as conn:
        rows = accounts.list_keys(conn)
    if as_json:
        emit_json(rows)
        return
    table = Table("key id", "user", "label", "created", "revoked")
    for r in rows:
        revoked = iso(r["revoked_us"]) if r["revoked_us"] else ""
        table.add_row(r["id"], r["user"], r["label"], iso(r["created_us"]), revoked)
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, db_url: Annotated[str | None, DbOption] = None) -> None:
    """Revoke a key: it and the tokens issued for it stop working at once."""
    from keruen.api import accounts

    _write(db_url, lambda c: accounts.revoke_key(c, key_id), "keys.revoke", key_id)
    out.print(f"key {key_id} revoked")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("serve")(serve)
    app.command("openapi")(openapi_cmd)
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
