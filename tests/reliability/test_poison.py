"""Poison lines: whatever a line's bytes, it ends as accepted, duplicate or a stored rejection
with a reason, and the lines around it (and other clients' submissions) are unaffected."""

from __future__ import annotations

import io
from concurrent.futures import Future

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.api.audit import AuditEntry
from keruen.api.writer import Job, Outcome, Writer
from keruen.errors import InvalidEvent
from keruen.ingest import ingest_lines, read_lines
from keruen.model.validate import BOM, MAX_DEPTH, MAX_LINE_BYTES, parse
from tests.api.conftest import Api
from tests.factory import A, B, import_, line, transfer
from tests.reliability.corpus import corpus

CORPUS = corpus()
IDS = [why for why, _ in CORPUS]


def _rejections(eng: Engine) -> list[tuple[int, str]]:
    with eng.connect() as conn:
        q = "SELECT line, reason FROM rejections ORDER BY id"
        return [(r[0], r[1]) for r in conn.exec_driver_sql(q)]


@pytest.mark.parametrize(("why", "raw"), CORPUS, ids=IDS)
def test_every_corpus_line_is_an_invalid_event_with_a_reason(why: str, raw: bytes) -> None:
    try:
        parse(raw)
    except InvalidEvent as e:
        assert e.reason
    # a few corpus lines are valid events (their crash was in storage): parsing them is fine


def test_poison_lines_are_stored_and_the_rest_of_the_file_is_ingested(engine: Engine) -> None:
    good = [line(import_("i1", "55301/010324/0000001/001")), line(import_("i2", "B2"))]
    lines = [good[0], *(raw for _, raw in CORPUS), good[1]]
    report = ingest_lines(engine, lines, source="poison.jsonl")
    assert report.accepted + report.duplicates + report.rejected == len(lines)
    assert report.accepted == 1  # i2's batch number is not a declaration item: rejected
    stored = _rejections(engine)
    assert [n for n, _ in stored] == list(range(2, len(lines) + 1))
    assert all(reason for _, reason in stored)


def test_ingesting_a_file_again_does_not_log_its_rejections_again(engine: Engine) -> None:
    lines = [raw for _, raw in CORPUS]
    first = ingest_lines(engine, lines, source="f.jsonl")
    again = ingest_lines(engine, lines, source="f.jsonl")
    assert first.rejected == again.rejected  # still reported, each time
    assert len(_rejections(engine)) == first.rejected  # stored once
    ingest_lines(engine, lines, source="other.jsonl")
    assert len(_rejections(engine)) == 2 * first.rejected  # another source is another record


def test_a_byte_order_mark_is_accepted(engine: Engine) -> None:
    report = ingest_lines(engine, [BOM + line(import_("i1", "55301/010324/0000001/001"))])
    assert report.accepted == 1, report.public()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), f"deeper than the limit of {MAX_DEPTH}"),
        (b'{"a":"' + b"[" * 5000 + b'"}', "type: required field is missing"),  # in a string
        (b'{"id":"' + b"x" * MAX_LINE_BYTES + b'"}', f"limit of {MAX_LINE_BYTES:,} bytes"),
        (b'{"type":[]}', "unknown event type []"),
        (
            b'{"type":"cancel","id":"c\\u0000","time":"2024-03-05T10:00:00Z","target":"x","reason":"r"}',
            "NUL",
        ),
    ],
    ids=["depth", "brackets-in-a-string", "size", "type-list", "nul"],
)
def test_bounds_and_odd_values_have_clear_reasons(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as e:
        parse(raw)
    assert reason in str(e.value)


_CANCEL = '{"type":"cancel","id":"c","time":"2024-03-05T10:00:00Z","target":"x","reason":"r"'


@pytest.mark.parametrize(
    ("tail", "field"),
    [
        (',"note":"a\\u0000b"}', "note"),  # an unknown field, kept with the event
        (',"extra":{"deep":["ok","x\\u0000"]}}', "extra.deep[1]"),
        (',"k\\u0000":1}', "k\\u0000"),  # in a field's name, written out
        (',"":"\\u0000"}', '""'),
    ],
    ids=["unknown-field", "nested", "in-a-name", "empty-name"],
)
def test_a_nul_character_is_refused_naming_its_field(tail: str, field: str) -> None:
    """Hypothesis found a NUL in an unknown field refused with an empty field name."""
    with pytest.raises(InvalidEvent) as e:
        parse((_CANCEL + tail).encode())
    assert (e.value.field, "NUL" in e.value.reason) == (field, True)


def test_reading_cuts_an_overlong_line_without_holding_it_and_keeps_the_next() -> None:
    stream = io.BytesIO(b"a" * 5000 + b"\nnext\n")
    assert list(read_lines(stream, limit=100)) == [b"a" * 101, b"next\n"]


def test_api_rejects_poison_per_event_and_stores_the_valid_ones(api: Api) -> None:
    poison = [raw for _, raw in CORPUS if len(raw) < 100_000]  # the API bounds bodies itself
    body = b"\n".join([line(import_("i1", "55301/010324/0000001/001")), *poison])
    headers = {**api.auth("olga"), "Content-Type": "application/x-ndjson"}
    r = api.client.post("/v1/events", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and r.json()["rejected"] == len(poison)
    for _, raw in CORPUS:  # alone: a 4xx problem naming the reason, never a 500
        one = api.client.post("/v1/events", content=raw, headers=api.auth("olga"))
        assert one.status_code in (400, 404, 413, 422), one.text
        assert one.json()["reason"]


def test_a_failing_submission_fails_only_itself_in_a_group(engine: Engine) -> None:
    """Jobs judged together (the writer groups concurrent submissions): a job whose lines
    break ingest (here a line that is not bytes) fails alone; the others are stored."""
    writer = Writer(engine)
    good = [
        Job("src", [line(import_(f"i{n}", f"55301/01032{n}/0000001/001"))], [f"i{n}"], _no_audit)
        for n in range(1, 4)
    ]
    bad = Job("src", [None], [None], _no_audit)  # type: ignore[list-item]
    writer._process([good[0], bad, good[1], good[2]])
    assert isinstance(bad.future.exception(), Exception)
    assert [_status(j.future) for j in good] == ["accepted"] * 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 3


def test_a_database_refusal_isolates_the_one_line(engine: Engine) -> None:
    """A line the database refuses (here: over a column's size on PostgreSQL, or a trigger on
    SQLite) becomes a rejection naming the database's reason; the rest of the chunk stands."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = 't-bad' "
                "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END"
            )
        else:
            conn.exec_driver_sql("ALTER TABLE events ADD CONSTRAINT refuse CHECK (id <> 't-bad')")
    batch = "55301/010324/0000001/001"
    lines = [
        line(import_("i1", batch)),
        line(transfer("t-bad", batch, A, B, "1")),
        line(transfer("t-ok", batch, A, B, "2")),
    ]
    report = ingest_lines(engine, lines, source="s")
    assert (report.accepted, report.rejected) == (2, 1), report.public()
    assert "the database refused it" in str(report.rejections[0].error)
    assert [n for n, _ in _rejections(engine)] == [2]


def _no_audit(_: list[Outcome]) -> list[AuditEntry]:
    return []


def _status(f: Future[list[Outcome]]) -> str:
    return f.result(timeout=10)[0].status
