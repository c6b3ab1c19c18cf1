"""Tamper evidence: everything a user reads is checked against the hash-chained events.

`verify` reads the storage rows themselves (below the read port: it checks the columns the
port trusts) and finds:
- an event whose content, digest, chain hash or place in the sequence was altered, and an
  indexed column (id, type, time_us, key) that does not say what the canonical event says;
- projections that do not follow from the events: the events are replayed through the same
  rules that judged them, and the moves, links, batches, balances and cancellations they
  make are compared with the stored ones, row by row;
- a rejection or an audit entry altered, dropped or inserted (their own hash chains);
- truncation and consistent rewrites, which no chain finds on its own, against heads held
  outside the database: an expected head (`--expect SEQ:HASH`) and signed checkpoints
  (`keruen.store.checkpoint`).

Memory: the replay holds every batch and balance, and the events that cancels target.
"""

from __future__ import annotations

import gc
import hashlib
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

from keruen.errors import RejectedEvent
from keruen.ledger.overlay import Accepted, Overlay
from keruen.ledger.rules import Batch, micros
from keruen.model import events as ev
from keruen.model.validate import Parsed
from keruen.store import schema as t
from keruen.store.chain import AUDIT_COLUMNS, GENESIS, REJECTION_COLUMNS, chain_hash, row_digest
from keruen.store.ledger import BATCH_COLUMNS, MOVE_COLUMNS, ChunkRows, event_key, event_ref
from keruen.store.native import Judge, native

_REF_TYPES = frozenset(t.REF_TYPES)

_decode = msgspec.json.Decoder(ev.AnyEvent)
CHUNK = 5_000
MAX_PROBLEMS = 100
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Problem:
    table: str
    where: str  # the row: "seq 12", "id 3", "batch X", "holder/batch A/X"
    reason: str

    def public(self) -> dict[str, str]:
        return {"table": self.table, "where": self.where, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.table} {self.where}: {self.reason}"


@dataclass(slots=True)
class Chain:
    """The head of one hash chain as stored: (seq or id of the newest row, its hash)."""

    count: int = 0
    last: int = 0
    hash: str = GENESIS

    def public(self) -> dict[str, Any]:
        return {"count": self.count, "last": self.last, "hash": self.hash}


@dataclass(slots=True)
class Report:
    events: Chain = field(default_factory=Chain)
    rejections: Chain = field(default_factory=Chain)
    audit: Chain = field(default_factory=Chain)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, table: str, where: str, reason: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(table, where, reason))
        else:
            self.more_problems += 1

    def public(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events.count,
            "head": {"seq": self.events.last, "hash": self.events.hash},
            "rejections": self.rejections.public(),
            "audit": self.audit.public(),
            "problems": [p.public() for p in self.problems],
            "more_problems": self.more_problems,
        }


def verify(
    conn: Connection,
    expect: Sequence[tuple[int, str]] = (),
    progress: Progress | None = None,
) -> Report:
    """Check everything `keruen verify` checks (see the module docstring)."""
    report = Report()
    _events_and_projections(conn, report, progress)
    _rejections(conn, report)
    _audit(conn, report)
    for seq, expected in expect:
        check_event_head(conn, report, seq, expected, "expected")
    return report


def check_event_head(conn: Connection, report: Report, seq: int, expected: str, by: str) -> None:
    """The event at `seq` must still be there with the hash `by` (a person, a checkpoint) holds."""
    stored = conn.scalar(sa.select(t.events.c.hash).where(t.events.c.seq == seq))
    if stored is None:
        report.add("events", f"seq {seq}", f"missing: the {by} head names it (truncated?)")
    elif stored != expected:
        report.add("events", f"seq {seq}", f"hash differs from the {by} head (rewritten?)")


def check_row_head(
    conn: Connection, report: Report, table: sa.Table, row_id: int, expected: str, by: str
) -> None:
    if row_id == 0:
        return
    stored = conn.scalar(sa.select(table.c.hash).where(table.c.id == row_id))
    if stored is None:
        report.add(table.name, f"id {row_id}", f"missing: the {by} head names it (truncated?)")
    elif stored != expected:
        report.add(table.name, f"id {row_id}", f"hash differs from the {by} head (rewritten?)")


