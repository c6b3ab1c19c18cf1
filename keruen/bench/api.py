"""`keruen bench api`: the HTTP API measured from outside, with the server on loopback.

A real server (`keruen serve`, uvicorn) runs in a subprocess over a fresh temporary database
with an officer's API key. Single-event submit latency is measured open-loop: requests leave
on a fixed schedule whatever the answers do, and latency counts from the scheduled time (no
coordinated omission). Batch throughput posts JSON Lines batches of a valid event stream one
after another, and is compared with `ingest_lines` in-process on the same events (the ratio is
the cost of HTTP).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import msgspec
import typer

from keruen.bench.streams import StreamGen
from keruen.console import JsonOption, emit_json, out, progress
from keruen.ingest import ingest_lines
from keruen.store import db

T = TypeVar("T")
_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder().encode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def make_key(path: str) -> str:
    from keruen.api import accounts

    with db.ready(path).begin() as conn:
        accounts.add_user(conn, "bench", "officer")
        return accounts.create_key(conn, "bench", "bench").key


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: a figure other load on the machine does
    not inflate the way it inflates latency."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@contextmanager
def server(path: str, log: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`keruen serve` on a free loopback port (with `env` added to its environment); yields its
    address, stops it afterwards (SIGTERM: it shuts down as it would in production)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-c",
        "from keruen.cli import main; main()",
        "serve",
        "--db",
        path,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    full = {**os.environ, "KERUEN_SECRET": "bench-" + os.urandom(24).hex(), **(env or {})}
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=full)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, proc)
            yield Server(base, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def single_events(count: int, seed: int, first: int = 0) -> list[bytes]:
    """Independent valid events (imports of new batches): open-loop requests may overtake
    each other, so no event may depend on another."""
    if first + count > 10_000_000:
        raise ValueError("single events are numbered below 10,000,000 (a 7-digit batch number)")
    bodies: list[bytes] = []
    gen = StreamGen(seed=seed)
    while len(bodies) < count:
        for line in gen.events(1000):
            event = _decode.decode(line)
            if event["type"] == "import":
                n = first + len(bodies)
                event.update(id=f"lat-{n:09d}", batch=f"55501/010124/{n:07d}/002")
                bodies.append(_encode(event))
    return bodies[:count]


class Client:
    """A minimal HTTP/1.1 client over a pool of keep-alive connections.

    httpx costs several milliseconds of client CPU per request on the reference machine, which
    would measure the load generator instead of the server; this costs about 0.1 ms. Requests
    are built to bytes before the clock starts (`request`). A connection idle for longer than
    `max_idle` is closed rather than reused: the server closes idle connections after 5 s
    (uvicorn's keep-alive), and a request sent on a connection the server is closing fails
    for the client's sake, not the server's."""

    def __init__(self, base: str, key: str, max_idle: float = 3.0) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.auth = f"Authorization: Bearer {key}\r\n".encode()
        self.max_idle = max_idle
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.open: list[asyncio.StreamWriter] = []

    def request(self, path: str, body: bytes, content_type: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
        ).encode()
        return head + self.auth + b"\r\n" + body

    async def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        return await self.send(self.request(path, body, content_type))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send prepared request bytes; the status and body of the answer."""
        reader, writer = await self._connection()
        writer.write(request)
        response = await reader.readuntil(b"\r\n\r\n")
        status = int(response[9:12])
        length = 0
        for line in response.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        answer = await reader.readexactly(length)
        self.idle.append((time.monotonic(), reader, writer))
        return status, answer

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            since, reader, writer = self.idle.pop()
            if time.monotonic() - since < self.max_idle and not reader.at_eof():
                return reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.open.append(writer)
        return reader, writer

    async def close(self) -> None:
        for writer in self.open:
            writer.close()


async def _open_loop(
    base: str, key: str, bodies: list[bytes], rate: float, keep_index: bool = False
) -> list[Any]:
    """Send `bodies` at `rate` per second on a fixed schedule; (latency ms, status) each, or
    with `keep_index` (index in `bodies`, latency ms, status); status 0: no answer.

    Open loop: the i-th request is due at start + i / rate whatever the answers before it do,
    and its latency counts from that due time, so a stalled server (or a late client) shows
    up in the latency of every request it delayed (no coordinated omission)."""
    client = Client(base, key)
    requests = [client.request("/v1/events", body, "application/json") for body in bodies]
    results: list[Any] = []

    async def one(i: int, due: float, request: bytes) -> None:
        try:
            status, _ = await client.send(request)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            status = 0
        ms = (time.perf_counter() - due) * 1000
        results.append((i, ms, status) if keep_index else (ms, status))

    # each request's task starts at its due time (not all up front: creating tens of
    # thousands of tasks before the first request made the first ones late, and a late
    # start counts as latency)
    start = time.perf_counter() + 0.1  # perf_counter: uvloop's clock has 1 ms resolution
    tasks = []
    for i, request in enumerate(requests):
        due = start + i / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(i, due, request)))
    await asyncio.gather(*tasks)
    await client.close()
    return results


