"""Servers for instance tests: fake-hardware nodes with a NIC, a tenant network, a flavor, a catalogue image."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.scheduler.helpers import available_node

SHA256 = "a" * 64
DEBIAN = {
    "name": "debian-12",
    "url": "http://127.0.0.1:9/images/debian-12.qcow2",
    "os_hash_algo": "sha256",
    "os_hash_value": SHA256,
    "disk_format": "qcow2",
}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5 alice@example"
PASSWORD = "s3cret-Root-pw"


def ok(r: httpx.Response, status: int = 201) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def server_node(api: httpx.Client, name: str, mac: str, **fields: Any) -> dict[str, Any]:
    """An available fake-hardware node of class ``gold`` (16 CPUs, 32 GiB, 100 GB) with one NIC."""
    fields.setdefault("resource_class", "gold")
    fields.setdefault("properties", {"cpus": 16, "memory_mb": 32768, "local_gb": 100})
    node = available_node(api, name=name, **fields)
    ok(api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": mac}))
    return node


def world(api: httpx.Client, *, pool_end: str = "10.100.0.20") -> None:
    """The catalogue image, the ``small`` flavor and the ``web`` tenant network (shared: every project's)."""
    ok(api.post("/v1/images", json=DEBIAN))
    ok(api.post("/v1/flavors", json={"name": "small", "resource_class": "gold", "cpus": 16, "memory_mb": 32768}))
    ok(
        api.post(
            "/v1/networks",
            json={
                "name": "web",
                "vlan_id": 100,
                "cidr": "10.100.0.0/24",
                "gateway": "10.100.0.1",
                "allocation_pool": {"start": "10.100.0.10", "end": pool_end},
                "shared": True,
            },
        )
    )


def wait_instance(api: httpx.Client, ident: str, states: tuple[str, ...], timeout: float = 30.0) -> dict[str, Any]:
    """Poll GET /v1/instances/{ident} until its state is one of ``states`` (or it is gone: ``{}``)."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"/v1/instances/{ident}")
        if r.status_code == 404 and "gone" in states:
            return {}
        body = ok(r, 200)
        if body["state"] in states:
            return dict(body)
        assert time.monotonic() < deadline, f"instance {ident} stuck in {body['state']}: {body['last_error']}"
        time.sleep(0.05)


def read_drive(encoded: str, tmp: Path) -> dict[str, bytes]:
    """The files under openstack/latest/ of a stored (gzip+base64) config drive."""
    image = tmp / "drive.iso"
    image.write_bytes(gzip.decompress(base64.b64decode(encoded)))
    out = tmp / "drive"
    done = subprocess.run(
        ["osirrox", "-indev", str(image), "-extract", "/", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    latest = out / "openstack" / "latest"
    return {p.name: p.read_bytes() for p in latest.iterdir()}


def meta(files: dict[str, bytes]) -> dict[str, Any]:
    return dict(json.loads(files["meta_data.json"]))
