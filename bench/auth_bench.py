#!/usr/bin/env python3
"""What authentication and the audit log cost: prints one JSON line.

- bcrypt at the cost ``ironworks user add`` uses (12): hash and verify times;
- ``GET /v1/nodes`` latency (p50/p99) with ``noauth`` and with ``http_basic`` as a member (project-filtered
  list; the password check is cached after the first request);
- ``PATCH /v1/nodes/{node}`` latency (each one writes an audit record) under both;
- password guessing (``--guessers 40``): a member's ``GET /v1/nodes`` latency quiet, then while 40 clients
  (another process, so they do not share this one's interpreter) guess passwords as fast as the service
  answers them, with the login throttle at its defaults and with it off (what the bounded bcrypt threads alone
  achieve); also a first login (a bcrypt check, not cached) during the guessing. Users at bcrypt cost 12. The
  guessers connect from 127.0.0.1, the measured clients from 127.0.0.2 (another source address).

Runs the real service on loopback (SQLite in a temporary directory), sequential requests over one keep-alive
connection.

    PYTHONPATH=. .venv/bin/python bench/auth_bench.py --requests 300 --guessers 40
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import os
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

from ironworks.auth import users  # noqa: E402
from ironworks.auth.passwords import check_password, hash_password  # noqa: E402
from ironworks.db.repos.users import UserRepo  # noqa: E402
from ironworks.settings import Settings  # noqa: E402


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def _run(strategy: str, requests: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        svc = ServiceUnderTest(make_settings(tmp, f"sqlite:///{tmp}/b.sqlite", auth_strategy=strategy)).start()
        try:
            if strategy == "http_basic":
                repo = UserRepo(svc.services.db)
                users.add(repo, "ops", project=None, role="admin", password="ops-pw")
                users.add(repo, "mia", project="acme", role="member", password="mia-pw")
            admin_auth = ("ops", "ops-pw") if strategy == "http_basic" else None
            member_auth = ("mia", "mia-pw") if strategy == "http_basic" else None
            with httpx.Client(
                base_url=svc.url, auth=admin_auth, headers={"X-OpenStack-Ironic-API-Version": "latest"}
            ) as admin:
                uuids = []
                for i in range(50):
                    r = admin.post("/v1/nodes", json={"driver": "fake-hardware", "owner": "acme" if i % 2 else "x"})
                    uuids.append(r.json()["uuid"])
            out: dict[str, object] = {}
            with httpx.Client(
                base_url=svc.url, auth=member_auth, headers={"X-OpenStack-Ironic-API-Version": "latest"}
            ) as c:
                started = time.perf_counter()
                assert c.get("/v1/nodes").status_code == 200
                out["first_request_ms"] = round((time.perf_counter() - started) * 1000, 1)
                reads, writes = [], []
                for _ in range(requests):
                    t = time.perf_counter()
                    c.get("/v1/nodes")
                    reads.append(time.perf_counter() - t)
                for i in range(requests):
                    t = time.perf_counter()
                    r = c.patch(f"/v1/nodes/{uuids[1]}", json=[{"op": "add", "path": "/extra/i", "value": i}])
                    writes.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
            out["list_nodes"] = _ms(reads)
            out["patch_node_audited"] = _ms(writes)
            return out
        finally:
            svc.stop()


# --- password guessing ---------------------------------------------------------------------------------------
async def _guess(url: str, clients: int) -> None:
    """``clients`` connections guessing passwords of a real user and of made-up ones until SIGTERM."""
    statuses: collections.Counter[int] = collections.Counter()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as c:  # one TLS-free pool, made once
        # every connection is open before the guessing starts
        await asyncio.gather(*(c.get("/") for _ in range(clients)))

        async def one(n: int) -> None:
            i = 0
            while not stop.is_set():
                user = "mia" if i % 2 else f"ghost-{n}-{i}"
                try:
                    r = await c.get("/v1/nodes", auth=(user, f"guess-{n}-{i}"))
                    statuses[r.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                i += 1

        started = time.perf_counter()
        tasks = [asyncio.create_task(one(n)) for n in range(clients)]
        print("ready", flush=True)
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - started
    print(json.dumps({"answers": dict(statuses), "per_second": round(sum(statuses.values()) / elapsed, 1)}))


def _latencies(c: httpx.Client, requests: int) -> list[float]:
    out = []
    for _ in range(requests):
        t = time.perf_counter()
        assert c.get("/v1/nodes").status_code == 200
        out.append(time.perf_counter() - t)
    return out


def _guessing(requests: int, guessers: int, throttle: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, object] = {"auth_strategy": "http_basic"}
        names = {f.name for f in dataclasses.fields(Settings)}
        if not throttle and "auth_failures_per_user" in names:
            overrides.update(auth_failures_per_user=0, auth_failures_per_address=0)
        svc = ServiceUnderTest(make_settings(tmp, f"sqlite:///{tmp}/g.sqlite", **overrides)).start()
        guesser = None
        try:
            repo = UserRepo(svc.services.db)
            users.add(repo, "ops", project=None, role="admin", password="ops-pw")
            users.add(repo, "mia", project="acme", role="member", password="mia-pw")
            users.add(repo, "late", project="acme", role="member", password="late-pw")
            latest = {"X-OpenStack-Ironic-API-Version": "latest"}
            with httpx.Client(base_url=svc.url, auth=("ops", "ops-pw"), headers=latest, timeout=120) as admin:
                for i in range(50):
                    r = admin.post("/v1/nodes", json={"driver": "fake-hardware", "owner": "acme" if i % 2 else "x"})
                    assert r.status_code == 201, r.text
            elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")  # not the guessers' address (127.0.0.1)
            with httpx.Client(
                base_url=svc.url, auth=("mia", "mia-pw"), headers=latest, timeout=120, transport=elsewhere
            ) as c:
                c.get("/v1/nodes")  # the password check is cached from here on
                quiet = _latencies(c, requests)
                guesser = subprocess.Popen(
                    [sys.executable, __file__, "--guess-at", svc.url, "--guessers", str(guessers)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert guesser.stdout is not None and guesser.stdout.readline().strip() == "ready"
                time.sleep(3.0)  # let every guesser connect and the bcrypt queue fill
                busy = _latencies(c, requests)
                t = time.perf_counter()
                with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=120) as late:
                    first = late.get(svc.url + "/v1/nodes", auth=("late", "late-pw")).status_code
                first_login_ms = round((time.perf_counter() - t) * 1000, 1)
            guesser.send_signal(signal.SIGTERM)
            out, _ = guesser.communicate(timeout=60)
            quiet_ms, busy_ms = _ms(quiet), _ms(busy)
            return {
                "quiet": quiet_ms,
                "while_guessing": busy_ms,
                "p50_ratio": round(busy_ms["p50_ms"] / quiet_ms["p50_ms"], 2),
                "first_login_while_guessing": {"status": first, "ms": first_login_ms},
                "guesses": json.loads(out.strip().splitlines()[-1]),
            }
        finally:
            if guesser is not None and guesser.poll() is None:
                guesser.kill()
            svc.stop()


def _guessing_figures(args: argparse.Namespace) -> dict[str, object]:
    if args.guessers <= 0:
        return {}
    return {
        "cpus": os.cpu_count(),
        f"guessing_{args.guessers}_throttle_on": _guessing(args.requests, args.guessers, throttle=True),
        f"guessing_{args.guessers}_throttle_off": _guessing(args.requests, args.guessers, throttle=False),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--guessers", type=int, default=40, help="password-guessing clients (0: skip that part)")
    parser.add_argument("--guess-at", help=argparse.SUPPRESS)  # the guessing process
    parser.add_argument("--only-guessing", action="store_true", help="only the password-guessing figures")
    args = parser.parse_args()
    if args.guess_at:
        asyncio.run(_guess(args.guess_at, args.guessers))
        return 0
    if args.only_guessing:
        print(json.dumps(_guessing_figures(args)))
        return 0
    t = time.perf_counter()
    hashed = hash_password("a-password-of-sorts")
    hash_s = time.perf_counter() - t
    t = time.perf_counter()
    assert check_password(b"a-password-of-sorts", hashed)
    verify_s = time.perf_counter() - t
    result = {
        "bcrypt_cost12_hash_ms": round(hash_s * 1000, 1),
        "bcrypt_cost12_verify_ms": round(verify_s * 1000, 1),
        "noauth": _run("noauth", args.requests),
        "http_basic_member": _run("http_basic", args.requests),
        **_guessing_figures(args),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
