"""Lifecycle throughput: enroll → manage → provide → active → deleted → available for N fake-hardware nodes.

Talks only the Ironic v1 HTTP API, so it runs against Ironworks and OpenStack Ironic alike (noauth)::

    python bench/lifecycle_bench.py --nodes 1000 --concurrency 8 --url http://127.0.0.1:6385

(against Ironworks started with ``IRONWORKS_ENABLED_HARDWARE_TYPES=fake-hardware``: it is off by default)

Each phase sends its requests with at most ``--concurrency`` in flight (retrying 409 locked / 503 busy), then
polls the node list until every node has settled. A phase's time runs from its first request until the last
node settled. Afterwards the detailed list of the nodes is timed (``--list-repeat`` times, best and median).
Prints one JSON line.

The client is deliberately light (``http.client`` with one keep-alive connection per worker thread): on a
2-core machine a heavier client (httpx costs ~1.5 ms of CPU per request) would measure itself, not the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urlsplit

VERSION = "1.65"
PHASES = (  # (name, provision target or None for enrollment, state every node must reach)
    ("enroll", None, "enroll"),
    ("manage", "manage", "manageable"),
    ("provide", "provide", "available"),
    ("deploy", "active", "active"),
    ("undeploy", "deleted", "available"),
)
FAILED = {"deploy failed", "clean failed", "inspect failed", "adopt failed", "rescue failed", "error"}


class Http:
    """One keep-alive connection per thread to the API."""

    def __init__(self, url: str, version: str = VERSION) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.local = threading.local()
        self.headers = {"X-OpenStack-Ironic-API-Version": version, "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                conn.request(method, path, body=data, headers=self.headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server closed an idle keep-alive connection before reading the request: send it again
                conn.close()
                self.local.conn = None
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def send(self, method: str, path: str, body: Any, ok: int) -> bytes:
        for attempt in range(200):
            status, data = self.request(method, path, body)
            if status == ok:
                return data
            if status in (409, 503):
                time.sleep(min(0.01 * (attempt + 1), 0.2))
                continue
            raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
        raise RuntimeError(f"{method} {path}: still busy after 200 attempts")


def _list(http_: Http, fields: str | None, detail: bool = False) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    marker = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if fields:
            params["fields"] = fields
        if marker:
            params["marker"] = marker
        path = ("/v1/nodes/detail" if detail else "/v1/nodes") + "?" + urlencode(params)
        page = json.loads(http_.send("GET", path, None, 200))["nodes"]
        nodes.extend(page)
        if len(page) < 1000:
            return nodes
        marker = page[-1]["uuid"]


def _settle(http_: Http, uuids: set[str], state: str, poll: float, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        mine = [n for n in _list(http_, "uuid,provision_state,target_provision_state") if n["uuid"] in uuids]
        failed = [n for n in mine if n["provision_state"] in FAILED]
        done = [n for n in mine if n["provision_state"] == state and not n.get("target_provision_state")]
        if len(done) + len(failed) == len(uuids):
            return len(failed)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(uuids) - len(done)} nodes did not reach {state!r} in {timeout}s")
        time.sleep(poll)


def run(args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    http_ = Http(args.url, getattr(args, "api_version", VERSION))
    result: dict[str, Any] = {"url": args.url, "nodes": args.nodes, "concurrency": args.concurrency, "phases": {}}
    errors = 0
    uuids: list[str] = []

    def create(i: int) -> str:
        data = http_.send("POST", "/v1/nodes", {"driver": "fake-hardware", "name": f"{prefix}{i}"}, 201)
        return str(json.loads(data)["uuid"])

    def act(node: str, target: str) -> None:
        http_.send("PUT", f"/v1/nodes/{node}/states/provision", {"target": target}, 202)

    with ThreadPoolExecutor(args.concurrency) as pool:
        for name, target, state in PHASES:
            started = time.perf_counter()
            if target is None:
                uuids = list(pool.map(create, range(args.nodes)))
            else:
                list(pool.map(lambda n, t=target: act(n, t), uuids))
                errors += _settle(http_, set(uuids), state, args.poll, args.timeout)
            seconds = time.perf_counter() - started
            result["phases"][name] = {"seconds": round(seconds, 3), "nodes_per_s": round(len(uuids) / seconds, 1)}

        timings = []
        count = 0
        for _ in range(args.list_repeat):
            started = time.perf_counter()
            data = http_.send("GET", "/v1/nodes/detail?limit=1000", None, 200)
            timings.append(time.perf_counter() - started)  # until the whole answer arrived; decoding is ours
            count = len(json.loads(data)["nodes"])
        result["list_detail"] = {"nodes": count, "best_s": round(min(timings), 4),
                                 "median_s": round(statistics.median(timings), 4)}
        if args.cleanup:
            list(pool.map(lambda n: http_.send("DELETE", f"/v1/nodes/{n}", None, 204), uuids))
    result["failed_nodes"] = errors
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--url", default="http://127.0.0.1:6385")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between state polls")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a phase may take")
    parser.add_argument("--list-repeat", type=int, default=5)
    parser.add_argument("--cleanup", action="store_true", help="delete the nodes afterwards")
    parser.add_argument("--api-version", default=VERSION, help="microversion to ask for, e.g. 1.115 or latest")
    args = parser.parse_args(argv)
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
