"""PostgreSQL's write path: binary COPY keeps every stored value, a chunk's keys are looked
up through JSON parameters as they were through arrays, and `balances` and `moves` are vacuumed
by the ledger itself when the server's autovacuum is off (as on CI)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy.engine import Connection, Engine

from keruen.ingest import ingest_lines
from keruen.store import db, driver, tidy
from keruen.store import schema as t
from keruen.store.ledger import MOVE_COLUMNS
from tests import factory as f
from tests.factory import A, B

QUANTITIES = ["0.000001", "1.50", "1E+1", "7", "2.25", "123456789012.5"]


def _batch(n: int) -> str:
    return f"55501/010324/{n:07d}/001"


def test_binary_copy_stores_what_the_insert_of_a_few_rows_stores(pg_engine: Engine) -> None:
    """Over `COPY_FROM` rows a table is written by binary COPY, below it by one INSERT; the
    same events both ways give the same stored rows (decimals, texts, numbers, NULLs)."""
    n = driver.COPY_FROM + 6
    events = [_kilos(f.import_(f"i{k}", _batch(k), A, _quantity(k), day=1)) for k in range(n)]
    events += [f.transfer(f"t{k}", _batch(k), A, B, _quantity(k + 1)) for k in range(n)]
    copied = _stored(pg_engine, events, chunk=len(events))
    with db.scratch(str(pg_engine.url)) as other:
        inserted = _stored(other, events, chunk=1)
    assert copied == inserted
    assert {q for _, _, q, src in copied["moves"] if src} == {Decimal(q) for q in QUANTITIES}


def test_a_chunk_s_balances_through_the_stage_are_those_of_the_arrays(pg_engine: Engine) -> None:
    """A chunk's balance upserts and deletes of `COPY_FROM` rows or more go through a COPY
    into a temporary table; a chunk of one event sends them as arrays. Both store the same."""
    n = driver.COPY_FROM + 6
    events = [f.import_(f"i{k}", _batch(k), A, "5", day=1) for k in range(n)]
    # the second chunk empties half of A's balances (deleted) and writes the rest and B's
    events += [f.transfer(f"t{k}", _batch(k), A, B, "5" if k % 2 else "2") for k in range(n)]
    staged = _stored(pg_engine, events, chunk=n)
    with db.scratch(str(pg_engine.url)) as other:
        arrays = _stored(other, events, chunk=1)
    assert staged["balances"] == arrays["balances"]
    assert len(staged["balances"]) == n + n // 2


def test_two_staged_writes_in_one_transaction_apply_each_once(pg_engine: Engine) -> None:
    """The statement that takes the stage's rows also empties it: a second write in the same
    transaction (before the commit that would empty it) does not see the first's rows."""
    keys = [(f"h{k}", _batch(k)) for k in range(driver.COPY_FROM)]
    cols, key = ("holder", "batch", "quantity"), ("holder", "batch")
    with pg_engine.begin() as conn:
        first = [(h, b, Decimal(1)) for h, b in keys]
        driver.bulk_write(conn, [(t.balances, cols, first, key)])
        second = [(h, b, Decimal(2)) for h, b in keys[::2]]
        driver.bulk_write(conn, [(t.balances, cols, second, key)], [(t.balances, key, keys[1::2])])
        stored = sorted(conn.exec_driver_sql("SELECT holder, batch, quantity FROM balances"))
    assert stored == sorted(second)


# keys a JSON text or a text COPY could get wrong: quotes, escapes, control characters,
# non-ASCII of two to four bytes, the longest key a column holds, an empty one
KEYS = [
    "plain",
    "tab\there",
    "back\\slash",
    "new\nline\r",
    'quo"te',
    "it's",
    "\\N",
    "[1, {2}]",
    "Ünïcödé ✓",
    "日本語",
    "emoji 🎉",
    "x" * 64,
    "",
]


