"""The agent relay: from inside the lab's network namespace to the Ironworks API on the host's loopback.

The ramdisk agent in a lab server must reach the API, which listens on 127.0.0.1 of the host. Rather than a
veth pair and routes between the namespace and the host, this process (started in the host's namespace) opens
its listening socket *inside* the lab namespace (``setns`` into it for that one ``socket()`` call, then back:
a socket belongs to the namespace it was created in) and connects each accepted connection to
``127.0.0.1:<port>`` in the host namespace.

It relays **only what an agent needs**, one request per connection (docs/lab.md, docs/agent-protocol.md §9):

* ``GET /``, ``GET /v1`` (version discovery), ``GET /v1/lookup``, ``POST /v1/heartbeat/<node>``,
  ``GET /v1/agent/<node>/commands/next``, ``POST /v1/agent/<node>/commands/<id>/result``; anything else is
  answered 403 here and never reaches the service (the service on the loopback runs ``noauth``: the relay must
  not hand lab machines its admin API).
* The request head is parsed and rebuilt: proxy headers the client sent (``X-Forwarded-For``, ``Forwarded``,
  ``X-Real-IP``, ``X-Ironworks-Relay``) and hop-by-hop headers are dropped; the relay adds
  ``X-Forwarded-For: <the client's address>``, ``X-Ironworks-Relay: <key>`` (the key from ``--key-file``, which
  the service reads from its ``agent_relay_key_file``: only then does it believe the forwarded address) and
  ``Connection: close``. A body must have a ``Content-Length`` (no chunked bodies) of at most 16 MiB; exactly that
  many bytes are relayed and nothing after them, so a second request cannot be smuggled behind the first.

``python -m ironworks.lab.apiproxy [--netns NS] --listen 10.213.0.1:6385 --target 127.0.0.1:6385 --key-file K``
prints ``relaying <listen> -> <target>`` on stderr once it listens. Without ``--netns`` it listens in its own
namespace (tests).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000
LOOPBACK = "127.0.0.1"
MAX_HEAD = 16 * 1024
MAX_BODY = 16 * 1024 * 1024
HEAD_TIMEOUT = 30.0
#: what an agent may call: (method, path[?query]) — node and command ids are UUID-like, queries plain
_ALLOWED = (
    ("GET", re.compile(r"^/(v1/?)?$")),
    ("GET", re.compile(r"^/v1/lookup\?[A-Za-z0-9_=&%.:,-]{0,2048}$")),
    ("POST", re.compile(r"^/v1/heartbeat/[A-Za-z0-9-]{1,64}$")),
    ("GET", re.compile(r"^/v1/agent/[A-Za-z0-9-]{1,64}/commands/next(\?wait=[0-9]{1,4})?$")),
    ("POST", re.compile(r"^/v1/agent/[A-Za-z0-9-]{1,64}/commands/[A-Za-z0-9-]{1,64}/result$")),
)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: request headers never passed on: proxy claims and hop-by-hop headers
_DROPPED = {
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "forwarded",
    "x-real-ip",
    "x-ironworks-relay",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
}


class Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def _setns(fd: int) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the block's socket creation in network namespace ``name`` (this thread only), then come back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


def listen_in(netns: str | None, host: str, port: int) -> socket.socket:
    with in_netns(netns) if netns else contextlib.nullcontext():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    return sock


def allowed(method: str, target: str) -> bool:
    return any(method == m and pattern.match(target) for m, pattern in _ALLOWED)


def read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and whatever body bytes came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise Refused(431, "Request Header Fields Too Large", "request head too large")
        chunk = client.recv(4096)
        if not chunk:
            raise Refused(400, "Bad Request", "connection closed before the request head ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise Refused(431, "Request Header Fields Too Large", "request head too large")
    return head, rest


def rebuild(head: bytes, peer: str, key: str) -> tuple[bytes, int]:
    """The head to send upstream and the body length; Refused when the request is not an agent's."""
    try:
        lines = head.decode("ascii").split("\r\n")
    except UnicodeDecodeError:
        raise Refused(400, "Bad Request", "request head is not ASCII") from None
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise Refused(400, "Bad Request", "bad request line")
    method, target, version = parts
    if not allowed(method, target):
        raise Refused(403, "Forbidden", f"the agent relay does not pass {method} {target.split('?')[0][:100]}")
    headers: list[tuple[str, str]] = []
    length: int | None = None
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name) or line[:1] in (" ", "\t"):
            raise Refused(400, "Bad Request", "malformed header line")
        lower, value = name.lower(), value.strip()
        if lower == "transfer-encoding":
            raise Refused(411, "Length Required", "chunked bodies are not relayed; send Content-Length")
        if lower == "content-length":
            if length is not None or not value.isdigit():
                raise Refused(400, "Bad Request", "bad or repeated Content-Length")
            length = int(value)
            if length > MAX_BODY:
                raise Refused(413, "Content Too Large", "request body too large for the agent relay")
        if lower not in _DROPPED:
            headers.append((name, value))
    headers += [("X-Forwarded-For", peer), ("X-Ironworks-Relay", key), ("Connection", "close")]
    text = f"{method} {target} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return text.encode("ascii"), length or 0


def _refuse(client: socket.socket, refused: Refused) -> None:
    fault = json.dumps({"faultstring": refused.message, "faultcode": "Client", "debuginfo": None})
    body = json.dumps({"error_message": fault}).encode()
    head = (
        f"HTTP/1.1 {refused.status} {refused.reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        client.sendall(head.encode() + body)


def _relay(client: socket.socket, target: tuple[str, int], key: str) -> None:
    peer = client.getpeername()[0]
    try:
        client.settimeout(HEAD_TIMEOUT)
        head, rest = read_head(client)
        upstream_head, length = rebuild(head, peer, key)
    except Refused as refused:
        _refuse(client, refused)
        return
    except OSError:
        return
    body, rest = rest[:length], b""  # bytes beyond the body are never relayed
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        _refuse(client, Refused(502, "Bad Gateway", "the Ironworks API is not reachable"))
        return
    with upstream:
        try:
            upstream.sendall(upstream_head + body)
            remaining = length - len(body)
            while remaining > 0:
                chunk = client.recv(min(65536, remaining))
                if not chunk:
                    return
                upstream.sendall(chunk)
                remaining -= len(chunk)
            upstream.settimeout(None)  # the command long poll may take a minute
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
        except OSError:
            return


def _serve_one(client: socket.socket, target: tuple[str, int], key: str) -> None:
    with client:
        _relay(client, target, key)


def serve(listener: socket.socket, target: tuple[str, int], key: str) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(client, target, key), daemon=True).start()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ironworks.lab.apiproxy")
    parser.add_argument("--netns", help="listen inside this network namespace (default: this process's)")
    parser.add_argument("--listen", required=True, help="ADDRESS:PORT inside the namespace")
    parser.add_argument("--target", required=True, help=f"{LOOPBACK}:PORT on the host")
    parser.add_argument(
        "--key-file",
        type=Path,
        required=True,
        help="file with the key the service expects in X-Ironworks-Relay (agent_relay_key_file)",
    )
    args = parser.parse_args(argv)
    target = _address(args.target)
    if target[0] != LOOPBACK:
        parser.error(f"the target must be on {LOOPBACK}: traffic never leaves this machine")
    key = args.key_file.read_text().strip()
    if not key or not _TOKEN.match(key):
        parser.error(f"{args.key_file} holds no usable key")
    listener = listen_in(args.netns, *_address(args.listen))
    print(f"relaying {args.listen} -> {args.target}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(listener, target, key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