# --- events: chain, indexed columns, replay --------------------------------------------------


def _events_and_projections(conn: Connection, report: Report, progress: Progress | None) -> None:
    replay = _Replay(conn, report)
    # Automatic collections would walk the replay's state (every batch and balance) again and
    # again, a third of verify's time at 200 k events; the young generations are collected
    # now and then instead, as the ingest does (keruen.split.YoungCollector).
    enabled, replayed = gc.isenabled(), 0
    gc.disable()
    try:
        for part in _event_chunks(conn):
            replay.apply_chunk(part)
            replay.compare_chunk(part[0].seq, part[-1].seq)
            if progress:
                progress(len(part))
            if (replayed := replayed + len(part)) >= 200_000:
                replayed = 0
                gc.collect(1)
        replay.compare_end()
    finally:
        if enabled:
            gc.enable()


def _event_chunks(conn: Connection) -> Iterator[list[Any]]:
    c = t.events.c
    after = 0
    while True:
        q = (
            sa.select(c.seq, c.id, c.type, c.time_us, c.key, c.ref, c.canonical, c.digest)
            .add_columns(c.prev_hash, c.hash)
            .where(c.seq > after)
            .order_by(c.seq)
            .limit(CHUNK)
        )
        rows = list(conn.execute(q).all())
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def _check_event_row(row: Any, report: Report, chained: str | None = None) -> None:
    """`chained`: chain_hash(row.prev_hash, row.digest) if the native judge computed it."""
    head = report.events
    digest = hashlib.sha256(row.canonical.encode()).hexdigest()
    if (
        row.seq != head.last + 1
        or digest != row.digest
        or row.prev_hash != head.hash
        or (chained or _chained(row.prev_hash, row.digest)) != row.hash
    ):
        _event_row_problems(row, report, digest)
    head.count += 1
    head.last, head.hash = row.seq, row.hash


def _event_row_problems(row: Any, report: Report, digest: str) -> None:
    head, where = report.events, _at(row)
    if row.seq != head.last + 1:
        report.add("events", where, f"follows seq {head.last}: events in between are missing")
    if digest != row.digest:
        report.add("events", where, "stored content does not match its digest")
    if row.prev_hash != head.hash:
        report.add("events", where, "prev_hash is not the hash of the event before it")
    if _chained(row.prev_hash, row.digest) != row.hash:
        report.add("events", where, "hash does not chain prev_hash and the digest")


def _chained(prev: str, digest: str) -> str | None:
    """The chain hash of a stored row; None where its hashes are not hex (altered)."""
    try:
        return chain_hash(prev, digest)
    except ValueError:
        return None


def _at(row: Any) -> str:
    return f"seq {row.seq} ({row.id})"


def _parsed(row: Any) -> Parsed | str:
    """The stored event as the judge takes it, or why it does not decode."""
    try:
        event = _decode.decode(row.canonical)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        return f"canonical event does not decode: {e}"
    return Parsed(event, row.canonical.encode(), row.digest)


def _runs(rows: list[Any]) -> Iterator[tuple[int, int]]:
    """(first, end) of each run of rows with consecutive seqs."""
    if not rows or rows[-1].seq - rows[0].seq == len(rows) - 1:  # seqs only ever increase
        yield 0, len(rows)
        return
    first = 0
    for k in range(1, len(rows) + 1):
        if k == len(rows) or rows[k].seq != rows[k - 1].seq + 1:
            yield first, k
            first = k


