"""The ASGI middleware around the API: authenticate the caller, then audit what it changed.

Under ``http_basic`` a request without valid credentials ends here with Ironic's error body and
``WWW-Authenticate: Basic realm="…"`` (401), or 400 for a header that is not Basic, or 429 with ``Retry-After``
while its user name or address is throttled after failed logins (``throttle.py``). Public paths (version
discovery, the ramdisk agent's calls) need no credentials, as Ironic's ``acl_public_routes``. The caller's
``Identity`` goes into the ASGI scope, where ``api/common.py`` finds it.

For state-changing requests the audit record is written when the answer's status line is about to be sent,
so a client that got its answer can already read the record.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironworks import errors
from ironworks.auth.audit import AuditRecorder, audited, node_from_location
from ironworks.auth.authenticator import Authenticator
from ironworks.auth.hook import AUDIT_KEY, IDENTITY_KEY
from ironworks.auth.identity import ANONYMOUS, NOAUTH, Forbidden, Identity
from ironworks.auth.throttle import LoginThrottled

#: paths anyone may call (Ironic's acl_public_routes, plus the agent's command channel: agent token)
PUBLIC_PATHS = re.compile(r"^(/|/v1/?|/v1/lookup/?|/v1/heartbeat/[^/]+/?|/v1/continue_inspection/?|/v1/agent/.*)$")


def _client_address(scope: Scope) -> str | None:
    """The address the connection came from (what the login throttle counts; never a forwarded header)."""
    client = scope.get("client")
    return str(client[0]) if client else None


class AuthMiddleware:
    #: headers a relay or reverse proxy adds (the lab's agent relay always does): under noauth such a request is
    #: not from this machine, whatever the connection's address, so it is anonymous, never the admin
    PROXIED = frozenset((b"x-forwarded-for", b"forwarded", b"x-real-ip", b"x-ironworks-relay"))

    def __init__(self, app: ASGIApp, authenticator: Authenticator, recorder: AuditRecorder | None, realm: str) -> None:
        self.app = app
        self.authenticator = authenticator
        self.recorder = recorder
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        audit: dict[str, Any] | None = {} if self.recorder is not None and audited(method, path) else None
        identity: Identity | None = NOAUTH
        if not self.authenticator.enabled and any(k.lower() in self.PROXIED for k, _ in scope.get("headers", ())):
            identity = ANONYMOUS  # "loopback" is never decided from the bind address alone (agent-protocol.md §9)
            if not PUBLIC_PATHS.match(path):
                exc = Forbidden(action=f"{method} {path} through a relay or proxy without authentication")
                await self._refuse(scope, receive, send, exc, audit)
                return
        if self.authenticator.enabled:
            identity = ANONYMOUS
            if not PUBLIC_PATHS.match(path):
                header = Headers(scope=scope).get("authorization")
                try:
                    identity = await self.authenticator.authenticate(header, _client_address(scope))
                except errors.IronworksError as exc:
                    await self._refuse(scope, receive, send, exc, audit)
                    return
        scope[IDENTITY_KEY] = identity
        scope[AUDIT_KEY] = audit
        if audit is None:
            await self.app(scope, receive, send)
            return

        async def send_audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                node = audit.get("node_uuid") or node_from_location(headers.get("location"))
                await self._record(
                    identity, method, path, int(message["status"]), headers.get("openstack-request-id"), node
                )
            await send(message)

        await self.app(scope, receive, send_audited)

    async def _record(
        self, identity: Identity | None, method: str, path: str, status: int, request_id: str | None, node: str | None
    ) -> None:
        assert self.recorder is not None
        await run_in_threadpool(
            self.recorder.record,
            identity=identity,
            method=method,
            path=path,
            status=status,
            request_id=request_id,
            node_uuid=node,
        )

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, exc: errors.IronworksError, audit: dict[str, Any] | None
    ) -> None:
        from ironworks.api.common import error_response, version_headers

        request_id = f"req-{uuid.uuid4()}"
        headers = {"Openstack-Request-Id": request_id, **version_headers(None)}
        if exc.http_status == 401:
            headers["WWW-Authenticate"] = f'Basic realm="{self.realm}"'
        if isinstance(exc, LoginThrottled):
            headers["Retry-After"] = str(exc.retry_after)
        if audit is not None:
            await self._record(None, scope["method"], scope["path"], exc.http_status, request_id, None)
        await error_response(exc, headers)(scope, receive, send)
