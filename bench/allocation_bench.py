#!/usr/bin/env python3
"""Allocation benchmark: N fake-hardware nodes with mixed resource classes and traits, then M allocation
requests sent concurrently over HTTP. Prints one JSON line: allocations/s (until every claim was made: the
POSTs answer ``allocating`` as Ironic, the claims follow in workers), p50/p99 latency of the answers, and a
check that no node was handed out twice.

Starts its own ``ironworks serve`` (SQLite in a temporary directory, or ``--database-url``; periodic power sync
off so only allocations run) on a free loopback port. Nodes are written straight into the service's database
after it created the schema (setup speed: 10,000 enrollments through the API would dominate the run); the
allocations themselves go through the API. The client is a minimal asyncio HTTP/1.1 client, one keep-alive
connection per in-flight request, so the figures are the server's.

    .venv/bin/python bench/allocation_bench.py --nodes 10000 --requests 1000 --concurrency 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, insert, select

from ironworks import states
from ironworks.db.engine import Database
from ironworks.db.models import Allocation, Node, NodeTrait, utcnow
from ironworks.identifiers import new_uuid

CLASSES = ("bm.small", "bm.medium", "bm.large", "bm.gpu")
TRAITS = ("CUSTOM_RAID", "CUSTOM_FAST_NIC", "HW_CPU_X86_AVX2", "CUSTOM_NVME")
SHAPES = {"bm.small": (16, 32768), "bm.medium": (32, 131072), "bm.large": (64, 262144), "bm.gpu": (32, 262144)}
HEADERS = "X-OpenStack-Ironic-API-Version: 1.65\r\nContent-Type: application/json\r\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _own_service(database_url: str | None) -> Iterator[tuple[str, str, int]]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="iw-alloc-bench-") as state:
        db_url = database_url or f"sqlite:///{state}/ironworks.sqlite"
        cmd = [
            sys.executable,
            "-m",
            "ironworks.cli",
            "serve",
            "--port",
            str(port),
            "--state-dir",
            state,
            "--log-level",
            "WARNING",
            "--database-url",
            db_url,
        ]
        env = dict(os.environ, IRONWORKS_POWER_SYNC_INTERVAL="0", IRONWORKS_ENABLED_HARDWARE_TYPES="fake-hardware")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        err = proc.stderr.read().decode() if proc.stderr else ""
                        raise SystemExit(f"service did not start: {err}") from None
                    time.sleep(0.1)
            yield f"127.0.0.1:{port}", db_url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the server process used so far (the machine may be shared: wall time is not)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def populate(db_url: str, count: int, seed: int) -> dict[str, int]:
    """``count`` available nodes: a resource class each, 0-3 traits, properties matching the class."""
    rng = random.Random(seed)
    db = Database.from_url(db_url)
    nodes, per_class = [], dict.fromkeys(CLASSES, 0)
    for i in range(count):
        rc = CLASSES[i % len(CLASSES)]
        per_class[rc] += 1
        cpus, mem = SHAPES[rc]
        nodes.append(
            {
                "uuid": new_uuid(),
                "name": f"bench-{i}",
                "driver": "fake-hardware",
                "provision_state": states.AVAILABLE,
                "power_state": states.POWER_OFF,
                "conductor_group": "",
                "resource_class": rc,
                "properties": {"cpus": cpus, "memory_mb": mem, "local_gb": 480},
                "driver_info": {},
                "extra": {},
                "driver_internal_info": {},
                "instance_info": {},
                "raid_config": {},
                "target_raid_config": {},
                "clean_step": {},
                "deploy_step": {},
                "service_step": {},
                "network_data": {},
                "console_enabled": False,
                "maintenance": False,
                "protected": False,
                "retired": False,
                "disable_power_off": False,
                "created_at": utcnow(),
                **{
                    f"{k}_interface": v
                    for k, v in (("boot", "fake"), ("deploy", "fake"), ("management", "fake"), ("power", "fake"))
                },
            }
        )
    with db.write() as session:
        session.execute(insert(Node.__table__), nodes)
        ids = {uuid: node_id for uuid, node_id in session.execute(select(Node.__table__.c.uuid, Node.__table__.c.id))}
        traits = [
            {"node_id": ids[n["uuid"]], "trait": t, "created_at": utcnow()}
            for n in nodes
            for t in rng.sample(TRAITS, rng.randint(0, 3))
        ]
        if traits:
            session.execute(insert(NodeTrait.__table__), traits)
    db.dispose()
    return per_class


async def _post(addr: str, body: bytes) -> tuple[int, bytes]:
    host, port = addr.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"POST /v1/allocations HTTP/1.1\r\nHost: {addr}\r\n{HEADERS}Content-Length: {len(body)}"
            f"\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


async def _run(addr: str, requests: int, concurrency: int, seed: int) -> tuple[list[float], list[dict[str, Any]]]:
    rng = random.Random(seed + 1)
    bodies = []
    for _ in range(requests):
        req: dict[str, Any] = {"resource_class": rng.choice(CLASSES)}
        if rng.random() < 0.5:
            req["traits"] = [rng.choice(TRAITS)]
        bodies.append(json.dumps(req).encode())
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    answers: list[dict[str, Any]] = []

    async def one(body: bytes) -> None:
        async with gate:
            start = time.perf_counter()
            status, payload = await _post(addr, body)
            latencies.append(time.perf_counter() - start)
            if status != 201:
                raise RuntimeError(f"POST /v1/allocations -> {status}: {payload[:300]!r}")
            answers.append(json.loads(payload))

    await asyncio.gather(*(one(b) for b in bodies))
    return latencies, answers


def _wait_processed(db_url: str, timeout: float = 600.0) -> None:
    """Until no allocation is left ``allocating`` (every claim made or failed)."""
    db = Database.from_url(db_url)
    alloc = Allocation.__table__
    deadline = time.monotonic() + timeout
    try:
        while True:
            with db.read() as session:
                left = session.execute(select(func.count()).where(alloc.c.state == "allocating")).scalar_one()
            if not left:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{left} allocation(s) still allocating after {timeout} s")
            time.sleep(0.05)
    finally:
        db.dispose()


def _verify(db_url: str) -> dict[str, int]:
    db = Database.from_url(db_url)
    alloc, nodes = Allocation.__table__, Node.__table__
    with db.read() as session:
        active = session.execute(select(func.count()).where(alloc.c.state == "active")).scalar_one()
        distinct = session.execute(
            select(func.count(alloc.c.node_id.distinct())).where(alloc.c.state == "active")
        ).scalar_one()
        claimed = session.execute(select(func.count()).where(nodes.c.allocation_id.is_not(None))).scalar_one()
        failed = session.execute(select(func.count()).where(alloc.c.state == "error")).scalar_one()
    db.dispose()
    if not active == distinct == claimed:
        raise SystemExit(f"a node was handed out twice: active={active} distinct={distinct} claimed={claimed}")
    return {"active": active, "error": failed, "nodes_claimed": claimed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000, help="requests in flight at once")
    parser.add_argument("--database-url", help="database for the service this script starts (default SQLite)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with _own_service(args.database_url) as (addr, db_url, pid):
        t = time.perf_counter()
        per_class = populate(db_url, args.nodes, args.seed)
        setup_s = time.perf_counter() - t
        start, cpu = time.perf_counter(), _cpu_seconds(pid)
        latencies, answers = asyncio.run(_run(addr, args.requests, args.concurrency, args.seed))
        _wait_processed(db_url)  # answers say "allocating" (as Ironic); the claims follow in workers
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(pid) - cpu
        load = os.getloadavg()[0]
        checked = _verify(db_url)
    latencies.sort()
    states_seen = {s: sum(1 for a in answers if a["state"] == s) for s in ("active", "error", "allocating")}
    states_seen = {f"answered_{k}": v for k, v in states_seen.items()}
    print(
        json.dumps(
            {
                "bench": "allocation",
                "database": "postgresql" if args.database_url else "sqlite",
                "nodes": args.nodes,
                "nodes_per_class": per_class,
                "requests": args.requests,
                "concurrency": args.concurrency,
                "setup_seconds": round(setup_s, 2),
                "seconds": round(elapsed, 3),
                "allocations_per_s": round(args.requests / elapsed, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
                "server_cpu_ms_per_allocation": round(cpu * 1000 / args.requests, 2),
                "load_average_1m": round(load, 1),
                "states": states_seen,
                **checked,
            }
        )
    )


if __name__ == "__main__":
    main()
