"""Errors and exits: every database command answers a database problem with one line naming
the database and the cause, and exit 1; reads never create an empty ledger; `ingest` says
by its exit status whether lines were rejected; benchmarks and the demo never touch (or
delete) a ledger they did not create."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.engine import Engine

from keruen.cli import REJECTED, app, main
from keruen.store import db
from tests.conftest import PG_URL
from tests.factory import A, import_, line


def _database_commands() -> Iterator[tuple[str, Any]]:
    def walk(c: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(c, "commands"):
            for name, sub in c.commands.items():
                yield from walk(sub, [*path, name])
        elif any(p.name == "db_url" for p in c.params):
            yield " ".join(path), c

    yield from walk(typer.main.get_command(app), [])


COMMANDS = dict(_database_commands())
# what each command needs besides --db to reach the database (valid values: a command may
# check its arguments before it opens the database)
ARGS: dict[str, list[str]] = {
    "ingest": ["{file}"],
    "stock": [A],
    "history": ["B1"],
    "trace": ["B1", "--back"],
    "precheck": ["B1", "1", "--buyer-name", "X", "--buyer-country", "RU"],
    "evaluate": ["--truth", "{file}"],
    "bench ingest": ["--events", "10"],
    "bench trace": ["--events", "10", "--samples", "1"],
    "screen goods": ["854231", "--to", "RU"],
    "screen party": ["Ivanov"],
    "lists load": ["ofac", "{file}"],
    "transit show": ["24KZ0001"],
    "transit map": ["24KZ0001", "--out", "{tmp}/map.html"],
    "case open": ["1"],
    "case assign": ["1", "olga"],
    "case note": ["1", "text"],
    "case attach": ["1", "2"],
    "case decide": ["1", "release"],
    "case show": ["1"],
    "case hold": ["1"],
    "case inspect": ["1"],
    "case findings": ["1", "text"],
    "case reopen": ["1", "--reason", "new facts"],
    "users add": ["olga", "--role", "officer"],
    "keys create": ["olga"],
    "keys revoke": ["k1"],
    "export parquet": ["--out", "{tmp}/parquet"],
    "trade ghost": ["--partner-file", "{file}", "--data", "{tmp}/parquet"],
    "epcis import": ["{file}"],
    "bench epcis": ["--events", "10"],
    "bench soak": ["--rate", "10", "--seconds", "1"],
    "epcis export": ["--out", "{tmp}/epcis.json"],
    "users role": ["olga", "officer"],
    "users remove": ["olga", "--yes"],
    "users password": ["olga", "--password-stdin"],
    "restore": ["{file}"],
    "backup": ["{tmp}/new.backup"],
}
CREATES = {"ingest", "serve", "users add", "lists load", "screen goods", "screen party", "demo"}
CREATES |= {"restore", "epcis import"} | {name for name in COMMANDS if name.startswith("bench ")}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`keruen ARGV` in this process, as the installed command runs it: (status, stderr)."""
    code, _, err = run_out(argv, capsys)
    return code, err


