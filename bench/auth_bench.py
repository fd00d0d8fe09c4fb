#!/usr/bin/env python3
"""What authentication and the audit log cost: prints one JSON line.

- bcrypt at the cost ``ironworks user add`` uses (12): hash and verify times;
- ``GET /v1/nodes`` latency (p50/p99) with ``noauth`` and with ``http_basic`` as a member (project-filtered
  list; the password check is cached after the first request);
- ``PATCH /v1/nodes/{node}`` latency (each one writes an audit record) under both.

Runs the real service on loopback (SQLite in a temporary directory), sequential requests over one keep-alive
connection.

    PYTHONPATH=. .venv/bin/python bench/auth_bench.py --requests 300
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
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
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
