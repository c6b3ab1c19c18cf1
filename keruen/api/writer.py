"""The API's single writer: every ledger and audit write of the server goes through one thread.

Why: the ledger has one writer at a time anyway (hash chain, balances), and a transaction per
HTTP request would spend most of its time in per-transaction overhead. The writer drains the
queue, ingests the waiting submissions of each submitter in one `ingest_lines` call (group
commit) with their audit entries in the same transaction, and only then answers each
request. Semantics do not change: every event is judged on its own, exactly as
`keruen ingest` judges it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.api import audit
from keruen.api.audit import AuditEntry
from keruen.api.errors import StorageUnavailable
from keruen.api.profile import Profile
from keruen.errors import RejectedEvent
from keruen.ingest import Report, ingest_lines
from keruen.store.db import lock_writer
from keruen.store.ledger import Rejection, write_rejections

log = logging.getLogger("keruen.api")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one submitted event."""

    index: int
    id: str | None
    status: str  # accepted | duplicate | rejected
    error: RejectedEvent | None = None


Finish = Callable[[list[Outcome]], list[AuditEntry]]


@dataclass(slots=True)
class Job:
    source: str
    lines: list[bytes]
    ids: list[str | None]
    finish: Finish
    future: Future[list[Outcome]] = field(default_factory=Future)
    # lines refused before the writer (tenancy, a document's unmappable events): stored under
    # `source` in the transaction of the job's events and audit entries, or of its entries
    # alone when no line is left to ingest: a refusal is never stored without its audit entry
    rejections: list[Rejection] = field(default_factory=list)
    started: float = 0.0  # perf_counter when the route began on the request (0: now)
    created: float = field(default_factory=time.perf_counter)


def split(
    report: Report, ids: list[str | None], spans: list[tuple[int, int]]
) -> list[list[Outcome]]:
    """Per-job outcomes from one report over the jobs' concatenated lines (numbered from 1)."""
    rejected = {r.line: r for r in report.rejections}
    unclaimed = set(report.accepted_ids)
    results: list[list[Outcome]] = []
    for start, end in spans:
        part = []
        for line in range(start + 1, end + 1):
            event_id, index = ids[line - 1], line - 1 - start
            if (r := rejected.get(line)) is not None:
                part.append(Outcome(index, event_id, "rejected", r.error))
            elif event_id in unclaimed:
                unclaimed.discard(event_id)
                part.append(Outcome(index, event_id, "accepted"))
            else:
                part.append(Outcome(index, event_id, "duplicate"))
        results.append(part)
    return results


