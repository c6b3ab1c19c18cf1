"""The ingest of a file with each chunk judged apart from its write: both cores busy.

On unless KERUEN_INGEST_SPLIT=0. SQLite (a file): three processes on two cores.
The process that ingests reads the lines and writes; the parse process of the sequential path
parses; a forked child judges each chunk against the ledger and builds its rows, which come
back as MessagePack. While the parent writes chunk k, the child judges chunk k + 1 and the
parse process parses the next ones; the stages are uneven, and the system spreads three
processes over the two cores where two left one waiting. The child is forked first, the parse
process at the first chunk, the thread that sends to the child after both. PostgreSQL: the
server does the writing on a core of its own, so the judge is a thread of the ingesting process
(chunks and rows pass as objects) judging chunk k + 1 while the writer waits on the server for
chunk k; the parse process parses, as in the sequential path.

- At most `AHEAD` chunks are parsed and not yet written (backpressure: the parent sends chunk
  k + AHEAD only once chunk k is committed); memory is bounded by that and by the child's
  carried state (`CARRY_LIMIT`).
- The child reads the ledger on its own read-only connection, only what it does not hold; what
  the chunks still in flight accepted (event ids, cancellations, batches, balances, holdings)
  it keeps in memory until they are surely committed.
- One chunk is one transaction, as in the sequential path. The parent checks, holding the
  writer lock, that the ledger head is the one the child built on. If another writer got in
  between (or the database refuses a row), that chunk is judged and written again by the
  sequential path, and the child starts over from the ledger after it; after `MAX_REDO` such
  restarts, or if the child dies, the rest of the file goes the sequential way.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import os
import queue
import signal
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing import get_context
from multiprocessing.connection import Connection as Pipe
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen import errors
from keruen.errors import InvalidEvent, RejectedEvent
from keruen.ledger.overlay import Known, Overlay
from keruen.model import events as ev
from keruen.model.validate import Outcome
from keruen.store import ledger as store
from keruen.store.db import new_engine
from keruen.store.judge import Judgement, judge_chunk, rebuilt

AHEAD = 2  # chunks judged ahead of the one being written
MAX_REDO = 3  # restarts of the child from the ledger before the rest goes sequentially
JUDGE_NAME = "keruen-judge"  # the judging child, beside the parse process
# The child's lookups through a memory map: each commit of the parent empties a reader's page
# cache, so without one the child copies every page it descends through again for each chunk.
# A failed read of a mapped page kills the child (SIGBUS) instead of raising; the parent then
# goes on the sequential way, as when the child dies of anything else.
CHILD_MMAP_BYTES = 1 << 31  # SQLite maps at most 2 GiB

# (line number, raw line, what parsing made of it)
Line = tuple[int, bytes, Outcome]
# (line number, raw line)
Numbered = tuple[int, bytes]
# what the child refused: (line number, event id, error class, field, reason)
Refusal = tuple[int, str | None, str, str, str]


class Judged(msgspec.Struct, array_like=True):
    """The child's answer for one chunk."""

    epoch: int
    chunk: int
    rows: store.ChunkRows | None  # None: the child failed (`failure` says how)
    refused: list[Refusal] = []
    duplicates: int = 0
    accepted_ids: list[str] = []
    failure: str = ""


@dataclass(slots=True)
class Chunk:
    """A parsed chunk as the split hands it on: its numbered raw lines, and what the parse
    process made of them already encoded as the judge takes them (`encode_outcomes`). This
    process neither decodes the outcomes nor encodes them again (unpickling, joining and
    encoding them cost it about 1 µs per line); only the sequential way decodes them
    (`parsed`)."""

    lines: list[Numbered]
    outcomes: bytes

    def parsed(self) -> list[Line]:
        decoded = _decode_outcomes(self.outcomes)
        return [(n, line, o) for (n, line), (_, o) in zip(self.lines, decoded, strict=True)]


def encode_outcomes(numbers: list[int], outcomes: list[Outcome]) -> bytes:
    """[(line number, outcome), …] in MessagePack: a chunk as its judge receives it (run in
    the parse process)."""
    return msgspec.msgpack.encode(list(zip(numbers, outcomes, strict=True)))


