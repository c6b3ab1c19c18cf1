"""Capturing an EPCIS document into the ledger: the one service behind `keruen epcis import`
and `POST /v1/epcis/capture`.

`prepare` runs the validation layers and the mapping (no I/O): each event either becomes
contract lines for the ledger or is refused with its layer, pointer, rule and reason. The
ledger then judges the lines like any others (layer `ledger`); the CBV 2.0 event hash is the
idempotency key (the contract ids derive from it), so the same event sent twice, or once in
XML and once in JSON-LD, is one event, and the same hash with other content a conflict.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy.engine import Engine

from keruen.epcis.document import Document
from keruen.epcis.hashing import event_hash
from keruen.epcis.mapping import Parties, Unmappable, map_event
from keruen.epcis.validate import (
    Issue,
    check_cbv,
    json_schema_issues,
    read_layers,
    schema_valid_slice,
)
from keruen.errors import InvalidEvent, KeruenError
from keruen.ingest import Report as IngestReport
from keruen.ingest import ingest_lines, may_fork, no_gc
from keruen.settings import get_settings
from keruen.split import die_with
from keruen.store import db
from keruen.store import ledger as store
from keruen.store.db import lock_writer

if TYPE_CHECKING:
    from keruen.bulk import BulkReport

__all__ = [
    "CaptureReport",
    "Prepared",
    "capture",
    "capture_bulk",
    "load_parties",
    "prepare",
]


class PartiesFileError(KeruenError):
    status = 400


@dataclass
class Prepared:
    """The ledger lines of a document and the events refused before the ledger."""

    document: str
    events: int
    lines: list[bytes] = field(default_factory=list)
    line_event: list[int] = field(default_factory=list)  # event index of each line
    hashes: list[str] = field(default_factory=list)
    refused: list[Issue] = field(default_factory=list)
    raw: dict[int, bytes] = field(default_factory=dict)  # refused events' JSON, for the log


@dataclass
class CaptureReport:
    document: str
    events: int
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Issue] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejections"] = [asdict(i) for i in self.rejections]
        return out


_encoder = msgspec.json.Encoder(order="sorted")  # the kept event canonical: the fast parse


def _line(contract: dict[str, Any]) -> bytes:
    return _encoder.encode(contract)


def _raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, sort_keys=True, default=str).encode()


_shared: _Work | None = None  # what a forked helper works on (inherited, never pickled)

SLICE = 1_000  # events a forked helper hashes, checks and maps at a time
AHEAD = 4  # slices asked of it ahead of the one taken: memory bounded, the helper held back
CHUNK = 2_000  # the ledger's chunk while a helper prepares: the ingest starts on the first slices


def prepare(data: bytes, name: str, parties: Parties, parallel: bool = False) -> Prepared:
    """Validate and map a document; nothing is written.

    With `parallel=True` (from a single-threaded process only: it forks) the events are
    hashed, checked and mapped slice by slice in a forked process (copy-on-write: nothing is
    sent but the results), the same result; `capture` uses it to overlap the ledger's ingest.
    """
    with no_gc():
        work = _read(data, name, parties)
        if isinstance(work, Prepared):
            return work
        out = Prepared(name, len(work.doc.events))
        for part in _slices(work, parallel):
            _extend(out, part)
        return out


def _read(data: bytes, name: str, parties: Parties) -> _Work | Prepared:
    """The document read (syntax and schema layers), or what refused it whole."""
    # each slice read, and checked against the JSON Schema, where it is prepared
    report, schema_issues = read_layers(data, name, lazy=True, defer_schema=True)
    doc = report.parsed
    if doc is None:
        return Prepared(name, 0, refused=report.errors)
    return _Work(name, doc, schema_issues, parties)


def _extend(out: Prepared, part: Prepared) -> None:
    """`part` (the next slice of the same document) added to `out`; its lines are not kept
    (the caller took them or does)."""
    out.line_event += part.line_event
    out.hashes += part.hashes
    out.refused += part.refused
    out.raw |= part.raw
    out.lines += part.lines


@dataclass
class _Work:
    """The event layers (hash, CBV rules) and the mapping, over a range of a read document."""

    name: str
    doc: Document
    schema_issues: list[Issue] | None  # None: unknown while every slice checked passes
    parties: Parties

    def schema(self, lo: int, hi: int) -> list[Issue]:
        """The schema layer's issues as they concern events `lo` to `hi`: none when their
        slice passes (`schema_valid_slice`), else the whole document's, worked out once."""
        if self.schema_issues is None:
            if schema_valid_slice(self.doc.raw, lo, hi):
                return []
            self.schema_issues = json_schema_issues(self.doc.raw)
        return self.schema_issues

    def part(self, lo: int, hi: int) -> Prepared:
        doc = self.doc
        schema_issues = self.schema(lo, hi)
        doc.read(lo, hi)
        hashes = [event_hash(e) for e in doc.events[lo:hi]]
        errors, _ = check_cbv(doc, lo, hi)
        document_level = next((e for e in schema_issues if e.event is None), None)
        first: dict[int, Issue] = {}  # each event's first error: the schema's, then the CBV's
        for issue in (*schema_issues, *errors):
            if issue.event is not None and lo <= issue.event < hi:
                first.setdefault(issue.event, issue)
        out = Prepared(self.name, hi - lo, hashes=hashes)
        home = get_settings().jurisdiction
        for i in range(lo, hi):
            event, h = doc.events[i], hashes[i - lo]
            own = first.get(i) or document_level
            if own is not None:
                out.refused.append(_for_event(own, i, h))
                out.raw[i] = _raw(event)
                continue
            try:
                mapped = map_event(event, h, self.parties, home)
            except Unmappable as e:
                pointer = f"{doc.pointers[i]}/{e.pointer}"
                out.refused.append(Issue("ledger", i, pointer, "mapping", e.reason, h))
                out.raw[i] = _raw(event)
                continue
            for contract in mapped:
                out.lines.append(_line(contract))
                out.line_event.append(i)
        return out


