"""The outermost layer of the API: Ironic's root routing, request ids and version headers on every answer.

* A path without the ``/v1`` prefix is served as the v1 path (``/nodes`` is ``/v1/nodes``), as Ironic's root
  controller does, so the ``bookmark`` links every resource carries lead somewhere. ``/`` stays the root document.
* Every answer carries the request id as ``X-OpenStack-Request-Id`` (the name oslo.middleware and every
  OpenStack client read; Ironic API 1.107 documents it) and ``OpenStack-Request-Id`` (Ironic's historical name),
  both ``req-<uuid>``. The id is generated here, once per request, and handed to the route through the scope,
  so logs and answers agree. An inbound ``X-OpenStack-Request-Id`` is not echoed, as in Ironic (it is a global
  id, not this request's).
* Every answer carries the minimum and maximum microversion headers, also a 404 for an unknown path, a 405, and
  refusals made before any route runs (authentication, body limits), as Ironic's version hook does.
"""

from __future__ import annotations

import uuid as uuidlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironworks.resources import microversion

#: the scope key under which the request id travels to ``api.common.endpoint``
REQUEST_ID_KEY = "ironworks.request_id"
REQUEST_ID_HEADERS = ("X-OpenStack-Request-Id", "OpenStack-Request-Id")


def v1_path(path: str) -> str:
    """The path Ironic serves for ``path``: ``/`` and ``/v1…`` as they are, anything else under ``/v1``."""
    if path in ("", "/") or path == "/v1" or path.startswith("/v1/"):
        return path
    return "/v1" + path


class ApiEnvelope:
    """ASGI middleware: v1 routing of unprefixed paths, request ids and version headers (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = v1_path(scope["path"])
        if path != scope["path"]:
            scope = dict(scope)
            scope["path"] = path
            if scope.get("raw_path") is not None:
                scope["raw_path"] = b"/v1" + scope["raw_path"]
        request_id = f"req-{uuidlib.uuid4()}"
        scope[REQUEST_ID_KEY] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in REQUEST_ID_HEADERS:
                    if name not in headers:
                        headers.append(name, request_id)
                if microversion.MIN_HEADER not in headers:
                    headers.append(microversion.MIN_HEADER, microversion.MIN_VERSION)
                    headers.append(microversion.MAX_HEADER, microversion.MAX_VERSION)
            await send(message)

        await self.app(scope, receive, send_with_headers)
