"""`keruen bench api`'s parts: the events it sends, its client, and one short run against a
real `keruen serve` (correctness only: no timing is asserted)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import msgspec
import pytest

from keruen.bench import api as bench


def test_single_events_are_independent_imports() -> None:
    bodies = bench.single_events(300, seed=3, first=1000)
    events = [msgspec.json.decode(b) for b in bodies]
    assert len(events) == 300 and {e["type"] for e in events} == {"import"}
    assert len({e["id"] for e in events}) == 300 and len({e["batch"] for e in events}) == 300
    assert events[0]["id"] == "lat-000001000"
    with pytest.raises(ValueError, match="10,000,000"):
        bench.single_events(10, seed=3, first=9_999_995)


def test_percentile() -> None:
    assert bench.percentile([], 0.99) == 0.0
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 0.5) == 51.0 and bench.percentile(values, 0.99) == 100.0


async def _connections_used(max_idle: float) -> tuple[int, list[int]]:
    """Three requests to a minimal HTTP server: how many connections the client opened."""
    opened = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = bench.Client(f"http://127.0.0.1:{port}", "kr_x_y", max_idle=max_idle)
    statuses = [(await client.post("/v1/events", b"{}", "application/json"))[0] for _ in range(3)]
    await client.close()
    server.close()
    await server.wait_closed()
    return opened, statuses


def test_client_reuses_connections_only_while_fresh() -> None:
    assert asyncio.run(_connections_used(60.0)) == (1, [201, 201, 201])
    assert asyncio.run(_connections_used(0.0)) == (3, [201, 201, 201])


def test_a_short_run_against_a_real_server() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.db")
        key = bench.make_key(path)
        with bench.server(path, Path(tmp) / "server.log") as srv:
            r = bench.latency_run(srv, key, bench.single_events(40, seed=5, first=1000), 200)
            again = bench.latency_run(srv, key, bench.single_events(5, seed=5, first=1000), 200)
        log = (Path(tmp) / "server.log").read_text()
    assert (r["requests"], r["ok"], r["errors"]) == (40, 40, 0)
    assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"]
    assert again["ok"] == 5  # duplicates answer 200
    assert log.count('"path": "/v1/events"') == 45
