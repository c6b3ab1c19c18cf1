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
import io
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy.engine import Engine

from keruen.epcis.document import Document
from keruen.epcis.hashing import event_hash
from keruen.epcis.mapping import Parties, Unmappable, map_event
from keruen.epcis.validate import Issue, check_cbv, read_layers
from keruen.errors import InvalidEvent, KeruenError
from keruen.ingest import Report as IngestReport
from keruen.ingest import ingest_lines, no_gc
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


def prepare(data: bytes, name: str, parties: Parties, parallel: bool = False) -> Prepared:
    """Validate and map a document; nothing is written.

    With `parallel=True` (from a single-threaded process only: it forks) half the events
    are hashed, checked and mapped in a forked process (copy-on-write: nothing is sent but
    the results), the same result sooner on free cores. Not the default: it costs some 10 %
    more CPU (the fork, pages copied on write), and on a machine whose cores other work keeps
    busy it measured no faster (docs/epcis.md).
    """
    with no_gc():
        report, schema_issues = read_layers(data, name)
        doc = report.parsed
        if doc is None:
            return Prepared(name, 0, refused=report.errors)
        work = _Work(name, doc, schema_issues, parties)
        n = len(doc.events)
        if parallel and n > 1:
            return _in_two(work, n)
        return work.part(0, n)


@dataclass
class _Work:
    """The event layers (hash, CBV rules) and the mapping, over a range of a read document."""

    name: str
    doc: Document
    schema_issues: list[Issue]
    parties: Parties

    def part(self, lo: int, hi: int) -> Prepared:
        doc = self.doc
        hashes = [event_hash(e) for e in doc.events[lo:hi]]
        errors, _ = check_cbv(doc, lo, hi)
        document_level = next((e for e in self.schema_issues if e.event is None), None)
        first: dict[int, Issue] = {}  # each event's first error: the schema's, then the CBV's
        for issue in (*self.schema_issues, *errors):
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


def _in_two(work: _Work, n: int) -> Prepared:
    """The second half of the events in a forked process while this one does the first."""
    global _shared
    mid = n // 2
    _shared = work
    try:
        with ProcessPoolExecutor(
            1, mp_context=get_context("fork"), initializer=die_with, initargs=(os.getpid(),)
        ) as pool:
            later = pool.submit(_shared_part, mid, n)
            first = work.part(0, mid)
            try:
                second = later.result()
            except BrokenProcessPool:  # the helper died (memory, a signal): do it here
                second = work.part(mid, n)
    finally:
        _shared = None
    return Prepared(
        work.name,
        first.events + second.events,
        first.lines + second.lines,
        first.line_event + second.line_event,
        first.hashes + second.hashes,
        first.refused + second.refused,
        first.raw | second.raw,
    )


def _shared_part(lo: int, hi: int) -> Prepared:
    assert _shared is not None, "runs only in a process forked by _in_two"
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
    eng: Engine, data: bytes, name: str, parties: Parties, parallel: bool = False
) -> CaptureReport:
    """Validate, map and ingest one document; every refused event is in the rejection log.
    (`parallel`: see `prepare`.)"""
    prepared = prepare(data, name, parties, parallel)
    source = f"epcis:{name}"
    if prepared.refused:
        _log_refusals(eng, prepared, source)
    return _outcome(prepared, ingest_lines(eng, prepared.lines, source=source))


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