class Writer:
    def __init__(
        self,
        eng: Engine,
        batch_limit: int = 5000,
        linger_s: float = 0.0,
        between_groups: Callable[[int], object] | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.eng = eng
        self.profile = profile  # where each request's time goes (keruen.api.profile)
        # per job being processed: [its source group's start, first audit hook start, last
        # hook end, ingest_lines returned]
        self._marks: dict[int, list[float]] = {}
        self._group_start = 0.0
        self.batch_limit = batch_limit
        self.linger_s = linger_s
        # after a group's answers, with the number of lines it wrote (an audit-only job counts
        # one): the WAL's checkpoint, the automatic signed checkpoints (keruen.api.app)
        self.between_groups = between_groups
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> Future[list[Outcome]]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="keruen-writer", daemon=True)
                self._thread.start()
        self._queue.put(job)
        return job.future

    def record(self, entries: list[AuditEntry], timeout: float = 60) -> None:
        """Write audit entries (no events) and wait until they are stored."""
        self.submit(Job("", [], [], lambda _: entries)).result(timeout)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            jobs, stop = self._drain(job)
            self._process(jobs)
            if self.between_groups is not None:
                self.between_groups(sum(max(1, len(job.lines)) for job in jobs))
            if stop:
                return

    def _drain(self, first: Job) -> tuple[list[Job], bool]:
        """The first job and what joins it: whatever waits, and what arrives within `linger_s`
        (a transaction's fixed cost is then shared by more requests)."""
        jobs, size = [first], len(first.lines)
        deadline = time.monotonic() + self.linger_s
        while size < self.batch_limit:
            try:
                nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if nxt is None:
                return jobs, True
            jobs.append(nxt)
            size += len(nxt.lines)
        return jobs, False

    def _process(self, jobs: list[Job]) -> None:
        """Ingest, audit, answer. A failure fails only the requests it belongs to.

        A job with lines is audited inside the transaction of its events (an event is never
        stored without its audit entry, whatever crashes); a job without lines (audit
        entries, and rejections decided before the writer) is written in a transaction of
        its own."""
        results: dict[int, list[Outcome] | BaseException]
        audited: set[int] = set()
        self._group_start = time.perf_counter()
        try:
            results = dict(self._ingest(jobs, audited))
            done = [
                job
                for job in jobs
                if not isinstance(results[id(job)], Exception) and id(job) not in audited
            ]
            try:
                entries = [e for job in done for e in job.finish(_ok(results[id(job)]))]
                if entries or any(job.rejections for job in done):
                    self._record(done, entries)
            except Exception as e:
                results.update((id(job), _failure(e)) for job in done)
        except BaseException as e:  # a bug: answer every waiting request, keep the writer alive
            log.exception("writer failed")
            results = {id(job): e for job in jobs}
        for job in jobs:
            result = results[id(job)]
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
        if self.profile is not None:
            self._profiled(jobs)

    def _record(self, done: list[Job], entries: list[AuditEntry]) -> None:
        """The audit entries (and refusals) of jobs with no line ingested, in a transaction of
        their own (none when there is nothing to write: a pool checkout and a commit saved)."""
        with self.eng.begin() as conn:
            if any(job.rejections for job in done):
                lock_writer(conn)
                for job in done:
                    write_rejections(conn, job.rejections, job.source)
            audit.write(conn, entries)

    def _profiled(self, jobs: list[Job]) -> None:
        assert self.profile is not None
        now = time.perf_counter()
        self.profile.group()
        for job in jobs:
            marks = self._marks.pop(id(job), None)
            if marks is None or not job.lines:
                continue
            source, hook, hooked, done = marks
            started = job.started or job.created
            self.profile.add(
                (
                    job.created - started,
                    self._group_start - job.created,
                    source - self._group_start,
                    hook - source,
                    hooked - hook,
                    done - hooked,
                    now - done,
                )
            )
        self._marks.clear()

    def _ingest(self, jobs: list[Job], audited: set[int]) -> dict[int, list[Outcome] | Exception]:
        """Ingest each submitter's waiting jobs together; rejections keep their source. When a
        group fails, each of its jobs is tried alone: one bad submission fails only itself."""
        by_source: dict[str, list[Job]] = {}
        for job in jobs:
            by_source.setdefault(job.source, []).append(job)
        results: dict[int, list[Outcome] | Exception] = {}
        for source, group in by_source.items():
            try:
                results.update(self._ingest_group(source, group, audited))
            except Exception as e:
                if len(group) == 1:
                    results[id(group[0])] = _failure(e)
                    continue
                for job in group:
                    try:
                        results.update(self._ingest_group(source, [job], audited))
                    except Exception as alone:
                        results[id(job)] = _failure(alone)
        return results

    def _ingest_group(
        self, source: str, group: list[Job], audited: set[int]
    ) -> dict[int, list[Outcome]]:
        """One transaction for the group (so a failure leaves nothing of it written), the
        group's audit entries in it."""
        lines = [line for job in group for line in job.lines]
        if not lines:
            return {id(job): [] for job in group}
        spans, start = [], 0
        for job in group:
            spans.append((start, start + len(job.lines)))
            start += len(job.lines)
        ids = [i for job in group for i in job.ids]
        marks = [time.perf_counter(), 0.0, 0.0, 0.0]  # see _marks

        def audit_chunk(conn: Connection, first: int, last: int, chunk: Report) -> None:
            marks[1] = marks[1] or time.perf_counter()
            entries = []
            for job, (begin, end) in zip(group, spans, strict=True):
                low, high = max(begin, first - 1), min(end, last)
                if low < high:
                    part = split(chunk, ids, [(low, high)])[0]
                    shifted = [
                        Outcome(o.index + low - begin, o.id, o.status, o.error) for o in part
                    ]
                    entries.extend(job.finish(shifted))
                    if id(job) not in audited and job.rejections:
                        write_rejections(conn, job.rejections, source)
                    audited.add(id(job))
            audit.write(conn, entries)
            marks[2] = time.perf_counter()

        report = ingest_lines(
            self.eng,
            lines,
            source=source,
            chunk_size=len(lines),
            keep_ids=True,
            in_transaction=audit_chunk,
        )
        marks[3] = time.perf_counter()
        if self.profile is not None:
            self._marks.update((id(job), marks) for job in group)
        return dict(zip(map(id, group), split(report, ids, spans), strict=True))


def _ok(result: list[Outcome] | BaseException) -> list[Outcome]:
    assert not isinstance(result, BaseException)
    return result


def _failure(e: Exception) -> Exception:
    """What a request whose processing raised `e` is answered with."""
    if isinstance(e, sa.exc.DBAPIError):
        log.error("storage failed: %s", e)
        return StorageUnavailable(
            "the database failed; retry: accepted events come back as duplicates"
        )
    log.exception("writer failed", exc_info=e)
    return e
