"""The netboot file server: a small static HTTP/1.1 server for iPXE scripts, kernels, ramdisks, config drives
and images, bound to the provisioning network's address.

Why a separate server and not routes in the API: it must listen on the provisioning network (inside the lab's
namespace, or on a provisioning interface the API does not listen on), it serves large files to many machines
at once (threads + ``sendfile``, no event loop or API worker tied up), and the agent and iPXE need nothing but
plain GET. The conductor starts it as a supervised child (:class:`FileServer`, ``python -m
ironworks.netboot.httpd``), in a network namespace when given one; tests may run it in a thread
(:func:`serve_in_thread`).

Behaviour: GET and HEAD; no directory listings; ``..`` and NUL refused; single byte ranges (``bytes=a-b``,
``a-``, ``-n``) answered 206 with ``Content-Range``, unsatisfiable ones 416, multi-range requests get the whole
file (allowed by RFC 9110); ``ETag``/``Last-Modified``/``If-None-Match``; keep-alive. Symlinks placed in the
root by the conductor are followed. Each request can be appended to a JSON-lines access log.

Per-node boot scripts (``nodes/<mac-hexhyp>.ipxe``) carry the boot's secret on the ramdisk's kernel command line
(docs/agent-protocol.md §9). With a lease file (``--lease-file``, dnsmasq's) such a script is served only to an
address dnsmasq currently leases to that MAC; anyone else gets 404, as for a missing file.
"""

from __future__ import annotations

import argparse
import email.utils
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import IO

from ironworks.netboot.leases import LeaseTable
from ironworks.netboot.supervisor import ChildProcess

CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_NODE_SCRIPT = re.compile(r"^nodes/([0-9a-f]{2}(?:-[0-9a-f]{2}){5})\.ipxe$")
_TYPES = {".ipxe": "text/plain; charset=utf-8", ".json": "application/json", ".iso": "application/x-iso9660-image"}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``Range`` → (first, last) inclusive; None: serve everything; "unsatisfiable": answer 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file is a valid answer
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            return "unsatisfiable"
        length = min(int(last_text), size)
        return (size - length, size - 1) if size else "unsatisfiable"
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or (last_text and last < first):
        return "unsatisfiable"
    return first, min(last, size - 1)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ironworks-netboot"
    root: Path
    access_log: IO[str] | None
    log_lock: threading.Lock
    leases: LeaseTable | None = None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass

    def _log(self, status: int, sent: int) -> None:
        if self.access_log is None:
            return
        record = {
            "time": round(time.time(), 3),
            "client": self.client_address[0],
            "method": self.command,
            "path": self.path,
            "status": status,
            "bytes": sent,
            "range": self.headers.get("Range"),
            "user_agent": self.headers.get("User-Agent"),
        }
        with self.log_lock:
            self.access_log.write(json.dumps(record) + "\n")
            self.access_log.flush()

    def _error(self, status: int, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 416:
            self.send_header("Content-Range", f"bytes */{self._size}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, 0)

    _size = 0

    def _resolve(self) -> Path | None:
        raw = urllib.parse.urlsplit(self.path).path
        path = urllib.parse.unquote(raw)
        if "\0" in path or not path.startswith("/"):
            return None
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            return None
        target = self.root.joinpath(*parts) if parts else self.root
        if not target.is_file() or not self._may_read("/".join(parts)):
            return None
        return target

    def _may_read(self, path: str) -> bool:
        """A node's boot script only for the address DHCP leased to its MAC (when leases are known)."""
        match = _NODE_SCRIPT.match(path.lower())
        if match is None or self.leases is None:
            return True
        return self.leases.leased_to(self.client_address[0], [match.group(1).replace("-", ":")])

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        target = self._resolve()
        if target is None:
            self._error(404, f"not found: {self.path}")
            return
        try:
            handle = open(target, "rb")  # noqa: SIM115 - closed below
        except OSError:
            self._error(404, f"not found: {self.path}")
            return
        with handle:
            st = os.fstat(handle.fileno())
            self._size = size = st.st_size
            etag = f'"{st.st_ino:x}-{size:x}-{st.st_mtime_ns:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self._log(304, 0)
                return
            wanted = parse_range(self.headers.get("Range"), size)
            if self.headers.get("If-Range") not in (None, etag):
                wanted = None
            if wanted == "unsatisfiable":
                self._error(416, "range not satisfiable")
                return
            first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
            length = max(0, last - first + 1)
            self.send_response(206 if isinstance(wanted, tuple) else 200)
            if isinstance(wanted, tuple):
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.send_header("Content-Type", _TYPES.get(target.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            sent = 0 if self.command == "HEAD" else self._send_body(handle, first, length)
            self._log(206 if isinstance(wanted, tuple) else 200, sent)

    def _send_body(self, handle: IO[bytes], offset: int, length: int) -> int:
        self.wfile.flush()
        sent = 0
        try:
            while sent < length:
                count = os.sendfile(self.connection.fileno(), handle.fileno(), offset + sent, min(CHUNK, length - sent))
                if count == 0:
                    break
                sent += count
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except OSError:  # sendfile not possible (e.g. TLS wrapper): copy
            handle.seek(offset + sent)
            while sent < length:
                data = handle.read(min(CHUNK, length - sent))
                if not data:
                    break
                self.wfile.write(data)
                sent += len(data)
        if sent < length:
            self.close_connection = True
        return sent


class NetbootHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, address: tuple[str, int], access_log: Path | None = None,
                 lease_file: Path | None = None) -> None:
        log = open(access_log, "a") if access_log else None  # noqa: SIM115 - closed in server_close
        leases = LeaseTable(lease_file) if lease_file is not None else None
        handler = type(
            "Handler",
            (_Handler,),
            {"root": Path(root).resolve(), "access_log": log, "log_lock": threading.Lock(), "leases": leases},
        )
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)
        self._log = log

    def server_close(self) -> None:
        super().server_close()
        if self._log is not None:
            self._log.close()


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0,
                    access_log: Path | None = None, lease_file: Path | None = None) -> NetbootHTTPServer:
    """Start a server in a daemon thread; stop it with ``shutdown()`` and ``server_close()``."""
    server = NetbootHTTPServer(root, (host, port), access_log, lease_file)
    threading.Thread(target=server.serve_forever, name="netboot-httpd", daemon=True).start()
    return server


class FileServer:
    """The file server as a supervised child process (in ``netns`` when given)."""

    def __init__(self, root: Path, host: str, port: int, log_file: Path, *, access_log: Path | None = None,
                 netns: str | None = None, lease_file: Path | None = None) -> None:
        argv = [sys.executable, "-m", "ironworks.netboot.httpd", "--root", str(root), "--bind", host,
                "--port", str(port)]
        if access_log is not None:
            argv += ["--access-log", str(access_log)]
        if lease_file is not None:
            argv += ["--lease-file", str(lease_file)]
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.process = ChildProcess("netboot-httpd", argv, log_file, netns=netns)

    def start(self, timeout: float = 15.0) -> FileServer:
        self.process.start()
        self.process.wait_for_log(f"serving on {self.url}", timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ironworks.netboot.httpd", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--bind", required=True, help="address to listen on (the provisioning network's)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--access-log", type=Path)
    parser.add_argument("--lease-file", type=Path, help="dnsmasq's leases: node scripts only to the leased address")
    args = parser.parse_args(argv)
    server = NetbootHTTPServer(args.root, (args.bind, args.port), args.access_log, args.lease_file)
    host = f"[{args.bind}]" if ":" in args.bind else args.bind
    print(f"serving on http://{host}:{server.server_address[1]} from {args.root}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