def _lookups() -> list[tuple[Any, ...]]:
    """(table, columns, keys, values): keys stored, absent and repeated; text and integers."""
    balances = (
        [(k, k[::-1]) for k in KEYS] + [(k, f"?{k[1:]}") for k in KEYS] + [(KEYS[1], KEYS[1][::-1])]
    )
    return [
        (t.balances, ("batch", "holder"), ("holder", "batch"), balances),
        (
            t.cancellations,
            ("target", "event_id"),
            ("target",),
            [(k,) for k in [*KEYS, "no", "plain"]],
        ),
        (
            t.moves,
            ("event_seq", "n", "batch"),
            ("event_seq", "n"),
            [(1, 0), (2, 1), (3, 0), (1, 0)],
        ),
    ]


def _keyed_rows(conn: Connection) -> None:
    quantities = [Decimal(i + 1) for i in range(len(KEYS))]
    driver.bulk_insert(
        conn,
        t.balances,
        ("holder", "batch", "quantity"),
        [(k, k[::-1], q) for k, q in zip(KEYS, quantities, strict=True)],
    )
    driver.bulk_insert(conn, t.cancellations, ("target", "event_id"), [(k, "e") for k in KEYS])
    moves = [
        (s, n, f"b{s}", None, "h", Decimal(1), "import", 0, "e") for s in (1, 2) for n in (0, 1)
    ]
    driver.bulk_insert(conn, t.moves, MOVE_COLUMNS, moves)


def test_json_key_rows_find_what_array_key_rows_find(pg_engine: Engine) -> None:
    """`fetch_in` sends a chunk's keys as one JSON array per key column; the rows found are
    those the array parameters (still the deletes' key rows) find, repeats included."""
    with pg_engine.begin() as conn:
        _keyed_rows(conn)
        for table, columns, keys, values in _lookups():
            found = sorted(driver.fetch_in(conn, table, columns, keys, iter(values)))
            cols = ", ".join(f"t.{c}" for c in columns)
            by_arrays = f"SELECT {cols} {driver._looked_up(conn, table, columns, keys)}"
            arrays = sorted(conn.exec_driver_sql(by_arrays, driver._arrays(sorted(values))))
            assert found == arrays, table.name
            assert len(found) == len([v for v in values if v in _present(table)]), table.name


def _present(table: Any) -> set[tuple[Any, ...]]:
    if table is t.balances:
        return {(k, k[::-1]) for k in KEYS}
    if table is t.cancellations:
        return {(k,) for k in KEYS}
    return {(s, n) for s in (1, 2) for n in (0, 1)}


def test_json_lookups_answer_as_sqlite_does(pg_engine: Engine, sqlite_engine: Engine) -> None:
    """The same keys, the same rows on both backends; with `fetch_newest_and_in`, the same
    rows as text. A key longer than the column is absent (not cut to a stored key)."""
    # a cast to VARCHAR(64), as of the arrays, would find "x" * 64 for these
    longer = {"balances": [("x" * 64 + "y", "x" * 64)], "cancellations": [("x" * 65,)]}
    answers = []
    for eng in (pg_engine, sqlite_engine):
        with eng.begin() as conn:
            _keyed_rows(conn)
            answers.append(
                [
                    set(driver.fetch_in(conn, table, cols, keys, v + longer.get(table.name, [])))
                    for table, cols, keys, v in _lookups()
                ]
            )
    assert answers[0] == answers[1]
    assert len(answers[0][1]) == len(KEYS)  # the longer key found nothing
    with pg_engine.connect() as conn:
        newest, *parts = driver.fetch_newest_and_in(
            conn, (t.events, ("seq",), "seq"), [lookup[:4] for lookup in _lookups()]
        )
    assert newest == []
    as_text = [{tuple(None if v is None else str(v) for v in r) for r in a} for a in answers[0]]
    assert [{tuple(r) for r in p} for p in parts] == as_text


