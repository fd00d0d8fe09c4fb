"""A TCP relay from inside the lab's network namespace to the Ironworks API on the host's loopback.

The ramdisk agent in a lab server must reach the API, which listens on 127.0.0.1 of the host. Rather than a
veth pair and routes between the namespace and the host, this process (started in the host's namespace) opens
its listening socket *inside* the lab namespace (``setns`` into it for that one ``socket()`` call, then back:
a socket belongs to the namespace it was created in) and connects every accepted connection to
``127.0.0.1:<port>`` in the host namespace. Nothing is routed, no host interface is touched, and traffic stays
on loopback and the lab bridge.

``python -m ironworks.lab.apiproxy --netns NS --listen 10.213.0.1:6385 --target 127.0.0.1:6385``
prints ``relaying <listen> -> <target>`` on stderr once it listens.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import selectors
import socket
import sys
import threading
from collections.abc import Iterator

CLONE_NEWNET = 0x40000000
LOOPBACK = "127.0.0.1"


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


def listen_in(netns: str, host: str, port: int) -> socket.socket:
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    return sock


def _pump(client: socket.socket, target: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    client.settimeout(None)
    peers = {client: upstream, upstream: client}
    selector = selectors.DefaultSelector()
    for sock in peers:
        selector.register(sock, selectors.EVENT_READ)
    try:
        open_reads = 2
        while open_reads:
            for key, _ in selector.select():
                source = key.fileobj
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(65536)
                except OSError:
                    data = b""
                if data:
                    peers[source].sendall(data)
                    continue
                selector.unregister(source)
                open_reads -= 1
                with contextlib.suppress(OSError):
                    peers[source].shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        selector.close()
        client.close()
        upstream.close()


def serve(listener: socket.socket, target: tuple[str, int]) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_pump, args=(client, target), daemon=True).start()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ironworks.lab.apiproxy")
    parser.add_argument("--netns", required=True)
    parser.add_argument("--listen", required=True, help="ADDRESS:PORT inside the namespace")
    parser.add_argument("--target", required=True, help=f"{LOOPBACK}:PORT on the host")
    args = parser.parse_args(argv)
    target = _address(args.target)
    if target[0] != LOOPBACK:
        parser.error(f"the target must be on {LOOPBACK}: traffic never leaves this machine")
    listener = listen_in(args.netns, *_address(args.listen))
    print(f"relaying {args.listen} -> {args.target}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve(listener, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
