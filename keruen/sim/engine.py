"""The scheduler: many small processes, one time-ordered stream, bounded memory.

A process is a generator of `(time, event)` steps in non-decreasing time: the life of one
consignment, one holder's share of a batch, one transit. The engine keeps, for each live
process, only its next step, so memory grows with the number of consignments in flight,
not with the number of events written. New processes are started day by day (the planner)
or by a running process (a holder that sells a part on starts the buyer's process); either
way their first step is never earlier than the last event written.

Pending steps wait in hourly buckets (a calendar queue): only the current hour is a heap,
later hours are plain lists, sorted when their hour comes. At national scale (60,000 live
processes) this keeps each step's cost constant instead of a sift through one large heap.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from keruen.errors import KeruenError
from keruen.sim.clock import DAY, HOUR

Event = dict[str, Any] | msgspec.Raw  # a dict, or a line already encoded
Step = tuple[int, Event]
Process = Iterator[Step]
Entry = tuple[int, int, Event, Process]


class SimulationError(KeruenError):
    """A bug in a simulated process (an event out of time order); never a user's mistake."""


class Engine:
    """Merges processes into one stream ordered by time (ties in order of scheduling)."""

    def __init__(self, bucket: int = HOUR) -> None:
        self.bucket = bucket
        self._cur: list[Entry] = []  # the current bucket, sorted, read from _i on
        self._i = 0
        self._side: list[Entry] = []  # a heap: steps added to the current bucket meanwhile
        self._hour = -(1 << 62)
        self._later: dict[int, list[Entry]] = {}  # later buckets, unsorted
        self._hours: list[int] = []  # a heap of the keys of _later
        self._count = itertools.count(1)  # ties in time: order of scheduling
        self.now = -(1 << 62)
        self.written = 0

    @property
    def live(self) -> int:
        """Processes waiting for their next step."""
        pending = sum(len(entries) for entries in self._later.values())
        return pending + len(self._side) + len(self._cur) - self._i

    def start(self, process: Process) -> None:
        """Schedule a process; its first step is taken now."""
        step = next(process, None)
        if step is not None:
            self._put(step, process, self.now)

    def _put(self, step: Step, process: Process, floor: int) -> None:
        t = step[0]
        if t < floor:
            raise SimulationError(f"event {step[1]!r} at {t} is before {floor}")
        entry = (t, next(self._count), step[1], process)
        hour = t // self.bucket
        if hour == self._hour:
            heapq.heappush(self._side, entry)
            return
        pending = self._later.get(hour)
        if pending is None:
            pending = self._later[hour] = []
            heapq.heappush(self._hours, hour)
        pending.append(entry)

    def _advance(self, end: int) -> bool:
        """Make the next non-empty bucket before `end` current; False if there is none."""
        if self._hours and self._hours[0] * self.bucket < end:
            self._hour = heapq.heappop(self._hours)
            self._cur, self._i = self._later.pop(self._hour), 0
            self._cur.sort()
            return True
        return False

    def fill(self, end: int, events: list[Event], times: list[int], limit: int) -> bool:
        """Append the next events strictly before `end` (a multiple of the bucket) to
        `events`, and their times to `times`, until `events` holds `limit`. True if it
        stopped at the limit (more may remain before `end`), False if `end` was reached.

        The hot loop of the simulator, hence written out with locals and filling lists
        rather than yielding each event: the next entry is the smaller of the sorted
        bucket's next and the side heap's top; the process's next step goes to the side
        heap (same hour) or to its later bucket."""
        pop, push, size, count = heapq.heappop, heapq.heappush, self.bucket, self._count
        later, hours, add, add_time = self._later, self._hours, events.append, times.append
        room, written = limit - len(events), 0
        try:
            while self._i < len(self._cur) or self._side or self._advance(end):
                cur, side, hour, i = self._cur, self._side, self._hour, self._i
                n = len(cur)
                while (i < n or side) and written < room:
                    if i < n and not (side and side[0] < cur[i]):
                        t, _, event, process = cur[i]
                        i += 1
                    else:
                        t, _, event, process = pop(side)
                    self.now = t
                    add(event)
                    add_time(t)
                    written += 1
                    step = next(process, None)
                    if step is None:
                        continue
                    when = step[0]
                    if when < t:
                        raise SimulationError(f"event {step[1]!r} at {when} is before {t}")
                    entry = (when, next(count), step[1], process)
                    h = when // size
                    if h == hour:
                        push(side, entry)
                        continue
                    pending = later.get(h)
                    if pending is None:
                        pending = later[h] = []
                        push(hours, h)
                    pending.append(entry)
                self._i = i
                if written >= room:
                    return True
            return False
        finally:
            self.written += written

    def until(self, end: int, batch: int = 1024) -> Iterator[Event]:
        """Events strictly before `end`, in time order, one by one (made `batch` at a time;
        `now` is each event's time as it is read)."""
        events: list[Event] = []
        times: list[int] = []
        while True:
            more = self.fill(end, events, times, batch)
            for t, event in zip(times, events, strict=True):
                self.now = t
                yield event
            if not more:
                return
            events, times = [], []

    def drain(self) -> Iterator[Event]:
        return self.until(1 << 62)


Batch = tuple[list[int], list[Event]]  # times, events


def run_days(
    engine: Engine,
    first_day: int,
    days: int,
    spawn: Callable[[int], Iterable[Process]],
    size: int = 4096,
) -> Iterator[Batch]:
    """Start each day's new processes, write that day's events, then finish what is left;
    in batches of `size` events (the last may be smaller).

    The cyclic garbage collector is paused meanwhile: the live processes are many and
    long-lived, nothing here makes reference cycles, and its scans cost a third of the time.
    """
    enabled = gc.isenabled()
    gc.disable()
    times: list[int] = []
    events: list[Event] = []
    try:
        for i in range(days + 1):  # the days, then whatever is still under way
            day = first_day + i * DAY
            if i < days:
                engine.now = max(engine.now, day)
                for process in spawn(day):
                    engine.start(process)
            end = day + DAY if i < days else 1 << 62
            while engine.fill(end, events, times, size):
                yield times, events
                times, events = [], []
        if events:
            yield times, events
    finally:
        if enabled:
            gc.enable()
