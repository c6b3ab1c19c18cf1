"""Ingesting events: parse, judge in chunks against the ledger, store the outcome atomically.

Every submitted line ends as exactly one of: accepted, duplicate (same id, same content),
rejected (stored in `rejections` with its raw text and reason). A chunk is one transaction:
if the process dies mid-chunk nothing of that chunk is written, and re-ingesting is a no-op
for what was written before.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy.engine import Engine

from keruen.errors import InvalidEvent, RejectedEvent
from keruen.ledger.overlay import Accepted, Overlay
from keruen.model.validate import Parsed, parse
from keruen.settings import get_settings
from keruen.store import ledger as store
from keruen.store.db import lock_writer

Progress = Callable[[int], None]


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
def _no_gc() -> Iterator[None]:
    """Judging a chunk makes many short-lived acyclic objects; cycle collection only slows it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    it = iter(items)
    while part := list(islice(it, size)):
        yield part


def ingest_lines(
    eng: Engine,
    lines: Iterable[bytes],
    source: str = "-",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    keep_ids: bool = False,
) -> Report:
    """Ingest JSON Lines; each chunk is judged and written in one transaction."""
    report = Report()
    size = chunk_size or get_settings().chunk_size
    state: Overlay | None = None
    for part in batched(enumerate(lines, 1), size):
        with _no_gc():
            state = _ingest_chunk(eng, part, source, report, keep_ids, state)
        if progress:
            progress(len(part))
    return report


def _ingest_chunk(
    eng: Engine,
    part: Iterable[tuple[int, bytes]],
    source: str,
    report: Report,
    keep_ids: bool,
    state: Overlay | None,
) -> Overlay:
    """Judge and write one chunk; returns the ledger state after it, for the next chunk."""
    parsed: list[tuple[int, bytes, Parsed]] = []
    rejected: list[store.Rejection] = []
    for lineno, line in part:
        if not line.strip():
            continue
        try:
            parsed.append((lineno, line, parse(line)))
        except InvalidEvent as e:
            rejected.append(store.Rejection(lineno, e.event_id, e, line))
    accepted: list[Accepted] = []
    duplicates = 0
    with eng.begin() as conn:
        lock_writer(conn)
        overlay = store.snapshot(conn, [p.event for _, _, p in parsed], state)
        for lineno, line, p in parsed:
            try:
                outcome = overlay.admit(p)
            except RejectedEvent as e:
                rejected.append(store.Rejection(lineno, p.event.id, e, line))
                continue
            if outcome is None:
                duplicates += 1
            else:
                accepted.append(outcome)
        rejected.sort(key=lambda r: r.line or 0)
        store.write(conn, accepted, rejected, overlay, source)
    report.accepted += len(accepted)
    report.duplicates += duplicates
    report.rejected += len(rejected)
    report.rejections.extend(rejected)
    if keep_ids:
        report.accepted_ids.extend(a.parsed.event.id for a in accepted)
    return overlay
