"""Ingesting events: parse, judge in chunks against the ledger, store the outcome atomically.

Every submitted line ends as exactly one of: accepted, duplicate (same id, same content),
rejected (stored in `rejections` with its raw text and reason). A chunk is one transaction:
if the process dies mid-chunk nothing of that chunk is written, and re-ingesting is a no-op
for what was written before.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from multiprocessing import get_context
from typing import Any, BinaryIO, TypeVar

import sqlalchemy as sa
from psycopg import DatabaseError
from sqlalchemy.engine import Connection, Engine

from keruen import split
from keruen.errors import InvalidEvent
from keruen.jurisdiction import Jurisdiction
from keruen.ledger.overlay import Overlay
from keruen.model.validate import MAX_LINE_BYTES, Outcome, parse_many
from keruen.settings import get_settings
from keruen.split import Line, Numbered, YoungCollector, raw_lines
from keruen.store import ledger as store
from keruen.store.db import checkpointing, lock_writer, sqlite_path, unreachable
from keruen.store.judge import judge_chunk, rebuilt

Progress = Callable[[int], None]
_T = TypeVar("_T")


@dataclass(slots=True)
class Report:
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    rejections: list[store.Rejection] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "rejections": [r.public() for r in self.rejections],
        }


@contextmanager
def no_gc() -> Iterator[None]:
    """Cycle collection paused: judging a chunk, or reading, hashing and mapping a document
    that stays alive the whole time, makes many acyclic objects; collecting only slows it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while part := list(islice(it, size)):
        yield part


# called inside each chunk's transaction after its writes, with the chunk's first and last
# line numbers and its outcomes: what must commit with the events (the API's audit entries)
InTransaction = Callable[[Connection, int, int, Report], None]


def ingest_lines(
    eng: Engine,
    lines: Iterable[bytes],
    source: str = "-",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    keep_ids: bool = False,
    parallel: bool | None = None,
    in_transaction: InTransaction | None = None,
    jurisdiction: Jurisdiction | None = None,
) -> Report:
    """Ingest JSON Lines; each chunk is judged and written in one transaction (with what
    `in_transaction` writes, if given).

    With more than one chunk a second process parses the next chunks while this one judges
    and writes (parsing is pure, judging is sequential): always with `parallel=True`, never
    with False, by default only from a single-threaded process on a machine with two cores.
    Lines are checked against `jurisdiction`, by default the configured home country; the
    parse process receives it with every chunk.
    """
    report = Report()
    size = chunk_size or get_settings().chunk_size
    home = jurisdiction or get_settings().jurisdiction
    state: Overlay | None = None
    # blank lines are skipped (isspace tests in place; strip would copy every line)
    numbered = ((n, line) for n, line in enumerate(lines, 1) if not line.isspace() and line)
    parts = batched(numbered, size)
    # No automatic collection during the ingest: a full one walks the whole carried state
    # (hundreds of thousands of batches and balances) over and over. Between chunks only the
    # young generations are collected: what the last chunk made and dropped, cycles included.
    collector = YoungCollector()
    with no_gc(), checkpointing(eng) as committed:

        def advance(lines: int) -> None:  # after each chunk's commit
            committed()
            if progress:
                progress(lines)

        if _may_split(eng, parallel):
            ahead = list(islice(parts, 2))  # a second process pays off from the second chunk on
            if len(ahead) == 2:
                _ingest_split(
                    eng,
                    chain(ahead, parts),
                    home,
                    source,
                    report,
                    keep_ids,
                    in_transaction,
                    advance,
                    parallel,
                )
                return report
            parts = iter(ahead)
        for part in _parsed_parts(parts, parallel, home):
            collector.note(len(part))
            state = _ingest_isolating(eng, part, source, report, keep_ids, state, in_transaction)
            advance(len(part))
    return report


def _may_split(eng: Engine, parallel: bool | None) -> bool:
    """Whether chunks are judged apart from their writes (`keruen.split`), when forking is
    allowed at all, unless KERUEN_INGEST_SPLIT=0: on PostgreSQL, and on a SQLite file (the
    judge reads on connections of its own; an in-memory database has no other connection)."""
    if not may_fork(parallel) or not get_settings().ingest_split:
        return False
    return eng.dialect.name == "postgresql" or sqlite_path(str(eng.url)) is not None


