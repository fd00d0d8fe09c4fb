"""Request limits over real sockets: body size (413, chunked too), slow and silent clients, connection count,
JSON nesting, NUL bytes, and links that never follow the ``Host:`` header.

The transport limits (``limited`` service: small limits so the tests are quick) act before any database is
touched, so that service runs on SQLite only; what reaches the database (NUL, nesting, links) runs on both.
Timing is never asserted: a limit either closes the connection (within a generous wait) or it does not;
the latency figures are in bench/slow_clients_bench.py.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import fault
from tests.fixtures.servers import ServiceUnderTest, make_settings

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    state = str(tmp_path_factory.mktemp("limits"))
    settings = make_settings(
        state,
        f"sqlite:///{state}/limits.sqlite",
        max_request_body_bytes=LIMIT,
        client_header_timeout=1.0,
        client_idle_timeout=1.0,
        max_connections=40,
    )
    svc = ServiceUnderTest(settings).start()
    yield svc
    svc.stop()


def _connect(svc: ServiceUnderTest) -> socket.socket:
    return socket.create_connection(("127.0.0.1", svc.port), timeout=30)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read until the server closes; the status, headers and body of its answer."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _assert_fault(status: int, body: bytes) -> str:
    inner = json.loads(json.loads(body)["error_message"])
    assert inner["faultcode"] == ("Client" if status < 500 else "Server")
    return str(inner["faultstring"])


def _closed_by_server(sock: socket.socket, wait: float = 15.0) -> bytes | None:
    """What the server sent before closing within ``wait`` seconds, or None if it kept the connection open."""
    sock.settimeout(wait)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


# --- body size ------------------------------------------------------------------------------------------
def test_declared_body_over_the_limit_is_413_before_the_body_is_sent(limited: ServiceUnderTest) -> None:
    for path in ("/v1/nodes", "/v1/heartbeat/2f6ad2c8-1d8c-4d8f-9b41-6c7a4e1f0a11"):  # the agent's public path too
        with _connect(limited) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {200 * 2**20}\r\n\r\n".encode()
            )
            status, headers, body = _read_answer(sock)  # not one body byte was sent
        assert status == 413, body
        assert headers["connection"] == "close"
        assert "larger than the limit" in _assert_fault(status, body)


def test_chunked_body_over_the_limit_is_413(limited: ServiceUnderTest) -> None:
    chunk = b"x" * 32768
    with _connect(limited) as sock:
        sock.sendall(
            b"POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        try:
            while sent < 4 * LIMIT:  # the server answers (and closes) long before this
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, body = _read_answer(sock)
    assert status == 413, body
    _assert_fault(status, body)


def test_a_body_within_the_limit_is_served(limited: ServiceUnderTest) -> None:
    with limited.client() as api:
        r = api.post("/v1/nodes", json={"driver": "fake-hardware", "extra": {"blob": "z" * (LIMIT - 1024)}})
        assert r.status_code == 201, r.text


# --- slow and silent clients --------------------------------------------------------------------------------
def test_silent_client_is_disconnected(limited: ServiceUnderTest) -> None:
    with _connect(limited) as sock:
        assert _closed_by_server(sock) == b""  # nothing sent, nothing answered, closed


def test_client_trickling_its_head_is_answered_408_and_disconnected(limited: ServiceUnderTest) -> None:
    with _connect(limited) as sock:
        sock.sendall(b"GET /v1/nodes HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 15
        try:
            while time.monotonic() < deadline:  # one header line every 0.2 s, forever
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, body = _read_answer(sock)
    assert status == 408
    _assert_fault(status, body)


def test_client_pausing_inside_its_body_is_disconnected(limited: ServiceUnderTest) -> None:
    with _connect(limited) as sock:
        sock.sendall(
            b"POST /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"driver":'
        )
        assert _closed_by_server(sock) is not None


def test_oversized_head_is_431(limited: ServiceUnderTest) -> None:
    with _connect(limited) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET /v1/nodes HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 100_000 + b"\r\n")
        status, _, body = _read_answer(sock)
    assert status == 431
    _assert_fault(status, body)


def test_connections_past_the_maximum_evict_the_waiting_ones(limited: ServiceUnderTest) -> None:
    """40 connections at most: 80 silent ones do not lock out a client that sends its request."""
    idle = [_connect(limited) for _ in range(80)]
    try:
        with limited.client() as api:
            assert api.get("/v1/nodes").status_code == 200
        closed = sum(_closed_by_server(sock, wait=0.2) is not None for sock in idle)
        assert closed >= 40
    finally:
        for sock in idle:
            sock.close()


def test_500_slow_clients_do_not_stop_a_normal_request(service: ServiceUnderTest) -> None:
    """Default limits: 250 silent and 250 head-trickling connections are open while a request is served."""
    slow = [_connect(service) for _ in range(500)]
    try:
        for i, sock in enumerate(slow[::2]):
            sock.sendall(b"GET /v1/nodes HTTP/1.1\r\nHost: x\r\nX-Client: %d\r\n" % i)
        with service.client() as api:
            for _ in range(3):
                assert api.get("/v1/nodes", timeout=60).status_code == 200
        # the slow clients are still connected (their header time has not run out): they did not just go away
        assert sum(_closed_by_server(sock, wait=0.01) is None for sock in slow) == 500
    finally:
        for sock in slow:
            sock.close()


# --- hostile content (both databases) ----------------------------------------------------------------------
def _nested(levels: int) -> str:
    return '{"driver": "fake-hardware", "extra": {"k": ' + "[" * levels + "]" * levels + "}}"


def test_json_nesting_is_capped(api: httpx.Client) -> None:
    r = api.post("/v1/nodes", content=_nested(300), headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "nested deeper than 64" in fault(r)["faultstring"]
    r = api.post("/v1/nodes", content=_nested(60), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("where", ["path", "query", "body string", "body key", "header", "basic user"])
def test_nul_bytes_are_400(service: ServiceUnderTest, api: httpx.Client, where: str) -> None:
    node = api.post("/v1/nodes", json={"driver": "fake-hardware", "name": "n1"}).json()
    if where == "path":
        r = api.get("/v1/nodes/n1%00")
    elif where == "query":
        r = api.get("/v1/nodes?resource_class=a%00b")
    elif where == "body string":
        r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": "/extra/k", "value": "a\u0000"}])
    elif where == "body key":
        r = api.post("/v1/chassis", json={"extra": {"a\u0000": 1}})
    else:
        from tests.api.test_bad_input_table import raw_request

        value = "1.1\u0000" if where == "header" else "Basic " + "YQBiOnA="  # base64 of "a\0b:p"
        name = "X-OpenStack-Ironic-API-Version" if where == "header" else "Authorization"
        r = raw_request(service.url, "GET", "/v1/nodes", {name: value}, b"")
    assert r.status_code == 400, r.text
    message = fault(r)["faultstring"]
    # a raw NUL in a header is already refused by the HTTP parser ("Invalid HTTP request received.")
    assert "NUL" in message or where == "header", message
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["extra"] == {}


def test_links_follow_the_connected_address_not_the_host_header(service: ServiceUnderTest, api: httpx.Client) -> None:
    r = api.post("/v1/nodes", json={"driver": "fake-hardware"}, headers={"Host": "evil.example:666"})
    assert r.status_code == 201
    assert r.headers["location"].startswith(f"{service.url}/v1/nodes/")
    links = api.get("/v1/nodes", headers={"Host": "evil.example"}).json()["nodes"][0]["links"]
    assert all(link["href"].startswith(service.url) for link in links), links


def test_public_url_decides_links_when_set(tmp_path_factory: pytest.TempPathFactory) -> None:
    state = str(tmp_path_factory.mktemp("public"))
    svc = ServiceUnderTest(
        make_settings(state, f"sqlite:///{state}/p.sqlite", public_url="https://bm.example.org:6385/")
    ).start()
    try:
        with svc.client() as api:
            r = api.post("/v1/nodes", json={"driver": "fake-hardware"}, headers={"Host": "evil.example"})
            assert r.headers["location"].startswith("https://bm.example.org:6385/v1/nodes/")
    finally:
        svc.stop()