def _columns_problem(row: Any, e: ev.Event) -> str | None:
    key, tag = event_key(e), e.__struct_config__.tag
    ref = key if tag in _REF_TYPES else None
    if (row.id, row.type, row.time_us, row.key, row.ref) == (e.id, tag, micros(e.time), key, ref):
        return None
    said = {
        "id": e.id,
        "type": e.__struct_config__.tag,
        "time_us": micros(e.time),
        "key": event_key(e),
        "ref": event_ref(e),
    }
    wrong = [name for name, value in said.items() if getattr(row, name) != value]
    return f"column {', '.join(wrong)} differs from the canonical event" if wrong else None


@dataclass(slots=True)
class _State(Overlay):
    """The overlay the replay carries over the whole ledger, kept small: at 10 M events it
    would hold about 7 M (holder, batch) balances, nearly all emptied long ago. A balance of
    exactly 0 is dropped (absent reads as 0, the same text in any refusal's reason), and who
    ever held a batch moves to `holders` (a batch's holders, each name kept once)."""

    holders: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def held(self, holder: str, batch: str) -> bool:
        return Overlay.held(self, holder, batch) or holder in self.holders.get(batch, ())

    def compact(self) -> None:
        balances = self.balances
        for key, q in self.touched.items():  # (each with its balance now)
            if not q and str(q) == "0":
                del balances[key]
        self.touched.clear()
        holders, batches, intern = self.holders, self.batches, sys.intern
        for holder, batch in self.held_keys:
            had = holders.get(batch)
            if had is None:
                known = batches.get(batch)
                holders[known.batch if known else batch] = (intern(holder),)
            elif holder not in had:
                holders[batch] = (*had, intern(holder))
        self.held_keys.clear()


