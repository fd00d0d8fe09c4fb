"""The netboot file server on 127.0.0.1: ranges, HEAD, ETag, keep-alive, refusal of paths outside the root,
large files streamed intact, the JSON access log, and the supervised child process."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ironworks.netboot.httpd import FileServer, NetbootHTTPServer, parse_range, serve_in_thread


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[NetbootHTTPServer, Path]]:
    root = tmp_path / "root"
    (root / "nodes").mkdir(parents=True)
    (root / "nodes/52-54-00-aa-00-01.ipxe").write_text("#!ipxe\necho hi\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 4)  # 1024 bytes
    (tmp_path / "outside.txt").write_text("secret")
    (root / "linked.bin").symlink_to(root / "data.bin")
    server = serve_in_thread(root, access_log=tmp_path / "access.log")
    yield server, tmp_path
    server.shutdown()
    server.server_close()


def _get(server: NetbootHTTPServer, path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_parse_range() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=90-500", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=-500", 100) == (0, 99)
    assert parse_range("bytes=100-", 100) == "unsatisfiable"
    assert parse_range("bytes=5-4", 100) == "unsatisfiable"
    assert parse_range("bytes=-0", 100) == "unsatisfiable"
    assert parse_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file
    assert parse_range("items=0-1", 100) is None


def test_whole_file_head_and_types(served: tuple[NetbootHTTPServer, Path]) -> None:
    server, _ = served
    status, headers, body = _get(server, "/data.bin")
    assert status == 200 and body == bytes(range(256)) * 4
    assert headers["content-length"] == "1024" and headers["accept-ranges"] == "bytes"
    status, headers, body = _get(server, "/data.bin", method="HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == "1024"
    status, headers, body = _get(server, "/nodes/52-54-00-aa-00-01.ipxe")
    assert status == 200 and body.startswith(b"#!ipxe") and headers["content-type"].startswith("text/plain")
    assert _get(server, "/linked.bin")[2] == bytes(range(256)) * 4  # symlinks placed by the conductor


def test_ranges(served: tuple[NetbootHTTPServer, Path]) -> None:
    server, _ = served
    data = bytes(range(256)) * 4
    status, headers, body = _get(server, "/data.bin", {"Range": "bytes=10-19"})
    assert status == 206 and body == data[10:20] and headers["content-range"] == "bytes 10-19/1024"
    status, headers, body = _get(server, "/data.bin", {"Range": "bytes=1000-"})
    assert status == 206 and body == data[1000:] and headers["content-length"] == "24"
    status, headers, body = _get(server, "/data.bin", {"Range": "bytes=-4"})
    assert status == 206 and body == data[-4:]
    status, headers, _ = _get(server, "/data.bin", {"Range": "bytes=2000-"})
    assert status == 416 and headers["content-range"] == "bytes */1024"
    etag = _get(server, "/data.bin")[1]["etag"]
    assert _get(server, "/data.bin", {"Range": "bytes=0-0", "If-Range": '"stale"'})[0] == 200
    assert _get(server, "/data.bin", {"Range": "bytes=0-0", "If-Range": etag})[0] == 206
    assert _get(server, "/data.bin", {"If-None-Match": etag})[0] == 304


@pytest.mark.parametrize("path", ["/../outside.txt", "/%2e%2e/outside.txt", "/nodes/../../outside.txt", "/nodes",
                                  "/", "/missing", "/data.bin%00", "//etc/passwd"])
def test_nothing_outside_the_root_and_no_listings(served: tuple[NetbootHTTPServer, Path], path: str) -> None:
    server, _ = served
    status, _, body = _get(server, path)
    assert status == 404 and b"secret" not in body


def test_keep_alive_and_access_log(served: tuple[NetbootHTTPServer, Path]) -> None:
    server, tmp_path = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    conn.request("GET", "/data.bin", headers={"User-Agent": "iPXE/1.0"})
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    conn.request("GET", "/v1/lookup?addresses=52%3A54%3A00%3Aaa%3A00%3A01")
    second = conn.getresponse()
    second.read()
    assert conn.sock is sock and second.status == 404  # same connection
    conn.close()
    records = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines()]
    assert [(r["path"], r["status"]) for r in records] == [
        ("/data.bin", 200),
        ("/v1/lookup?addresses=52%3A54%3A00%3Aaa%3A00%3A01", 404),
    ]
    assert records[0]["bytes"] == 1024 and records[0]["user_agent"] == "iPXE/1.0"


def test_large_file_is_streamed_intact(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    image = root / "image.raw"
    block = os.urandom(1 << 20)
    with open(image, "wb") as handle:
        for index in range(48):
            handle.write(block[index:] + block[:index])
    expected = hashlib.sha256(image.read_bytes()).hexdigest()
    server = serve_in_thread(root)
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1])) as sock:
            sock.sendall(b"GET /image.raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            digest, received, head = hashlib.sha256(), 0, b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            head, _, rest = head.partition(b"\r\n\r\n")
            digest.update(rest)
            received += len(rest)
            while chunk := sock.recv(1 << 20):
                digest.update(chunk)
                received += len(chunk)
        assert b"Content-Length: 50331648" in head
        assert received == 48 << 20 and digest.hexdigest() == expected
        # a resumed download (the agent retrying after a broken connection) gets exactly the tail
        status, _, body = _get(server, "/image.raw", {"Range": f"bytes={47 << 20}-"})
        assert status == 206 and body == image.read_bytes()[47 << 20:]
    finally:
        server.shutdown()
        server.server_close()


def test_file_server_child_process_is_restarted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "boot.ipxe").write_text("#!ipxe\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = FileServer(root, "127.0.0.1", port, tmp_path / "httpd.log")
    server.process.restart_delay = 0.2
    with server:
        first = server.process.pid
        assert first is not None
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/boot.ipxe")
        assert conn.getresponse().read() == b"#!ipxe\n"
        conn.close()
        os.kill(first, 9)
        server.process.wait_for_log(f"serving on {server.url}", 1)  # the first start's line
        import time

        deadline = time.monotonic() + 15
        while server.process.pid in (None, first) or server.process.log_tail().count("serving on") < 2:
            assert time.monotonic() < deadline, server.process.log_tail()
            time.sleep(0.1)
        assert server.process.restarts == 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/boot.ipxe")
        assert conn.getresponse().status == 200
        conn.close()
        pid = server.process.pid
    assert pid is not None and not Path(f"/proc/{pid}").exists()