def _slices(work: _Work, forked: bool) -> Generator[Prepared, None, None]:
    """The document's events prepared slice by slice, in order: here, or (`forked`, from a
    single-threaded process) in a forked helper up to `AHEAD` slices ahead of the caller.
    A slice the helper does not deliver (it died, or raised) is done here: the same result,
    or the same exception as without a helper."""
    n = len(work.doc.events)
    bounds = [(lo, min(lo + SLICE, n)) for lo in range(0, n, SLICE)] if forked else [(0, n)]
    if len(bounds) < 2:
        yield from (work.part(lo, hi) for lo, hi in bounds)
        return
    global _shared
    _shared = work
    gc.freeze()  # the document out of the collector's sight: no page copied to collect it
    try:
        with ProcessPoolExecutor(
            1, mp_context=get_context("fork"), initializer=die_with, initargs=(os.getpid(),)
        ) as pool:
            asked: deque[tuple[int, int, Future[Prepared] | None]] = deque()
            todo = iter(bounds)
            for lo, hi in todo:
                asked.append((lo, hi, _ask(pool, lo, hi)))
                if len(asked) > AHEAD:
                    yield _taken(work, *asked.popleft())
            while asked:
                yield _taken(work, *asked.popleft())
    finally:
        _shared = None
        gc.unfreeze()


def _ask(pool: ProcessPoolExecutor, lo: int, hi: int) -> Future[Prepared] | None:
    try:
        return pool.submit(_shared_part, lo, hi)
    except BrokenProcessPool:
        return None  # the helper is gone: the caller does it


def _taken(work: _Work, lo: int, hi: int, future: Future[Prepared] | None) -> Prepared:
    if future is not None:
        try:
            return future.result()
        except Exception:  # the helper died or failed: here, the same result or exception
            pass
    return work.part(lo, hi)


def _shared_part(lo: int, hi: int) -> Prepared:
    assert _shared is not None, "runs only in a process forked by _slices"
    with no_gc():
        return _shared.part(lo, hi)


def _for_event(issue: Issue, i: int, h: str) -> Issue:
    return Issue(issue.layer, i, issue.pointer, issue.rule, issue.reason, h)


def refusals(prepared: Prepared) -> list[store.Rejection]:
    """The refused events as rejection-log rows (field: pointer; reason: layer and rule)."""
    rows = []
    for issue in prepared.refused:
        error = InvalidEvent(issue.pointer[:200], f"[{issue.layer}] {issue.rule}: {issue.reason}")
        raw = prepared.raw.get(issue.event, b"{}") if issue.event is not None else b"{}"
        rows.append(store.Rejection(None, issue.hash, error, raw))
    return rows