class _Replay:
    """The events applied again, in order, by the rules that judged them; what they make is
    compared with the stored projections."""

    def __init__(self, conn: Connection, report: Report) -> None:
        self.conn, self.report = conn, report
        self.overlay = _State()
        self.targets = set(
            conn.scalars(sa.select(t.events.c.key).where(t.events.c.type == "cancel"))
        )
        self.moves: list[tuple[Any, ...]] = []
        self.links: list[tuple[Any, ...]] = []
        self.cancels: dict[str, str] = {}

    def apply_chunk(self, rows: list[Any]) -> None:
        """The chain and columns of each row checked, and its event applied: by the native
        judge (keruen.store.judge) while it takes them, in runs of consecutive seqs, else by
        the rules. Each row's problems are reported in row order, as the rules alone give."""
        items: list[tuple[int, Parsed | str]] = [(k, _parsed(row)) for k, row in enumerate(rows)]
        later: dict[int, list[str]] = {}  # what applying a row found, reported after its chain
        made: dict[int, tuple[Any, ...]] = {}  # the event rows the native judge made, by row
        fast = native()
        for first, end in _runs(rows):
            run, k = items[first:end], first
            while k < end:
                if fast is not None:
                    k = self._native_run(fast, rows, run, first, k, made)
                    if k == end:
                        break
                if found := self._apply(rows[k], items[k][1]):
                    later[k] = found
                k += 1
        self.overlay.compact()
        for k, row in enumerate(rows):
            own = made.get(k)
            _check_event_row(row, self.report, own[8] if own and own[7] == row.prev_hash else None)
            if own is not None and own[1:5] + own[10:] != (*row[1:5], row.ref):
                parsed = items[k][1]
                assert isinstance(parsed, Parsed)
                problem = _columns_problem(row, parsed.event)
                later[k] = [problem] if problem else []
            for reason in later.get(k, ()):
                self.report.add("events", _at(row), reason)

    def _native_run(
        self,
        fast: Judge,
        rows: list[Any],
        run: list[Any],
        first: int,
        k: int,
        made: dict[int, tuple[Any, ...]],
    ) -> int:
        """The native judge on the rows of `run` (consecutive seqs from row `first`) from row
        `k` on, while it takes them; the index of the first row it left."""
        out = ChunkRows(before=(0, GENESIS), after=(rows[k].seq - 1, rows[k].prev_hash))
        ids: list[str] = []
        taken = first + fast.run(self.overlay, run, k - first, out, ids, 0)
        for i, event_row in enumerate(out.events, k):
            made[i] = event_row
        self.moves.extend(out.moves)
        self.links.extend(out.links)
        known, targets = self.overlay.known, self.targets
        for event_id in ids:  # as `_apply` drops them, before the next event is judged
            if event_id not in targets:
                known.pop(event_id, None)
        return taken

    def _apply(self, row: Any, parsed: Parsed | str) -> list[str]:
        """One event applied by the rules; what was wrong with it, if anything."""
        if isinstance(parsed, str):
            return [parsed]
        event = parsed.event
        found = [problem] if (problem := _columns_problem(row, event)) else []
        try:
            accepted = self.overlay.admit(parsed)
        except RejectedEvent as e:
            return [*found, f"does not apply to the ledger: {e}"]
        if accepted is None:
            return [*found, f"repeats event id {event.id!r}"]
        self._collect(row.seq, accepted)
        if event.id not in self.targets:
            self.overlay.known.pop(event.id, None)
        return found

    def _collect(self, seq: int, a: Accepted) -> None:
        at, event_id = a.time_us, a.parsed.event.id
        self.moves.extend(
            (seq, n, m.batch, m.source, m.target, m.quantity, m.kind, at, event_id)
            for n, m in enumerate(a.effect.moves)
        )
        self.links.extend((i, o, seq) for i, o in a.effect.links)
        if a.effect.cancels:
            self.cancels[a.effect.cancels] = a.parsed.event.id

    def compare_chunk(self, first: int, last: int) -> None:
        m, lk = t.moves.c, t.links.c
        stored = self.conn.execute(
            sa.select(*(_by_value(m[c]) for c in MOVE_COLUMNS))
            .where(m.event_seq.between(first, last))
            .order_by(m.event_seq, m.n)
        ).all()
        _diff(self.report, "moves", _move_key, self.moves, [tuple(r) for r in stored])
        stored = self.conn.execute(
            sa.select(lk.input, lk.output, lk.event_seq).where(lk.event_seq.between(first, last))
        ).all()
        _diff(self.report, "links", _link_key, self.links, [tuple(r) for r in stored])
        self.moves, self.links = [], []

    def compare_end(self) -> None:
        head = self.report.events.last
        m, lk = t.moves.c, t.links.c
        for table, column in (("moves", m.event_seq), ("links", lk.event_seq)):
            n = self.conn.scalar(sa.select(sa.func.count()).where(column > head))
            if n:
                self.report.add(table, f"after seq {head}", f"{n} rows no event made")
        if not self._batches_match():
            batches = [
                (b.batch, *(getattr(b, c) for c in BATCH_COLUMNS[1:]))
                for b in self.overlay.batches.values()
                if isinstance(b, Batch)
            ]
            stored = self.conn.execute(sa.select(*(t.batches.c[c] for c in BATCH_COLUMNS)))
            _diff(self.report, "batches", _first, sorted(batches), sorted(tuple(r) for r in stored))
        c = t.balances.c
        if not self._balances_match():
            balances = sorted((h, b, q) for (h, b), q in self.overlay.balances.items() if q != 0)
            stored = self.conn.execute(sa.select(c.holder, c.batch, _by_value(c.quantity)))
            _diff(self.report, "balances", _two, balances, sorted(tuple(r) for r in stored))
        cancels = list(self.cancels.items())
        stored = self.conn.execute(sa.select(t.cancellations.c.target, t.cancellations.c.event_id))
        _diff(self.report, "cancellations", _first, cancels, [tuple(r) for r in stored])

    # The stored batches and balances read as a stream and found to be exactly the replay's:
    # at 10 M events the sorted lists `_diff` compares hold 1.8 M batches each (a gigabyte at
    # the end of the check). Where anything differs, `_diff` then says what, as before.

    def _batches_match(self) -> bool:
        batches, fields = self.overlay.batches, _BATCH_FIELDS
        q = sa.select(*(t.batches.c[c] for c in BATCH_COLUMNS)).order_by(t.batches.c.batch)
        matched, before = 0, None
        for row in self.conn.execute(q.execution_options(yield_per=CHUNK)):
            b = batches.get(row[0])
            if row[0] == before or not isinstance(b, Batch) or fields(b) != tuple(row):
                return False
            matched, before = matched + 1, row[0]
        return matched == sum(isinstance(b, Batch) for b in batches.values())

    def _balances_match(self) -> bool:
        balances, c = self.overlay.balances, t.balances.c
        q = sa.select(c.holder, c.batch, _by_value(c.quantity)).order_by(c.holder, c.batch)
        matched, before = 0, None
        for holder, batch, quantity in self.conn.execute(q.execution_options(yield_per=CHUNK)):
            held = balances.get((holder, batch))
            if (holder, batch) == before or held is None or held == 0 or held != quantity:
                return False
            matched, before = matched + 1, (holder, batch)
        return matched == sum(q != 0 for q in balances.values())