def run_out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`keruen ARGV` in this process: (status, stdout, stderr)."""
    old, stdin = sys.argv, sys.stdin
    sys.argv, sys.stdin = ["keruen", *argv], io.StringIO("a long enough passphrase 1\n")
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv, sys.stdin = old, stdin
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _required(name: str) -> list[str]:
    """A value for each required argument and option of a command not in ARGS."""
    argv: list[str] = []
    for p in COMMANDS[name].params:
        if p.required:
            argv += ["olga"] if p.param_type_name == "argument" else [p.opts[0], "olga"]
    return argv


def _argv(name: str, url: str, tmp: Path) -> list[str]:
    file = tmp / "input.jsonl"
    file.write_bytes(b"")
    extra = [a.format(file=file, tmp=tmp) for a in ARGS.get(name, _required(name))]
    return [*name.split(), *extra, "--db", url]


BROKEN = {
    "postgresql-down": ("postgresql://127.0.0.1:1/test", "127.0.0.1:1"),
    "unknown-scheme": ("mysql://127.0.0.1/keruen", "mysql://127.0.0.1/keruen"),
    "missing-directory": ("{tmp}/no/such/dir/keruen.db", "{tmp}/no/such/dir/keruen.db"),
}
if PG_URL:
    BROKEN["wrong-database-name"] = (
        "postgresql://127.0.0.1:5432/keruen_no_such_db",
        "keruen_no_such_db",
    )


def test_every_database_command_is_covered() -> None:
    assert len(COMMANDS) >= 23, sorted(COMMANDS)


@pytest.mark.parametrize("problem", sorted(BROKEN))
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_database_problem_is_one_line_naming_the_database_and_exit_1(
    name: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, named = (s.format(tmp=tmp_path) for s in BROKEN[problem])
    code, err = run(_argv(name, url, tmp_path), capsys)
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: database ") and named in lines[0], err


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - CREATES))
def test_commands_that_read_refuse_a_sqlite_file_that_does_not_exist(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "mistyped.db"
    code, err = run(_argv(name, str(missing), tmp_path), capsys)
    assert code == 1 and "no such file" in err, err
    assert not missing.exists()


def _events_file(tmp: Path, *lines: bytes) -> Path:
    path = tmp / "events.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in lines))
    return path


def test_ingest_exits_3_when_lines_were_rejected_and_0_when_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = line(import_("i1", "55301/010324/0000001/001"))
    path, ledger = _events_file(tmp_path, good, b'{"type":[]}'), str(tmp_path / "l.db")
    assert run(["ingest", str(path), "--db", ledger], capsys)[0] == REJECTED
    assert run(["ingest", str(path), "--db", ledger, "--allow-rejects"], capsys)[0] == 0
    clean = _events_file(tmp_path, good)
    assert run(["ingest", str(clean), "--db", ledger], capsys)[0] == 0


def test_ingest_checks_the_rejects_file_before_it_writes_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _events_file(tmp_path, line(import_("i1", "55301/010324/0000001/001")))
    ledger = tmp_path / "l.db"
    unwritable = tmp_path / "no" / "dir" / "rejects.jsonl"
    code, err = run(
        ["ingest", str(path), "--db", str(ledger), "--rejects", str(unwritable)], capsys
    )
    assert code == 1 and "--rejects" in err and len(err.strip().splitlines()) == 1
    assert not ledger.exists()


def test_benchmarks_never_touch_an_existing_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "real.db"
    path = _events_file(tmp_path, line(import_("i1", "55301/010324/0000001/001")))
    assert run(["ingest", str(path), "--db", str(ledger)], capsys)[0] == 0
    before = _count(ledger)
    for bench in (["bench", "ingest", "--events", "10"], ["bench", "trace", "--events", "10"]):
        code, err = run([*bench, "--db", str(ledger)], capsys)
        assert code == 1 and "exists" in err, err
    assert _count(ledger) == before == 1


def test_a_benchmark_writes_into_a_new_file_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "bench.db"
    code, err = run(["bench", "ingest", "--events", "50", "--db", str(new), "--json"], capsys)
    assert code == 0, err
    assert _count(new) == 50


def test_the_demo_never_deletes_a_ledger_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "keruen.db"
    path = _events_file(tmp_path, line(import_("i1", "55301/010324/0000001/001")))
    assert run(["ingest", str(path), "--db", str(ledger)], capsys)[0] == 0
    code, err = run(["demo", "--db", str(ledger)], capsys)
    assert code == 1 and "not made by keruen demo" in err, err
    assert _count(ledger) == 1


def test_the_demo_refuses_a_database_that_holds_a_ledger(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """On both databases, by URL: a ledger with events is never the demo's to fill."""
    from keruen.ingest import ingest_lines

    ingest_lines(engine, [line(import_("i1", "55301/010324/0000001/001"))])
    from keruen.demo.job import _claim

    with pytest.raises(db.StorageFailure, match="already holds a ledger"):
        _claim(engine)


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