def _ingest_split(
    eng: Engine,
    parts: Iterator[list[tuple[int, bytes]]],
    home: Jurisdiction,
    source: str,
    report: Report,
    keep_ids: bool,
    hook: InTransaction | None,
    progress: Progress | None,
    parallel: bool | None,
) -> None:
    """On SQLite a forked child judges while this process parses and writes; on PostgreSQL a
    thread judges while the parse process parses and this thread writes (the server does
    the writing on the other core: this thread only waits for it)."""
    state: Overlay | None = None

    def fallback(part: split.Chunk) -> None:  # one chunk the sequential way
        nonlocal state
        state = _ingest_isolating(eng, part.parsed(), source, report, keep_ids, state, hook)
        done(part.lines)

    def inside(conn: Connection, part: list[Numbered], o: split.Outcomes) -> None:
        if hook is not None and part:
            chunk = Report(
                len(o.accepted_ids), len(o.rejections), o.duplicates, o.rejections, o.accepted_ids
            )
            hook(conn, part[0][0], part[-1][0], chunk)

    def after(part: list[Numbered], o: split.Outcomes) -> None:
        nonlocal state
        state = None  # what the sequential way carried is stale once the child's rows are in
        report.accepted += len(o.accepted_ids)
        report.duplicates += o.duplicates
        report.rejected += len(o.rejections)
        report.rejections.extend(o.rejections)
        if keep_ids:
            report.accepted_ids.extend(o.accepted_ids)
        done(part)

    collector = YoungCollector()

    def done(part: Sized) -> None:
        collector.note(len(part))
        if progress:
            progress(len(part))

    parsed = _split_parts(parts, parallel, home)
    if eng.dialect.name == "postgresql":
        first = next(parsed)  # the parse process is forked before the judging thread starts
        split.run(eng, chain([first], parsed), source, fallback, inside, after, threaded=True)
        return
    # three processes on two cores (this one writes, one parses, one judges): the stages are
    # uneven, and the system spreads them where two processes left a core waiting. The judge
    # is forked first, then the parse process at the first chunk, before any thread starts.
    split.run(eng, parsed, source, fallback, inside, after)


def read_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of a stream, each cut after `limit + 1` bytes (the rest of a longer line is
    skipped unread into memory; the cut line is then rejected for its length)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
        yield line


def _ingest_isolating(
    eng: Engine,
    part: list[Line],
    source: str,
    report: Report,
    keep_ids: bool,
    state: Overlay | None,
    hook: InTransaction | None = None,
) -> Overlay | None:
    """`_ingest_chunk`, and when the database refuses the chunk's content (not when it is
    unreachable), the chunk again in halves, down to the one line refused: that line is stored
    as a rejection with the database's reason, and every other line keeps its outcome."""
    try:
        return _ingest_chunk(eng, part, source, report, keep_ids, state, hook)
    except Exception as e:
        if unreachable(e) or not isinstance(e, sa.exc.SQLAlchemyError | DatabaseError):
            raise  # the database is down or gone, or a bug: nothing to isolate
        if len(part) == 1:
            lineno, line, _ = part[0]
            refused = InvalidEvent("", f"the database refused it: {_first_line(e)}")
            rejection = store.Rejection(lineno, None, refused, line)
            with eng.begin() as conn:
                lock_writer(conn)
                store.write_rejections(conn, [rejection], source)
                if hook is not None:
                    hook(conn, lineno, lineno, Report(rejected=1, rejections=[rejection]))
            report.rejected += 1
            report.rejections.append(rejection)
            return None
    half = len(part) // 2
    state = _ingest_isolating(eng, part[:half], source, report, keep_ids, None, hook)
    return _ingest_isolating(eng, part[half:], source, report, keep_ids, state, hook)


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]


def _parsed_parts(
    parts: Iterator[list[Numbered]], parallel: bool | None, home: Jurisdiction
) -> Iterator[list[Line]]:
    for part, outcomes in _parsed(parts, parallel, lambda part: (parse_many, (_texts(part), home))):
        yield _joined(part, outcomes)


