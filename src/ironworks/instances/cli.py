"""``ironworks server create|list|show|delete``: one-call servers through the HTTP API (``/v1/instances``).

The CLI is a client like any other: it talks to a running service (``--api``, default
http://127.0.0.1:6385; HTTP basic credentials from ``IRONWORKS_API_USER`` and ``IRONWORKS_API_PASSWORD``
when set) and prints what the API answers. ``--root-password-stdin`` reads the password from the first line
of stdin, so it never appears in a command line or shell history. ``--wait`` polls until the server is
``active`` (create) or gone (delete); an ``error`` state ends the wait with exit status 1 and the error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

DEFAULT_API = "http://127.0.0.1:6385"
_SHOWN = ("uuid", "name", "hostname", "state", "last_error", "node_uuid", "allocation_uuid", "owner", "flavor")


class CliError(Exception):
    """A message for stderr and exit status 1."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="server_command", required=True)
    create = sub.add_parser("create", help="allocate a node, attach networks, deploy an image")
    create.add_argument("name", help="the server's name (and hostname unless --hostname)")
    create.add_argument("--flavor", help="a flavor name")
    create.add_argument("--resource-class", help="a node resource class instead of a flavor")
    create.add_argument("--trait", action="append", default=[], help="a required trait (repeatable)")
    create.add_argument("--image", required=True, help="a catalogue image name")
    create.add_argument(
        "--network", action="append", default=[], help="a tenant network, NAME or NAME=FIXED_IP (repeatable)"
    )
    create.add_argument("--ssh-key", action="append", default=[], type=Path, help="a public key file (repeatable)")
    create.add_argument("--root-password-stdin", action="store_true", help="read root's password from stdin")
    create.add_argument("--user-data", type=Path, help="a user_data file (cloud-config, script…)")
    create.add_argument("--hostname", help="the hostname (default: the name)")
    create.add_argument("--owner", help="the project the server belongs to")
    create.add_argument("--candidate-node", action="append", default=None, help="restrict to these nodes")
    create.add_argument("--wait", action="store_true", help="wait until the server is active")
    listing = sub.add_parser("list", help="list servers")
    show = sub.add_parser("show", help="show a server")
    show.add_argument("server", help="name or uuid")
    delete = sub.add_parser("delete", help="tear a server down and release its node")
    delete.add_argument("server", help="name or uuid")
    delete.add_argument("--wait", action="store_true", help="wait until the node is released")
    for p in (create, listing, show, delete):
        p.add_argument("--api", default=os.environ.get("IRONWORKS_API", DEFAULT_API), help="the service's URL")
        p.add_argument("--timeout", type=float, default=1800.0, help="--wait gives up after this many seconds")


def _client(args: argparse.Namespace) -> httpx.Client:
    user, password = os.environ.get("IRONWORKS_API_USER"), os.environ.get("IRONWORKS_API_PASSWORD")
    auth = httpx.BasicAuth(user, password or "") if user else None
    headers = {"X-OpenStack-Ironic-API-Version": "latest"}
    return httpx.Client(base_url=args.api.rstrip("/"), headers=headers, auth=auth, timeout=60)


def _answer(r: httpx.Response, *expected: int) -> Any:
    if r.status_code in expected:
        return r.json() if r.content else None
    message = r.text
    with contextlib.suppress(ValueError, KeyError, TypeError):
        message = json.loads(r.json()["error_message"])["faultstring"]
    raise CliError(f"{r.request.method} {r.request.url.path}: HTTP {r.status_code}: {message}")


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"name": args.name, "image": args.image}
    for key in ("flavor", "resource_class", "hostname", "owner"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    if args.trait:
        body["traits"] = args.trait
    if args.candidate_node:
        body["candidate_nodes"] = args.candidate_node
    networks = []
    for spec in args.network:
        name, _, ip = spec.partition("=")
        networks.append({"network": name, "fixed_ip": ip} if ip else {"network": name})
    if networks:
        body["networks"] = networks
    try:
        if args.ssh_key:
            body["ssh_keys"] = [path.read_text().strip() for path in args.ssh_key]
        if args.user_data:
            body["user_data"] = args.user_data.read_text()
    except OSError as exc:
        raise CliError(str(exc)) from None
    if args.root_password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("--root-password-stdin: stdin gave an empty line")
        body["root_password"] = password
    return body


def _print(server: dict[str, Any]) -> None:
    for key in _SHOWN:
        print(f"{key:16} {server.get(key) if server.get(key) is not None else ''}")
    for net in server.get("networks") or ():
        print(f"{'network':16} {net['network']} {net.get('ip_address') or ''}".rstrip())


def _wait(client: httpx.Client, ident: str, *, gone: bool, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/instances/{ident}")
        if gone and r.status_code == 404:
            return None
        server: dict[str, Any] = _answer(r, 200)
        if server["state"] == "error":
            raise CliError(f"server {server['name']} is in error: {server['last_error']}")
        if not gone and server["state"] == "active":
            return server
        if time.monotonic() > deadline:
            raise CliError(f"server {server['name']} is still {server['state']} after {timeout:.0f} s")
        time.sleep(1.0 if timeout > 60 else 0.2)


def _run(args: argparse.Namespace) -> int:
    with _client(args) as client:
        command = args.server_command
        if command == "create":
            server = _answer(client.post("/v1/instances", json=_body(args)), 202)
            if args.wait:
                server = _wait(client, server["uuid"], gone=False, timeout=args.timeout)
            _print(server)
        elif command == "list":
            servers = _answer(client.get("/v1/instances"), 200)["instances"]
            print(f"{'NAME':24} {'STATE':10} {'NODE':36} UUID")
            for s in servers:
                print(f"{s['name']:24} {s['state']:10} {s['node_uuid'] or '':36} {s['uuid']}")
        elif command == "show":
            _print(_answer(client.get(f"/v1/instances/{args.server}"), 200))
        elif command == "delete":
            server = _answer(client.delete(f"/v1/instances/{args.server}"), 202)
            if args.wait:
                _wait(client, server["uuid"], gone=True, timeout=args.timeout)
                print(f"server {server['name']} deleted")
            else:
                print(f"server {server['name']} is being deleted")
    return 0


def run_from_args(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except CliError as exc:
        print(f"ironworks server: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"ironworks server: cannot reach {args.api}: {exc}", file=sys.stderr)
        return 1
