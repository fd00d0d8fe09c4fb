"""A small, real HTTP implementation of the service side of docs/agent-protocol.md, for the agent's tests.

It is not the Ironworks service (that one is written against the same document); it records every request so
tests can check what the agent sent: token header on every call after lookup, bodies, ordering.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NODE = "6d85703a-565d-469a-96ce-30b6de53079d"
TOKEN_HEADER = "X-Ironworks-Agent-Token"


@dataclass
class Seen:
    method: str
    path: str
    token: str | None
    body: Any


@dataclass
class StubState:
    macs: set[str]
    config: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    issued: bool = False
    commands: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    result_event: threading.Event = field(default_factory=threading.Event)

    def revoke(self) -> None:
        """The node was re-prepared: the old token is invalid and the next lookup issues a new one."""
        with self.lock:
            self.token, self.issued = None, False


class _Handler(BaseHTTPRequestHandler):
    state: StubState

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _reply(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def _authorised(self) -> bool:
        st = self.state
        return st.token is not None and self.headers.get(TOKEN_HEADER) == st.token

    def do_GET(self) -> None:  # noqa: N802
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        st.seen.append(Seen("GET", url.path, self.headers.get(TOKEN_HEADER), None))
        if url.path == "/v1/lookup":
            macs = set(urllib.parse.parse_qs(url.query).get("addresses", [""])[0].split(","))
            if not macs & st.macs:
                return self._reply(404, {"error_message": "not found"})
            with st.lock:
                token = "******" if st.issued else secrets.token_urlsafe(32)
                if not st.issued:
                    st.token, st.issued = token, True
            node = {"uuid": NODE, "properties": st.properties, "instance_info": {}, "driver_internal_info": {}}
            return self._reply(200, {"node": node, "config": {"agent_token": token, **st.config}})
        if url.path == f"/v1/agent/{NODE}/commands/next":
            if not self._authorised():
                return self._reply(401, {"error_message": "bad token"})
            wait = int(urllib.parse.parse_qs(url.query).get("wait", ["30"])[0])
            try:
                cmd = st.commands.get(timeout=min(wait, 2))
            except queue.Empty:
                return self._reply(204)
            if cmd.get("_revoke"):
                st.revoke()
                return self._reply(401, {"error_message": "token revoked"})
            return self._reply(200, {"command": cmd})
        self._reply(404, {"error_message": "no such path"})

    def do_POST(self) -> None:  # noqa: N802
        st = self.state
        body = self._body()
        st.seen.append(Seen("POST", self.path, self.headers.get(TOKEN_HEADER), body))
        if not self._authorised():
            return self._reply(401, {"error_message": "bad token"})
        if self.path == f"/v1/heartbeat/{NODE}":
            return self._reply(202)
        prefix = f"/v1/agent/{NODE}/commands/"
        if self.path.startswith(prefix) and self.path.endswith("/result"):
            cid = self.path[len(prefix):-len("/result")]
            st.results.setdefault(cid, []).append(body)
            st.result_event.set()
            return self._reply(204)
        self._reply(404, {"error_message": "no such path"})


class ProtocolStub:
    def __init__(self, macs: set[str], **config: Any) -> None:
        self.state = StubState(macs=macs, config=config)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def send(self, cid: str, name: str, params: dict[str, Any] | None = None) -> None:
        self.state.commands.put({"id": cid, "name": name, "params": params or {}})

    def wait_results(self, count: int, timeout: float = 30.0) -> dict[str, list[dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while sum(len(v) for v in self.state.results.values()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.state.results} arrived within {timeout} s")
            self.state.result_event.wait(0.1)
            self.state.result_event.clear()
        return self.state.results

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
