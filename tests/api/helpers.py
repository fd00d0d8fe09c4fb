"""Small helpers for API tests: Ironic's error body, a snapshot of what the API shows, the ``openstack`` CLI."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
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
    for path, key in (
        ("/v1/nodes/detail", "nodes"),
        ("/v1/ports/detail", "ports"),
        ("/v1/portgroups/detail", "portgroups"),
        ("/v1/chassis/detail", "chassis"),
    ):
        r = api.get(path)
        if r.status_code == 200:
            out[key] = r.json()[key]
    for node in out.get("nodes", []):
        # derived, not stored: the live conductor the hash ring maps the node to, which moves when another
        # conductor (a second test service on this database) comes or goes between two snapshots
        node.pop("conductor", None)
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


def run_openstack(argv: list[str]) -> tuple[int, str, str]:
    """Run the ``openstack`` command line in this process (``openstackclient.shell.main``, the code behind the
    ``openstack`` executable): exit status, standard output, standard error. A hundredth of the cost of a new
    Python process per command. ``OS_*`` variables of the caller's environment are left out while it runs."""
    from openstackclient import shell
    from osc_lib.clientmanager import ClientCache, ClientManager

    # each service client (``baremetal``…) is cached on the ClientManager *class*: a second run would reuse the
    # first run's client, endpoint and all
    for cache in vars(ClientManager).values():
        if isinstance(cache, ClientCache):
            cache._handle = None
    saved = {k: v for k, v in os.environ.items() if k.startswith("OS_")}
    for key in saved:
        del os.environ[key]
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = shell.main(argv)
    finally:
        os.environ.update(saved)
    return status, out.getvalue(), err.getvalue()


def baremetal_cli(url: str) -> Callable[..., str]:
    """``cli("node", "list", …)`` runs ``openstack baremetal …`` against ``url`` (noauth), asserts it succeeded
    and returns its standard output; with ``fails=True`` asserts it failed and returns its standard error."""
    base = ["--os-auth-type", "none", "--os-endpoint", url, "baremetal"]

    def cli(*args: str, fails: bool = False) -> str:
        status, out, err = run_openstack([*base, *args])
        if fails:
            assert status != 0, out
            return err
        assert status == 0, err
        return out

    return cli


def wait_for_allocation(client: httpx.Client, ident: str, timeout: float = 30.0) -> dict[str, Any]:
    """As openstacksdk's ``wait_for_allocation``: poll the allocation until it leaves ``allocating``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/allocations/{ident}")
        assert r.status_code == 200, r.text
        if r.json()["state"] != "allocating":
            return dict(r.json())
        assert time.monotonic() < deadline, f"allocation {ident} still allocating after {timeout} s"
        time.sleep(0.02)


def post_allocation(client: httpx.Client, body: Any, **kwargs: Any) -> httpx.Response:
    """``POST /v1/allocations`` as an Ironic client makes it: a 201 says ``allocating`` (no node yet) unless it
    is a backfill; then the allocation is polled until processed. Returns the answer with the processed
    allocation as its body (``Location`` kept); any other answer as it came."""
    r = client.post("/v1/allocations", json=body, **kwargs)
    if r.status_code != 201:
        return r
    first = r.json()
    if isinstance(body, dict) and body.get("node") is not None:  # a backfill is answered at once, as Ironic
        return r
    assert first["state"] == "allocating" and first["node_uuid"] is None, first
    final = wait_for_allocation(client, first["uuid"])
    return httpx.Response(201, json=final, headers={"Location": r.headers["Location"]}, request=r.request)
