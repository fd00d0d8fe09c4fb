#!/usr/bin/env python3
"""A normal request's latency while slow clients hold connections: prints one JSON line.

Phases: quiet; then ``--slow`` clients (default 500) in another process, half silent (connect, send nothing)
and half trickling a request head (one header line every second), each reconnecting as soon as the service
closes it, so the number stays up for the whole phase; then ``--flood`` clients (default 1500, more than
``max_connections`` = 1000) the same way. In each phase: ``GET /v1/nodes`` latency (p50/p99/max) on a fresh
connection per request (what a new client meets) and on one keep-alive connection, and how many connections
the slow process sees open (the service holds at most ``max_connections``; past that, connections wait in the
listen backlog or are evicted and reconnect).

Runs the real service (default limits, SQLite in a temporary directory) on loopback.

    PYTHONPATH=. .venv/bin/python bench/slow_clients_bench.py --slow 500 --flood 1500 --requests 200
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.servers import ServiceUnderTest, make_settings  # noqa: E402

#: the slow clients, run in a child process: asyncio, one task per connection, reconnecting when closed
SLOW_CLIENTS = r"""
import asyncio, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
held = [0]

async def client(i):
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1); continue
        held[0] += 1
        try:
            if i % 2:
                writer.write(b"GET /v1/nodes HTTP/1.1\r\nHost: x\r\n")
                while not reader.at_eof():
                    writer.write(b"X-Slow: 1\r\n"); await writer.drain()
                    try:
                        await asyncio.wait_for(reader.read(65536), 1.0)
                    except asyncio.TimeoutError:
                        pass
            else:
                await reader.read()  # silent until the service closes it
        except OSError:
            pass
        finally:
            held[0] -= 1
            writer.close()

async def report():
    while True:
        try:
            print(held[0], flush=True)
        except BrokenPipeError:
            return
        await asyncio.sleep(0.5)

async def main():
    await asyncio.gather(report(), *(client(i) for i in range(count)))

asyncio.run(main())
"""


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _measure(url: str, requests: int) -> dict[str, object]:
    fresh: list[float] = []
    with httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for _ in range(requests):  # a new TCP connection for every request
            start = time.perf_counter()
            assert client.get("/v1/nodes").status_code == 200
            fresh.append(time.perf_counter() - start)
    kept: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(requests):
            start = time.perf_counter()
            assert client.get("/v1/nodes").status_code == 200
            kept.append(time.perf_counter() - start)
    return {"fresh_connection": _stats(fresh), "keep_alive": _stats(kept)}


def _under_slow_clients(svc: ServiceUnderTest, count: int, requests: int, settle: float) -> dict[str, object]:
    child = subprocess.Popen([sys.executable, "-c", SLOW_CLIENTS, str(svc.port), str(count)],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert child.stdout is not None
        held = 0
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            held = int(child.stdout.readline())
        result = _measure(svc.url, requests)
        result["slow_connections_held"] = held
        result["slow_clients"] = count
        return result
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--flood", type=int, default=1500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds the slow clients connect before measuring")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        svc = ServiceUnderTest(make_settings(tmp, f"sqlite:///{tmp}/b.sqlite")).start()
        try:
            with httpx.Client(base_url=svc.url) as client:
                for i in range(20):
                    client.post("/v1/nodes", json={"driver": "fake-hardware", "name": f"n{i}"})
            out = {
                "settings": {k: getattr(svc.settings, k) for k in (
                    "max_connections", "client_header_timeout", "client_idle_timeout", "client_keepalive_timeout")},
                "quiet": _measure(svc.url, args.requests),
                "slow": _under_slow_clients(svc, args.slow, args.requests, args.settle),
                "flood": _under_slow_clients(svc, args.flood, args.requests, args.settle),
            }
        finally:
            svc.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