_decode_outcomes = msgspec.msgpack.Decoder(list[tuple[int, tuple[Any, ...]]]).decode


@dataclass(slots=True)
class Outcomes:
    """A written chunk's outcome, for the caller's report (and its in-transaction hook)."""

    accepted_ids: list[str]
    rejections: list[store.Rejection]
    duplicates: int


# --- the parent ------------------------------------------------------------------------------


def run(
    eng: Engine,
    parts: Iterator[Chunk],
    source: str,
    fallback: Callable[[Chunk], None],
    inside: Callable[[Connection, list[Numbered], Outcomes], None],
    after: Callable[[list[Numbered], Outcomes], None],
    threaded: bool = False,
) -> None:
    """Ingest `parts` (parsed chunks) with a judge: a forked child, or with `threaded` a thread
    of this process (PostgreSQL: the writes wait on the server, which works on a core of its
    own, while the thread judges the next chunk). `fallback` ingests one chunk the sequential
    way (its own transaction); `inside` runs in each chunk's transaction after its rows,
    `after` once it is committed (both with the chunk's numbered lines)."""
    judge_, sender, receive = _thread_judge(eng) if threaded else _child_judge(eng)
    window: deque[tuple[int, Chunk]] = deque()  # sent, not yet written
    epoch, redo, number = 0, 0, 0
    pending = iter(parts)

    def send_next() -> bool:
        nonlocal number
        part = next(pending, None)
        if part is None:
            return False
        window.append((number, part))
        sender.send(_chunk_message(epoch, number, part))
        number += 1
        return True

    try:
        for _ in range(AHEAD):
            send_next()
        while window:
            chunk, part = window[0]
            judged = _receive(receive, epoch, chunk)
            if judged is None or judged.rows is None:  # the child died or failed: on our own
                break
            if _write(eng, part, judged, source, inside, after):
                window.popleft()
                send_next()
                continue
            # another writer got in, or the database refused a row: this chunk the
            # sequential way, then the child starts over from the ledger as it now stands
            window.popleft()
            fallback(part)
            redo += 1
            if redo > MAX_REDO:
                break
            epoch += 1
            sender.send(("reset", epoch))
            for resend_chunk, resend_part in window:
                sender.send(_chunk_message(epoch, resend_chunk, resend_part))
            if not window:
                send_next()
        else:
            return
        for _, part in window:  # the sequential way for the rest
            fallback(part)
        for part in pending:
            fallback(part)
    finally:
        sender.close()
        judge_.close()


def _chunk_message(epoch: int, chunk: int, part: Chunk) -> Message:
    return ("chunk", epoch, chunk, msgspec.Raw(part.outcomes))


def _receive(receive: Callable[[], Judged | None], epoch: int, chunk: int) -> Judged | None:
    """The judge's answer for `chunk` of this epoch (older answers skipped); None if it died."""
    while (judged := receive()) is not None:
        if judged.epoch == epoch and judged.chunk == chunk:
            return judged
        if judged.rows is None:
            return judged
    return None


# --- the two kinds of judge: a forked child (pipes, MessagePack) or a thread (queues) ------

# to the judge: ("chunk", epoch, chunk, [(line number, outcome), …]) or ("reset", epoch); the
# chunk's list as the parse process encoded it (a `msgspec.Raw`), which the thread decodes
Message = tuple[Any, ...]


class _Judge(Protocol):
    def close(self) -> None: ...


class _Sending(Protocol):
    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


def _child_judge(eng: Engine) -> tuple[_Judge, _Sending, Callable[[], Judged | None]]:
    ctx = get_context("fork")
    down_r, down_w = ctx.Pipe(duplex=False)
    up_r, up_w = ctx.Pipe(duplex=False)
    _widen(down_w)
    _widen(up_w)
    child = ctx.Process(
        target=_child,
        args=(eng, down_r, up_w, os.getpid(), (down_w, up_r)),
        name=JUDGE_NAME,
        daemon=True,
    )
    child.start()
    down_r.close()
    up_w.close()

    answers = _Answers(up_r)

    def receive() -> Judged | None:
        try:
            return answers.next()
        except (EOFError, OSError):
            return None

    return _Child(child, up_r), _Sender(down_w), receive


