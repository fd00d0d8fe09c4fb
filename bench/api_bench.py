#!/usr/bin/env python3
"""Inventory API benchmark: enroll N nodes with one port each, then list them (plain and detailed).

Starts its own ``ironworks serve`` (SQLite in a temporary directory, or ``--database-url``) on a free loopback
port unless ``--url`` points at a running Ironic-compatible API. Prints one JSON line of figures.

    .venv/bin/python bench/api_bench.py --nodes 1000 --concurrency 8
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

#: the microversion every request asks for (``--api-version``; 1.115 is the newest Ironworks serves)
HEADERS = {"X-OpenStack-Ironic-API-Version": "1.65"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _own_service(database_url: str | None) -> Iterator[str]:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="iw-bench-") as state:
        cmd = [sys.executable, "-m", "ironworks.cli", "serve", "--port", str(port), "--state-dir", state,
               "--log-level", "WARNING"]
        if database_url:
            cmd += ["--database-url", database_url]
        env = dict(os.environ, IRONWORKS_ENABLED_HARDWARE_TYPES="fake-hardware")  # off by default
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        err = proc.stderr.read().decode() if proc.stderr else ""
                        raise SystemExit(f"service did not start: {err}") from None
                    time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


class _Http:
    """One keep-alive ``http.client`` connection per thread: a light client, so the figures are the server's."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.local = threading.local()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {**HEADERS, "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()


def _enroll_one(client: _Http, i: int, run_id: str) -> None:
    status, data = client.request("POST", "/v1/nodes", {
        "driver": "fake-hardware", "name": f"bench-{run_id}-{i}",
        "properties": {"cpus": 16, "memory_mb": 65536, "local_gb": 500},
        "driver_info": {"ipmi_address": f"127.0.0.{1 + i % 250}"}})
    if status != 201:
        raise RuntimeError(f"enroll -> {status}: {data[:200]!r}")
    mac = f"52:54:{(i >> 24) & 0xff:02x}:{(i >> 16) & 0xff:02x}:{(i >> 8) & 0xff:02x}:{i & 0xff:02x}"
    status, data = client.request("POST", "/v1/ports", {"node_uuid": json.loads(data)["uuid"], "address": mac})
    if status != 201:
        raise RuntimeError(f"port -> {status}: {data[:200]!r}")


def _list_latency(client: _Http, path: str, repeat: int) -> tuple[float, float, int]:
    """Median seconds until the whole answer arrived, median seconds to also decode it, and the node count."""
    fetch, total, count = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        url: str | None = path
        count, decode = 0, 0.0
        while url:
            status, data = client.request("GET", url)
            if status != 200:
                raise RuntimeError(f"list -> {status}")
            t = time.perf_counter()
            body = json.loads(data)
            decode += time.perf_counter() - t
            count += len(body["nodes"])
            url = urlsplit(body["next"])._replace(scheme="", netloc="").geturl() if body.get("next") else None
        elapsed = time.perf_counter() - start
        fetch.append(elapsed - decode)
        total.append(elapsed)
    return statistics.median(fetch), statistics.median(total), count


def run(url: str, nodes: int, concurrency: int, repeat: int) -> dict[str, object]:
    run_id = f"{os.getpid()}{int(time.time()) % 10000}"
    client = _Http(url)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: _enroll_one(client, i, run_id), range(nodes)))
    enroll_s = time.perf_counter() - start
    client.request("GET", "/v1/nodes/detail")  # warm up
    detail_s, detail_total_s, seen_detail = _list_latency(client, "/v1/nodes/detail", repeat)
    plain_s, plain_total_s, seen_plain = _list_latency(client, "/v1/nodes", repeat)
    return {
        "bench": "api", "url": url, "nodes": nodes, "concurrency": concurrency,
        "enroll_seconds": round(enroll_s, 3), "enroll_nodes_per_s": round(nodes / enroll_s, 1),
        "enroll_requests_per_s": round(2 * nodes / enroll_s, 1),
        "list_detail_median_ms": round(detail_s * 1000, 1),
        "list_detail_with_client_decode_median_ms": round(detail_total_s * 1000, 1),
        "list_plain_median_ms": round(plain_s * 1000, 1),
        "list_plain_with_client_decode_median_ms": round(plain_total_s * 1000, 1),
        "listed_detail": seen_detail, "listed_plain": seen_plain, "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=11, help="list repetitions; the median is printed")
    parser.add_argument("--url", help="an already running Ironic-compatible API (else start ironworks serve)")
    parser.add_argument("--database-url", help="database for the service this script starts")
    parser.add_argument("--api-version", default="1.65", help="microversion to ask for, e.g. 1.115 or latest")
    args = parser.parse_args()
    HEADERS["X-OpenStack-Ironic-API-Version"] = args.api_version
    if args.url:
        print(json.dumps(run(args.url.rstrip("/"), args.nodes, args.concurrency, args.repeat)))
        return
    with _own_service(args.database_url) as url:
        print(json.dumps(run(url, args.nodes, args.concurrency, args.repeat)))


if __name__ == "__main__":
    main()
