"""Small helpers for API tests: Ironic's error body, a snapshot of what the API shows, the ``openstack`` CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def fault(response: httpx.Response) -> dict[str, Any]:
    """The decoded Ironic error: ``{"error_message": "<json with faultcode, faultstring, debuginfo>"}``."""
    body = response.json()
    assert set(body) == {"error_message"}, body
    inner = json.loads(body["error_message"])
    assert set(inner) == {"faultcode", "faultstring", "debuginfo"}, inner
    assert inner["faultcode"] == ("Client" if response.status_code < 500 else "Server")
    assert inner["faultstring"], inner
    return inner


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """Everything the API shows about the inventory, to prove a refused request changed nothing."""
    out: dict[str, Any] = {}
    for path, key in (("/v1/nodes/detail", "nodes"), ("/v1/ports/detail", "ports"),
                      ("/v1/portgroups/detail", "portgroups"), ("/v1/chassis/detail", "chassis")):
        r = api.get(path)
        if r.status_code == 200:
            out[key] = r.json()[key]
    return out


def make_node(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"driver": "fake-hardware", **fields}
    r = api.post("/v1/nodes", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def openstack_cli() -> str:
    """The ``openstack`` command of this virtualenv (python-openstackclient with python-ironicclient)."""
    candidate = Path(sys.executable).with_name("openstack")
    return str(candidate) if candidate.exists() else (shutil.which("openstack") or "openstack")


def baremetal_cli(url: str) -> Callable[..., str]:
    """``cli("node", "list", …)`` runs ``openstack baremetal …`` against ``url`` (noauth), asserts it succeeded
    and returns its standard output; with ``fails=True`` asserts it failed and returns its standard error.
    ``OS_*`` variables of the caller's environment are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    base = [openstack_cli(), "--os-auth-type", "none", "--os-endpoint", url, "baremetal"]

    def cli(*args: str, fails: bool = False) -> str:
        proc = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=120)
        if fails:
            assert proc.returncode != 0, proc.stdout
            return proc.stderr
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    return cli
