"""Client side of the agent protocol (docs/agent-protocol.md), standard library ``urllib`` only.

``AgentClient`` makes one HTTP call per method and maps status codes to the error tree: 401 → TokenRejected,
404/409/other 4xx/5xx → ProtocolError with ``status``; connection failures and timeouts → ProtocolError with
status None. Retrying and backoff are the caller's (main.py) business. The token is never logged.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ironworks_agent import __version__
from ironworks_agent.errors import ProtocolError, TokenRejected

LOG = logging.getLogger(__name__)
API_VERSION = "1.62"
TOKEN_HEADER = "X-Ironworks-Agent-Token"
SECRET_HEADER = "X-Ironworks-Boot-Secret"
MASKED = "******"


@dataclass(frozen=True)
class LookupResult:
    node_uuid: str
    token: str
    node: dict[str, Any]
    config: dict[str, Any]

    @property
    def heartbeat_interval(self) -> float:
        return float(self.config.get("heartbeat_interval") or 10)

    @property
    def poll_wait(self) -> int:
        return int(self.config.get("poll_wait") or 30)


@dataclass(frozen=True)
class Command:
    id: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)


class AgentClient:
    def __init__(self, api_url: str, *, timeout: float = 30.0, insecure: bool = False) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None
        self._context: ssl.SSLContext | None = None
        if self.api_url.startswith("https://"):
            self._context = ssl.create_default_context()
            if insecure:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE

    def _call(self, method: str, path: str, body: Any = None, *, timeout: float | None = None,
              auth: bool = True, extra: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "User-Agent": f"ironworks-agent/{__version__}",
                   "X-OpenStack-Ironic-API-Version": API_VERSION, **(extra or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            if not self.token:
                raise TokenRejected("no agent token: lookup first", status=None)
            headers[TOKEN_HEADER] = self.token
        req = urllib.request.Request(self.api_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout, context=self._context) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            text = exc.read()[:500].decode(errors="replace")
            LOG.warning("%s %s → %s %s", method, path, exc.code, text)
            if exc.code == 401:
                raise TokenRejected(f"{method} {path}: the agent token was rejected", status=401) from exc
            raise ProtocolError(f"{method} {path}: HTTP {exc.code}: {text}", status=exc.code) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ProtocolError(f"{method} {path}: {exc}", status=None) from exc
        if not raw.strip():
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError as exc:
            raise ProtocolError(f"{method} {path}: the answer is not JSON", status=status) from exc

    def lookup(self, macs: list[str], node_uuid: str | None = None, boot_secret: str | None = None) -> LookupResult:
        query = {"addresses": ",".join(macs)}
        if node_uuid:
            query["node_uuid"] = node_uuid
        extra = {SECRET_HEADER: boot_secret} if boot_secret else None  # a header: query strings end up in logs
        status, body = self._call("GET", "/v1/lookup?" + urllib.parse.urlencode(query), auth=False, extra=extra)
        try:
            node = dict(body["node"])
            config = dict(body.get("config") or {})
            uuid = str(node["uuid"])
            token = str(config.get("agent_token") or "")
        except (KeyError, TypeError) as exc:
            raise ProtocolError("lookup answer lacks node.uuid or config", status=status) from exc
        if not token or token == MASKED:
            raise ProtocolError(f"lookup of node {uuid} gave no usable agent token (already issued)", status=status)
        self.token = token
        return LookupResult(uuid, token, node, config)

    def heartbeat(self, node_uuid: str, state: dict[str, Any]) -> None:
        body = {"callback_url": "", "agent_token": self.token, "agent_version": __version__, **state}
        self._call("POST", f"/v1/heartbeat/{node_uuid}", body)

    def next_command(self, node_uuid: str, wait: int) -> Command | None:
        status, body = self._call("GET", f"/v1/agent/{node_uuid}/commands/next?wait={int(wait)}",
                                  timeout=wait + 15)
        if status == 204 or not body:
            return None
        try:
            cmd = body["command"]
            return Command(str(cmd["id"]), str(cmd["name"]), dict(cmd.get("params") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed command from the service", status=status) from exc

    def post_result(self, node_uuid: str, command_id: str, result: dict[str, Any]) -> None:
        self._call("POST", f"/v1/agent/{node_uuid}/commands/{command_id}/result", result)