def run(coro: Coroutine[Any, Any, T]) -> T:
    """uvloop when it is installed (it ships with uvicorn[standard]): a cheaper load generator."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def latency_run(srv: Server, key: str, bodies: list[bytes], rate: float) -> dict[str, Any]:
    started, cpu, own = time.perf_counter(), cpu_seconds(srv.pid), time.process_time()
    results = run(_open_loop(srv.base, key, bodies, rate))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(srv.pid) - cpu
    own = time.process_time() - own
    ms = [r[0] for r in results]
    ok = sum(1 for r in results if r[1] in (200, 201))
    return {
        "rate": rate,
        "requests": len(results),
        "ok": ok,
        "errors": len(results) - ok,
        "achieved_rps": round(len(results) / elapsed, 1),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / len(results), 3),
        "client_cpu_ms_per_request": round(own * 1000 / len(results), 3),
    }


async def _batches(
    base: str, key: str, lines: list[bytes], size: int, advance: Any
) -> tuple[int, float]:
    client = Client(base, key)
    accepted, started = 0, time.perf_counter()
    for i in range(0, len(lines), size):
        part = lines[i : i + size]
        status, answer = await client.post(
            "/v1/events", b"\n".join(part) + b"\n", "application/x-ndjson"
        )
        if status != 200:
            raise RuntimeError(f"batch answered {status}: {answer[:300]!r}")
        accepted += int(_decode.decode(answer)["accepted"])
        advance(len(part))
    elapsed = time.perf_counter() - started
    await client.close()
    return accepted, elapsed


def batch_run(srv: Server, key: str, lines: list[bytes], size: int, show: bool) -> dict[str, Any]:
    """Post the stream as consecutive JSON Lines batches (closed loop, one at a time)."""
    cpu = cpu_seconds(srv.pid)
    with progress("batches", len(lines), show) as advance:
        accepted, elapsed = run(_batches(srv.base, key, lines, size, advance))
    cpu = cpu_seconds(srv.pid) - cpu
    return {
        "events": len(lines),
        "batch_size": size,
        "accepted": accepted,
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(lines) / elapsed),
        "server_cpu_us_per_event": round(cpu * 1e6 / len(lines), 1),
    }


def in_process(lines: list[bytes], size: int, tmp: str, threaded: bool) -> tuple[float, float]:
    """Events per second, and CPU µs per event, of `ingest_lines` itself on the same events in
    a fresh database. `threaded`: called from a second thread, as the server's writer calls it
    (a process with threads never forks a parser process for `ingest_lines`): the baseline of
    the ratio, so that it measures HTTP alone. Otherwise from this single-threaded process, as
    `keruen ingest` calls it (its CPU figure then leaves out a forked parser's)."""
    eng = db.ready(os.path.join(tmp, f"baseline-{threaded}.db"))
    started, cpu = time.perf_counter(), time.process_time()
    if threaded:
        worker = threading.Thread(
            target=ingest_lines, args=(eng, lines), kwargs={"source": "bench", "chunk_size": size}
        )
        worker.start()
        worker.join()
    else:
        ingest_lines(eng, lines, source="bench", chunk_size=size)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    eng.dispose()
    return len(lines) / elapsed, cpu * 1e6 / len(lines)


def bench_api(
    rates: list[float], seconds: float, events: int, size: int, seed: int, show: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.db")
        key = make_key(path)
        per_rate, first = [], 1000  # the warm-up's events are numbered from 0
        for i, r in enumerate(rates):  # numbered on: every event a new batch of its own
            per_rate.append(single_events(int(r * seconds), seed + i, first=first))
            first += len(per_rate[-1])
        lines = list(StreamGen(seed=seed).events(events))
        with server(path, Path(tmp) / "server.log") as srv:
            latency_run(srv, key, single_events(200, seed + 99)[:200], 100)  # warm-up
            singles = []
            with progress("rates", len(rates), show) as advance:
                for rate, bodies in zip(rates, per_rate, strict=True):
                    singles.append(latency_run(srv, key, bodies, rate))
                    advance(1)
            batch = batch_run(srv, key, lines, size, show)
        baseline, baseline_cpu = in_process(lines, size, tmp, threaded=True)
        single_threaded, _ = in_process(lines, size, tmp, threaded=False)
    batch.update(
        in_process_events_per_s=round(baseline),
        in_process_cpu_us_per_event=round(baseline_cpu, 1),
        ratio=round(batch["events_per_s"] / baseline, 3),
        ingest_cli_events_per_s=round(single_threaded),
    )
    return {"single": singles, "batch": batch}


def register(bench: typer.Typer) -> None:
    @bench.command("api")
    def api_cmd(
        rates: Annotated[
            str, typer.Option(help="Request rates per second, comma-separated")
        ] = "100,250,500",
        seconds: Annotated[float, typer.Option(help="Seconds at each rate")] = 5.0,
        events: Annotated[int, typer.Option("--events", help="Events for the batch run")] = 50_000,
        batch_size: Annotated[int, typer.Option(help="Events per batch request")] = 5000,
        seed: Annotated[int, typer.Option(help="Stream seed")] = 1,
        as_json: Annotated[bool, JsonOption] = False,
    ) -> None:
        """Single-event submit latency (p50/p99) at fixed rates, and batch throughput."""
        try:
            wanted = [float(r) for r in rates.split(",") if r.strip()]
        except ValueError:
            raise typer.BadParameter("--rates: numbers separated by commas") from None
        r = bench_api(wanted, seconds, events, batch_size, seed, show=not as_json)
        if as_json:
            emit_json(r)
            return
        for s in r["single"]:
            out.print(
                f"single event @ {s['rate']:g}/s: p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms"
                f"  max {s['max_ms']} ms  ({s['requests']} requests, {s['errors']} errors,"
                f" {s['achieved_rps']}/s achieved; CPU per request: server "
                f"{s['server_cpu_ms_per_request']} ms, load generator "
                f"{s['client_cpu_ms_per_request']} ms)"
            )
        b = r["batch"]
        out.print(
            f"batch ({b['batch_size']:,}/request): {b['events_per_s']:,} events/s over "
            f"HTTP; ingest_lines in-process (a writer thread, as in the server) "
            f"{b['in_process_events_per_s']:,} events/s; "
            f"ratio {b['ratio']}; server CPU {b['server_cpu_us_per_event']} µs/event vs "
            f"{b['in_process_cpu_us_per_event']} µs/event in-process; ingest_lines in a "
            f"single-threaded process (as keruen ingest) {b['ingest_cli_events_per_s']:,} events/s"
        )