_decode_judged = msgspec.msgpack.Decoder(Judged).decode


class _Answers:
    """The child's answers, read straight into one buffer kept from answer to answer (the
    framing of `Connection.send_bytes`). `recv_bytes` reads a 12-16 MB answer 1 MiB at a
    time, each piece into a new bytes object sized for the whole rest and then shrunk, copied
    into a growing BytesIO and out again."""

    def __init__(self, pipe: Pipe) -> None:
        self.file = open(pipe.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
        self.buffer = bytearray(1 << 20)

    def next(self) -> Judged:
        (size,) = struct.unpack("!i", self._read(4))
        if size == -1:
            (size,) = struct.unpack("!Q", self._read(8))
        if size > len(self.buffer):
            self.buffer = bytearray(size)
        with memoryview(self.buffer) as whole, whole[:size] as view:
            self._fill(view)
            return _decode_judged(view)

    def _read(self, n: int) -> bytes:
        data = bytearray(n)
        self._fill(memoryview(data))
        return bytes(data)

    def _fill(self, view: memoryview) -> None:
        done, size = 0, len(view)
        while done < size:
            got = self.file.readinto(view[done:])
            if not got:
                raise EOFError
            done += got


def _widen(pipe: Pipe) -> None:
    """A pipe buffer of 1 MiB where the system allows it (Linux; 64 KiB by default): a chunk
    and its rows are megabytes, and each 64 KiB piece was a system call of its own on both
    sides, each handing the GIL over to the other thread and back."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or above pipe-max-size
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size for an unprivileged process


@dataclass(slots=True)
class _Child:
    process: Any  # multiprocessing's forked Process
    up: Pipe

    def close(self) -> None:
        self.up.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _thread_judge(eng: Engine) -> tuple[_Judge, _Sending, Callable[[], Judged | None]]:
    """A judging thread on connections of the same engine: chunks and answers pass as objects
    through queues (nothing encoded); `None` down ends it, `None` up says it ended."""
    down: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
    up: queue.SimpleQueue[Judged | None] = queue.SimpleQueue()

    def loop() -> None:
        try:
            # no collector of its own: the heap is the process's, and the writer's collector
            # (`ingest._ingest_split`) already collects it (a second one collected as often again)
            _judge_loop(eng, down.get, up.put, collect=False)
        finally:
            up.put(None)

    thread = threading.Thread(target=loop, name="keruen-split-judge", daemon=True)
    thread.start()
    return _Thread(thread), _Queued(down), up.get


@dataclass(slots=True)
class _Thread:
    thread: threading.Thread

    def close(self) -> None:
        self.thread.join()


@dataclass(slots=True)
class _Queued:
    queue: queue.SimpleQueue[Message | None]

    def send(self, message: Message) -> None:
        if message[0] == "chunk":  # the outcomes as objects, as the child decodes them
            *head, outcomes = message
            message = (*head, msgspec.msgpack.decode(outcomes))
        self.queue.put(message)

    def close(self) -> None:
        self.queue.put(None)


class _Moved(Exception):
    """The ledger head is not the one the child built on."""


def _write(
    eng: Engine,
    part: Chunk,
    judged: Judged,
    source: str,
    inside: Callable[[Connection, list[Numbered], Outcomes], None],
    after: Callable[[list[Numbered], Outcomes], None],
) -> bool:
    """Write a judged chunk in one transaction; False (nothing written) if the ledger moved
    under the child or the database refused a row."""
    assert judged.rows is not None
    raws = raw_lines(part.lines, judged.refused)
    rejections = [
        store.Rejection(n, event_id, _error(kind, fld, reason, event_id), raws[n])
        for n, event_id, kind, fld, reason in judged.refused
    ]
    outcomes = Outcomes(judged.accepted_ids, rejections, judged.duplicates)
    try:
        with eng.begin() as conn:
            if store.locked_head(conn) != tuple(judged.rows.before):
                raise _Moved
            now = store.micros_now()
            store.insert(conn, judged.rows)
            store.write_rejections(conn, rejections, source, now)
            inside(conn, part.lines, outcomes)
    except _Moved:
        return False
    except sa.exc.IntegrityError:
        return False
    after(part.lines, outcomes)
    return True


def raw_lines(
    part: Sequence[Numbered | Line], refused: Sequence[tuple[Any, ...]]
) -> dict[int, bytes]:
    """The raw text of the refused lines (each refusal starts with its line number), for
    their rejections: nothing to build for a chunk with none."""
    wanted = {r[0] for r in refused}
    return {p[0]: p[1] for p in part if p[0] in wanted} if wanted else {}


def _error(kind: str, fld: str, reason: str, event_id: str | None) -> RejectedEvent:
    cls: type[RejectedEvent] = _ERRORS.get(kind, InvalidEvent)
    return cls(fld, reason, event_id)


def _rejected_classes() -> dict[str, type[RejectedEvent]]:
    found: dict[str, type[RejectedEvent]] = {}
    todo: list[type[RejectedEvent]] = [RejectedEvent]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


_ERRORS = {n: c for n, c in _rejected_classes().items() if getattr(errors, n, None) is c}


class _Sender:
    """Sends to the child from a thread: a chunk is larger than a pipe's buffer, and the child
    may be sending its answer at the same moment (two blocking senders would wait for ever)."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="keruen-split-send", daemon=True)

    def send(self, message: Message) -> None:
        # started at the first chunk, once the parse process is forked (from no thread); once
        # only: a thread that ended because the child died is not started again (the parent
        # finds the child gone on its next receive)
        if self.thread.ident is None:
            self.thread.start()
        self.queue.put(msgspec.msgpack.encode(message))

    def _loop(self) -> None:
        while (data := self.queue.get()) is not None:
            try:
                self.pipe.send_bytes(data)
            except OSError:  # the child is gone; the parent finds out on its next receive
                return

    def close(self) -> None:
        self.queue.put(None)
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self.pipe.close()


class YoungCollector:
    """Collects the young generations once every `every` lines, not after every chunk: each
    collection walks every young object still alive (the chunks in flight, the state carried
    between them, about 150,000 objects at 20,000-event chunks, 50-170 ms), which cost 2.5-8.5
    µs per event when done per chunk. Acyclic garbage is freed by reference counting at once;
    what cycles there are (rejected lines' exceptions) wait at most `every` lines."""

    def __init__(self, every: int = 200_000) -> None:
        self.every, self.lines = every, 0

    def note(self, lines: int) -> None:
        self.lines += lines
        if self.lines >= self.every:
            self.lines = 0
            gc.collect(1)


# --- the child -------------------------------------------------------------------------------


@dataclass(slots=True)
class _InFlight:
    """What one judged chunk accepted, kept until the chunk is surely committed. Nothing is
    copied: `known` is the chunk's own state's (its accepted events, and the few others it
    read), `moves` its rows, read only when a later chunk adjusts (an adjust alone asks whom a
    batch was moved to). Copying them into each later chunk's state was 0.6 µs an event."""

    chunk: int
    known: dict[str, Known]
    cancelled: set[str]
    moves: list[tuple[Any, ...]]
    touched: dict[tuple[str, str], Decimal]  # the balances it changed
    batches: list[str]  # the batches it made

    def held(self) -> Iterator[tuple[str, str]]:
        """(holder, batch) of each move to a holder."""
        # MOVE_COLUMNS: (event_seq, n, batch, source, target, ...)
        return ((m[4], m[2]) for m in self.moves if m[4] is not None)


def _in_flight(chunk: int, overlay: Overlay, judged: Judgement) -> _InFlight:
    rows = judged.rows
    cancelled = {target for target, _ in rows.cancels}
    batches = [b[0] for b in rows.batches]
    return _InFlight(chunk, overlay.known, cancelled, rows.moves, overlay.touched, batches)


def _reader(parent: Engine) -> Engine:
    """The child's engine: a read-only connection to the SQLite file; on PostgreSQL the
    parent's engine (its URL with password and connect arguments, such as a scratch schema's
    search path) with a pool of its own (`dispose(close=False)` leaves the parent's
    connections, copied by the fork, to the parent)."""
    if parent.dialect.name == "postgresql":
        parent.dispose(close=False)
        return parent
    return new_engine(str(parent.url), readonly=True, mmap_bytes=CHILD_MMAP_BYTES)


def _child(
    parent_eng: Engine, down: Pipe, up: Pipe, parent: int, parents_ends: tuple[Pipe, Pipe]
) -> None:
    die_with(parent)
    # the fork copied the parent's ends of both pipes: while this process held the sending end
    # open, the parent closing its own never reached it as the end of the chunks, and the
    # parent waited 5 s for it to exit before killing it, at the end of every ingest
    for end in parents_ends:
        end.close()
    gc.disable()  # young generations are collected between chunks, as in the parent
    eng = _reader(parent_eng)
    encode = msgspec.msgpack.Encoder().encode

    def receive() -> Message | None:
        try:
            return tuple(msgspec.msgpack.decode(down.recv_bytes()))
        except (EOFError, OSError):
            return None

    try:
        _judge_loop(eng, receive, lambda judged: up.send_bytes(encode(judged)))
    finally:
        eng.dispose()


def _judge_loop(
    eng: Engine,
    receive: Callable[[], Message | None],
    send: Callable[[Judged], None],
    collect: bool = True,
) -> None:
    """Judge the chunks received until the parent closes (or this fails: then say so); with
    `collect`, collect the young generations between chunks (`YoungCollector`)."""
    overlay: Overlay | None = None
    flight: deque[_InFlight] = deque()
    collector = YoungCollector() if collect else None
    epoch = 0
    while (message := receive()) is not None:
        if message[0] == "reset":
            epoch, overlay = message[1], None
            flight.clear()
            continue
        _, their_epoch, chunk, part = message
        if their_epoch != epoch:
            continue
        try:
            judged, overlay = _judge_chunk(eng, overlay, flight, epoch, chunk, part)
        except Exception as e:  # a bug: the parent goes on the sequential way, which says it
            send(Judged(epoch, chunk, None, failure=repr(e)[:500]))
            return
        send(judged)
        if collector is not None:
            collector.note(len(part))


def _judge_chunk(
    eng: Engine,
    carried: Overlay | None,
    flight: deque[_InFlight],
    epoch: int,
    chunk: int,
    part: list[Any],
) -> tuple[Judged, Overlay]:
    # the parent sent this chunk once chunk - AHEAD was committed: that one is in the ledger
    while flight and flight[0].chunk <= chunk - AHEAD:
        flight.popleft()
    items = rebuilt(part, light=True)  # outcomes as MessagePack arrays: lists, read alike
    events = [p.event for _, p in items if not isinstance(p, InvalidEvent)]
    with eng.connect() as conn:
        if carried is None:
            overlay = store.state_at(conn)
        else:
            overlay = carried.carry_over()
            if not overlay.batches and carried.batches:  # reset at the carry limit
                for f in flight:  # what the ledger does not hold yet, as it stands now
                    for b in f.batches:
                        overlay.batches[b] = carried.batches[b]
                    for key in f.touched:
                        overlay.balances[key] = carried.balances[key]
        adjusts = any(isinstance(e, ev.Adjust) for e in events)
        for f in flight:
            overlay.cancelled_ids.update(f.cancelled)
            if adjusts:
                overlay.held_keys.update(f.held())
        store.prefetch(conn, overlay, events, [f.known for f in flight])
        conn.rollback()
    judgement = judge_chunk(overlay, items, store.micros_now())
    flight.append(_in_flight(chunk, overlay, judgement))
    judged = Judged(
        epoch,
        chunk,
        judgement.rows,
        [(n, i, type(e).__name__, e.field, e.reason) for n, i, e in judgement.refused],
        judgement.duplicates,
        judgement.accepted_ids,
    )
    return judged, overlay


def die_with(parent: int) -> None:
    """A forked helper process dies with the ingest that forked it (Linux: a parent-death
    signal). It holds copies of the parent's database sockets: alive after a `kill -9` of the
    ingest, it would keep the killed transaction open, and PostgreSQL's writer lock with it.
    Ctrl-C at a terminal reaches the whole process group: the helper leaves it to the ingest,
    which says what was committed and closes the helpers' pipes (a helper interrupted in the
    middle printed its traceback under that line)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the orphan ends when its pipe closes
        return
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


PR_SET_PDEATHSIG = 1