_BATCH_FIELDS = operator.attrgetter(*BATCH_COLUMNS)


class _Decimal(TypeDecorator[Decimal]):
    """A stored quantity as a decimal of the same value, not normalised as `DecimalText`
    does: the comparisons here are by value (3 µs less a row)."""

    impl = sa.String(48)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return value if value is None or isinstance(value, Decimal) else Decimal(value)


def _by_value(column: sa.Column[Any]) -> Any:
    return sa.type_coerce(column, _Decimal) if isinstance(column.type, t.DecimalText) else column


def _move_key(row: tuple[Any, ...]) -> str:
    return f"seq {row[0]} move {row[1]}"


def _link_key(row: tuple[Any, ...]) -> str:
    return f"{row[0]} -> {row[1]}"


def _first(row: tuple[Any, ...]) -> str:
    return str(row[0])


def _two(row: tuple[Any, ...]) -> str:
    return f"{row[0]}/{row[1]}"


def _diff(
    report: Report,
    table: str,
    key: Callable[[tuple[Any, ...]], str],
    expected: Iterable[tuple[Any, ...]],
    stored: Iterable[tuple[Any, ...]],
) -> None:
    """Rows the events make vs rows stored, matched by `key`: missing, extra, altered."""
    expected, stored = list(expected), list(stored)
    if expected == stored:  # the same rows in the same order (decimals compare by value)
        return
    want = {key(r): _norm(r) for r in expected}
    have = {key(r): _norm(r) for r in stored}
    for k in sorted(want.keys() - have.keys()):
        report.add(table, k, "missing: the events make this row")
    for k in sorted(have.keys() - want.keys()):
        report.add(table, k, "no event makes this row (inserted?)")
    for k in sorted(k for k in want.keys() & have.keys() if want[k] != have[k]):
        report.add(table, k, "differs from what the events make (altered?)")


def _norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Decimals compared by value (NUMERIC and text hold the same number differently)."""
    return tuple(Decimal(v) if isinstance(v, Decimal) else v for v in row)


# --- rejections and audit: their own chains -------------------------------------------------


def _rejections(conn: Connection, report: Report) -> None:
    r = t.rejections.c
    cols = [r[c] for c in REJECTION_COLUMNS]
    _row_chain(conn, report, t.rejections, cols, report.rejections)


def _audit(conn: Connection, report: Report) -> None:
    table = t.full_metadata().tables["audit_log"]
    cols = [table.c[c] for c in AUDIT_COLUMNS]
    _row_chain(conn, report, table, cols, report.audit)


def _row_chain(
    conn: Connection, report: Report, table: sa.Table, cols: list[Any], head: Chain
) -> None:
    q = sa.select(table.c.id, table.c.hash, *cols).order_by(table.c.id)
    for row in conn.execute(q.execution_options(yield_per=CHUNK)):
        expected = chain_hash(head.hash, row_digest(row[2:]))
        if row.hash != expected:
            report.add(
                table.name, f"id {row.id}", "hash chain broken: altered, dropped or inserted"
            )
        head.count += 1
        head.last, head.hash = row.id, row.hash