def capture(
    eng: Engine, data: bytes, name: str, parties: Parties, parallel: bool | None = None
) -> CaptureReport:
    """Validate, map and ingest one document; every refused event is in the rejection log.

    With `parallel` (by default from a single-threaded process on a machine with a second
    core, as the ingest decides: `keruen.ingest.may_fork`) a forked helper hashes, checks and
    maps the events slice by slice (`SLICE`) while this process ingests the lines of the
    slices before, in chunks of `CHUNK`; each slice's refusals are logged before its lines
    are ingested. Without it the whole document is prepared, its refusals logged, then its
    lines ingested. The same report either way."""
    source = f"epcis:{name}"
    # Collection stays paused until the read document is out of the collector's sight (frozen
    # while a helper works on it, or freed): the first collection after the read would walk
    # every object of it (some 9 us per event).
    with no_gc():
        work = _read(data, name, parties)
        if isinstance(work, Prepared):
            prepared = work
        elif may_fork(parallel) and len(work.doc.events) >= 2 * SLICE:
            return _capture_overlapped(eng, work, source)
        else:
            prepared = Prepared(name, len(work.doc.events))
            _extend(prepared, work.part(0, prepared.events))
        del work
    if prepared.refused:
        _log_refusals(eng, prepared, source)
    return _outcome(prepared, ingest_lines(eng, prepared.lines, source=source))


def _capture_overlapped(eng: Engine, work: _Work, source: str) -> CaptureReport:
    prepared = Prepared(work.name, len(work.doc.events))

    parts = _slices(work, forked=True)

    def lines() -> Iterator[bytes]:  # taken by the ingest between its chunks' transactions
        for part in parts:
            if part.refused:
                _log_refusals(eng, part, source)
            yield from part.lines
            part.lines = []
            _extend(prepared, part)

    try:  # (the helper's pool has threads in this process: the ingest must not fork again)
        outcome = ingest_lines(eng, lines(), source=source, chunk_size=CHUNK, parallel=False)
    finally:
        parts.close()  # if the ingest failed: the helper ended and collection back now
    return _outcome(prepared, outcome)


def capture_bulk(
    target: str, data: bytes, name: str, parties: Parties
) -> tuple[CaptureReport, BulkReport]:
    """`capture` into a new SQLite ledger file through the ledger's bulk load
    (`keruen.bulk.ingest_bulk`: the same judgement, no durability while loading, indexes
    built once, the whole file checked before it becomes the ledger). The events the bridge
    refused go to the new ledger's rejection log as soon as it exists."""
    from keruen.bulk import ingest_bulk  # (only this command needs it)

    prepared = prepare(data, name, parties)
    source = f"epcis:{name}"
    loaded = ingest_bulk(prepared.lines, target, source=source)
    if prepared.refused:
        eng = db.ready(target, create=False)
        try:
            _log_refusals(eng, prepared, source)
        finally:
            eng.dispose()
    return _outcome(prepared, loaded.report), loaded


def _log_refusals(eng: Engine, prepared: Prepared, source: str) -> None:
    with eng.begin() as conn:
        lock_writer(conn)
        store.write_rejections(conn, refusals(prepared), source)


def _outcome(prepared: Prepared, outcome: IngestReport) -> CaptureReport:
    """Every event's outcome: refused by the bridge, or as the ledger judged its lines."""
    report = CaptureReport(prepared.document, prepared.events, rejections=list(prepared.refused))
    report.accepted, report.duplicates = outcome.accepted, outcome.duplicates
    for r in outcome.rejections:
        i = prepared.line_event[r.line - 1] if r.line else None
        h = prepared.hashes[i] if i is not None else None
        report.rejections.append(
            Issue("ledger", i, r.error.field, type(r.error).__name__, r.error.reason, h)
        )
    report.rejected = len(prepared.refused) + outcome.rejected
    return report


# ---------------------------------------------------------------- party master data


def load_parties(text: str, name: str = "") -> Parties:
    """Party master data: CSV with columns id,tax_id,name,country (id: a GLN, SGLN, PGLN or
    party URI), or JSON: an object of id to {tax_id, name, country}, or a list with `id`."""
    book = Parties()
    rows = _json_rows(text) if name.endswith(".json") or text.lstrip()[:1] in "[{" else None
    for row in rows if rows is not None else csv.DictReader(io.StringIO(text)):
        _add(book, row)
    return book


def _json_rows(text: str) -> Sequence[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise PartiesFileError(f"party master data: not JSON: {e}") from e
    if isinstance(data, dict):
        return [{"id": key, **value} for key, value in data.items() if isinstance(value, dict)]
    if isinstance(data, list):
        return [row for row in data if isinstance(row, dict)]
    raise PartiesFileError("party master data: an object or a list of parties")


def _add(book: Parties, row: dict[str, Any]) -> None:
    missing = [c for c in ("id", "tax_id", "name", "country") if not row.get(c)]
    if missing:
        raise PartiesFileError(f"party master data: a row lacks {', '.join(missing)}: {row}")
    party = {"tax_id": str(row["tax_id"]), "name": str(row["name"]), "country": str(row["country"])}
    book.add(str(row["id"]), party)
