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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from keruen.errors import KeruenError
from keruen.sim.clock import DAY, HOUR

Event = dict[str, Any]
Step = tuple[int, Event]
Process = Iterator[Step]
Entry = tuple[int, int, Event, Process]


class SimulationError(KeruenError):
    """A bug in a simulated process (an event out of time order); never a user's mistake."""


class Engine:
    """Merges processes into one stream ordered by time (ties in order of scheduling)."""

    def __init__(self, bucket: int = HOUR) -> None:
        self.bucket = bucket
        self._heap: list[Entry] = []  # the current bucket
        self._hour = -(1 << 62)
        self._later: dict[int, list[Entry]] = {}
        self._hours: list[int] = []  # heap of the keys of _later
        self._seq = 0
        self.now = -(1 << 62)
        self.written = 0
        self.live = 0

    def start(self, process: Process) -> None:
        """Schedule a process; its first step is taken now."""
        step = next(process, None)
        if step is not None:
            self._put(step, process, self.now)

    def _put(self, step: Step, process: Process, floor: int) -> None:
        t = step[0]
        if t < floor:
            raise SimulationError(f"event {step[1]} at {t} is before {floor}")
        self._seq += 1
        self.live += 1
        entry = (t, self._seq, step[1], process)
        hour = t // self.bucket
        if hour == self._hour:
            heapq.heappush(self._heap, entry)
            return
        pending = self._later.get(hour)
        if pending is None:
            pending = self._later[hour] = []
            heapq.heappush(self._hours, hour)
        pending.append(entry)

    def _advance(self, end: int) -> bool:
        """Make the next non-empty bucket before `end` current; False if there is none."""
        while self._hours and self._hours[0] * self.bucket < end:
            self._hour = heapq.heappop(self._hours)
            self._heap = self._later.pop(self._hour)
            heapq.heapify(self._heap)
            return True
        return False

    def until(self, end: int) -> Iterator[Event]:
        """Events strictly before `end` (a multiple of the bucket), in time order."""
        pop, push, put, size = heapq.heappop, heapq.heappush, self._put, self.bucket
        while self._heap or self._advance(end):
            heap, hour = self._heap, self._hour
            while heap:
                t, _, event, process = pop(heap)
                self.now = t
                self.written += 1
                yield event
                step = next(process, None)
                if step is None:
                    self.live -= 1
                elif step[0] // size == hour and step[0] >= t:  # the common case, inline
                    self._seq += 1
                    push(heap, (step[0], self._seq, step[1], process))
                else:
                    self.live -= 1
                    put(step, process, t)

    def drain(self) -> Iterator[Event]:
        return self.until(1 << 62)


def run_days(
    engine: Engine, first_day: int, days: int, spawn: Callable[[int], Iterable[Process]]
) -> Iterator[Event]:
    """Start each day's new processes, write that day's events, then finish what is left.

    The cyclic garbage collector is paused meanwhile: the live processes are many and
    long-lived, nothing here makes reference cycles, and its scans cost a third of the time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(days):
            day = first_day + i * DAY
            engine.now = max(engine.now, day)
            for process in spawn(day):
                engine.start(process)
            yield from engine.until(day + DAY)
        yield from engine.drain()
    finally:
        if enabled:
            gc.enable()