def test_a_chunk_s_lookups_are_planned_below_the_jit_threshold(pg_engine: Engine) -> None:
    """Key rows from JSON are planned as a set-returning function's 100 rows, so however
    many keys a chunk looks up, the plan's cost stays under `jit_above_cost`: no JIT, and no
    `SET LOCAL jit = off` round trip before the lookups."""
    keys = [(f"e{k}",) for k in range(20_000)]
    with pg_engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW jit").scalar()
        rows = driver._json_keys(conn, t.events, ["id"])
        found = driver._looked_up(conn, t.events, ["id"], ["id"], rows)
        sql = f"EXPLAIN (FORMAT JSON) SELECT t.id {found}"
        plan = conn.exec_driver_sql(sql, tuple(driver._json_params(keys, 1))).scalar()
        threshold = float(conn.exec_driver_sql("SHOW jit_above_cost").scalar() or 0)
        assert plan[0]["Plan"]["Total Cost"] < threshold / 10
        list(driver.fetch_in(conn, t.events, ("id",), ("id",), keys))
        assert conn.exec_driver_sql("SHOW jit").scalar() == server


def _quantity(k: int) -> str:
    return QUANTITIES[k % len(QUANTITIES)]


def _kilos(event: dict[str, Any]) -> dict[str, Any]:
    """The import of a batch counted in kilograms (fractions allowed), of a large quantity."""
    goods = cast(dict[str, Any], event["goods"])
    return {**event, "goods": {**goods, "unit": "KGM"}, "quantity": "999999999999"}


def _stored(eng: Engine, events: list[dict[str, Any]], chunk: int) -> dict[str, list[Any]]:
    report = ingest_lines(eng, f.lines(*events), chunk_size=chunk, parallel=False)
    assert (report.accepted, report.rejected) == (len(events), 0), report.public()
    queries = {
        "events": "SELECT id, type, time_us, key, canonical, digest, hash, ref FROM events",
        "moves": "SELECT event_id, batch, quantity, source FROM moves",
        "batches": "SELECT * FROM batches",
        "balances": "SELECT * FROM balances",
    }
    with eng.connect() as conn:
        return {k: sorted(map(tuple, conn.exec_driver_sql(q))) for k, q in queries.items()}


def test_balances_are_vacuumed_after_enough_changes(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tidy, "VACUUM_AFTER", 3)
    vacuums = _vacuum_count(pg_engine)
    events = [f.import_("i", _batch(1), A, "10", day=1)]
    events += [
        f.transfer(f"t{k}", _batch(1), *((A, B) if k % 2 else (B, A)), "10") for k in range(1, 9)
    ]
    report = ingest_lines(pg_engine, f.lines(*events), chunk_size=2, parallel=False)
    assert (report.accepted, report.rejected) == (len(events), 0), report.public()
    with pg_engine.connect() as conn:
        autovacuum = conn.exec_driver_sql("SELECT current_setting('autovacuum')").scalar()
    # each chunk of two events writes one balance and empties another: 2 changes a chunk,
    # a VACUUM after the second and the fourth of five chunks
    assert _vacuum_count(pg_engine) - vacuums >= (0 if autovacuum == "on" else 2)


def _vacuum_count(eng: Engine, table: str = "balances") -> int:
    return int(_table_stat(eng, table, "vacuum_count"))


def _table_stat(eng: Engine, table: str, column: str) -> Any:
    """A column of `pg_stat_user_tables` for `table`, read in a new transaction (the server's
    statistics are a snapshot per transaction)."""
    with eng.connect() as conn:
        return conn.exec_driver_sql(
            f"SELECT {column} FROM pg_stat_user_tables WHERE relid = to_regclass(%(t)s)",
            {"t": table},
        ).scalar()