def _split_parts(
    parts: Iterator[list[Numbered]], parallel: bool | None, home: Jurisdiction
) -> Iterator[split.Chunk]:
    """`_parsed_parts` for the split: each chunk's outcomes encoded for the judge by the
    process that parsed them (`split.Chunk`)."""

    def job(part: list[Numbered]) -> tuple[Callable[..., bytes], tuple[Any, ...]]:
        return parse_encoded, ([n for n, _ in part], _texts(part), home)

    for part, outcomes in _parsed(parts, parallel, job):
        yield split.Chunk(part, outcomes)


def parse_encoded(numbers: list[int], lines: list[bytes], home: Jurisdiction) -> bytes:
    """`parse_many` of a chunk's lines, encoded as the split's judge takes them."""
    return split.encode_outcomes(numbers, parse_many(lines, home))


# what to make of a chunk: a module-level function (a parse process is handed it by pickle)
# and its arguments
Job = Callable[[list[Numbered]], tuple[Callable[..., _T], tuple[Any, ...]]]


def _parsed(
    parts: Iterator[list[Numbered]], parallel: bool | None, job: Job[_T]
) -> Iterator[tuple[list[Numbered], _T]]:
    """Each chunk with what `job` made of it: in a forked process when one pays off
    (`may_fork`, and from the second chunk on), else here."""
    if may_fork(parallel):
        ahead = list(islice(parts, 2))
        if len(ahead) == 2:
            yield from _in_parse_process(chain(ahead, parts), job)
            return
        parts = iter(ahead)
    for part in parts:
        fn, args = job(part)
        with no_gc():
            result = fn(*args)
        yield part, result


def _in_parse_process(
    parts: Iterable[list[Numbered]], job: Job[_T]
) -> Iterator[tuple[list[Numbered], _T]]:
    """Each chunk with what a forked process made of it, up to two chunks ahead of the one
    being judged."""
    parent = os.getpid()
    with ProcessPoolExecutor(
        1, mp_context=get_context("fork"), initializer=split.die_with, initargs=(parent,)
    ) as pool:
        window: deque[tuple[list[Numbered], Future[_T]]] = deque()
        for part in parts:
            fn, args = job(part)
            window.append((part, pool.submit(fn, *args)))
            if len(window) > 2:
                done, result = window.popleft()
                yield done, result.result()
        for done, result in window:
            yield done, result.result()


def may_fork(parallel: bool | None) -> bool:
    """Whether to fork a parse process: when asked (`parallel=True`), or by default from a
    single-threaded process (a fork copies locks that other threads may hold) on a machine
    with a second core to run it."""
    if parallel is not None:
        return parallel
    return threading.active_count() == 1 and (os.cpu_count() or 1) > 1


def _texts(part: list[tuple[int, bytes]]) -> list[bytes]:
    return [line for _, line in part]


def _joined(part: list[tuple[int, bytes]], outcomes: list[Outcome]) -> list[Line]:
    return [(n, line, o) for (n, line), o in zip(part, outcomes, strict=True)]


def _ingest_chunk(
    eng: Engine,
    part: list[Line],
    source: str,
    report: Report,
    keep_ids: bool,
    state: Overlay | None,
    hook: InTransaction | None = None,
) -> Overlay:
    """Judge and write one chunk; returns the ledger state after it, for the next chunk."""
    items = rebuilt([(lineno, result) for lineno, _, result in part])
    with eng.begin() as conn:
        events = [p.event for _, p in items if not isinstance(p, InvalidEvent)]
        overlay = store.locked_snapshot(conn, events, state)
        now = store.micros_now()
        judged = judge_chunk(overlay, items, now)
        raws = raw_lines(part, judged.refused)
        rejected = [store.Rejection(n, i, e, raws[n]) for n, i, e in judged.refused]
        store.insert(conn, judged.rows)
        store.write_rejections(conn, rejected, source, now)
        if hook is not None and part:
            chunk = Report(
                len(judged.accepted_ids),
                len(rejected),
                judged.duplicates,
                rejected,
                judged.accepted_ids,
            )
            hook(conn, part[0][0], part[-1][0], chunk)
    report.accepted += len(judged.accepted_ids)
    report.duplicates += judged.duplicates
    report.rejected += len(rejected)
    report.rejections.extend(rejected)
    if keep_ids:
        report.accepted_ids.extend(judged.accepted_ids)
    return overlay