def test_moves_are_vacuumed_once_grown_as_autovacuum_would(pg_engine: Engine) -> None:
    """With the server's autovacuum off, `moves` and `batches` are vacuumed after their insert
    threshold (1,000 rows on an empty table), which sets the visibility map the covering
    indexes' index-only scans need; `links`, with no rows, is left alone."""
    events = [f.import_(f"i{k}", _batch(k), A, "10", day=1) for k in range(1_200)]
    report = ingest_lines(pg_engine, f.lines(*events), chunk_size=600, parallel=False)
    assert (report.accepted, report.rejected) == (len(events), 0), report.public()
    with pg_engine.connect() as conn:
        if conn.exec_driver_sql("SELECT current_setting('autovacuum')").scalar() == "on":
            return  # the server's own
    pg_engine.dispose()  # the writers' sessions end and hand in their counts of inserted rows
    for _ in range(100):
        if _table_stat(pg_engine, "moves", "n_ins_since_vacuum") >= len(events):
            break
        time.sleep(0.1)
    before = {name: _vacuum_count(pg_engine, name) for name in tidy.VACUUMED}
    tidy.vacuum_grown(pg_engine)
    assert _vacuum_count(pg_engine, "moves") == before["moves"] + 1
    assert _vacuum_count(pg_engine, "batches") == before["batches"] + 1
    assert _vacuum_count(pg_engine, "links") == before["links"]
    with pg_engine.connect() as conn:
        for table in ("moves", "batches"):
            visible = "SELECT relallvisible FROM pg_class WHERE oid = to_regclass(%(t)s)"
            assert conn.exec_driver_sql(visible, {"t": table}).scalar() > 0


def test_a_vacuum_that_fails_is_logged_not_raised(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    tidy.vacuum(pg_engine, "no_such_table")
    assert "VACUUM no_such_table failed" in caplog.text


def test_jit_is_off_for_a_chunk_s_transaction_only(pg_engine: Engine) -> None:
    """A write of a chunk's rows in arrays turns JIT off until its transaction ends; a few
    rows (the API's groups) and the next transaction keep the server's setting."""
    with pg_engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW jit").scalar()
        few = [(f"e{k}",) for k in range(driver.JIT_OFF_FROM - 1)]
        driver.bulk_delete(conn, t.events, ("id",), few)
        assert conn.exec_driver_sql("SHOW jit").scalar() == server
        many = [(f"e{k}",) for k in range(driver.JIT_OFF_FROM)]
        driver.bulk_delete(conn, t.events, ("id",), many)
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
        conn.rollback()
        assert conn.exec_driver_sql("SHOW jit").scalar() == server


def test_the_ledger_tables_are_analysed_as_they_grow(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the server's autovacuum off, the tables a trace plans over get statistics once
    they have `ANALYZE_FROM` pages; the tables with none are left alone."""
    monkeypatch.setattr(tidy, "CHECK_AFTER", 4)
    monkeypatch.setattr(tidy, "ANALYZE_FROM", 1)
    events = [f.import_(f"i{k}", _batch(k), A, "10", day=1) for k in range(12)]
    report = ingest_lines(pg_engine, f.lines(*events), chunk_size=4, parallel=False)
    assert (report.accepted, report.rejected) == (len(events), 0), report.public()
    with pg_engine.connect() as conn:
        autovacuum = conn.exec_driver_sql("SELECT current_setting('autovacuum')").scalar()
        analysed = dict(
            conn.exec_driver_sql(
                "SELECT relname, reltuples >= 0 FROM pg_class"
                f" WHERE oid IN ({', '.join(f'to_regclass({n!r})' for n in tidy.ANALYZED)})"
            ).all()
        )
    if autovacuum == "on":
        return  # the server's own
    # checked before the second and third chunks' writes: the first chunk's rows are there
    assert analysed == {
        "events": True,
        "moves": True,
        "batches": True,
        "links": False,
        "cancellations": False,
    }


def test_an_analyze_that_fails_is_logged_not_raised(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tidy, "_STALE", "SELECT 'no_such_table'")
    tidy.analyze(pg_engine)
    assert "ANALYZE failed" in caplog.text
