"""Ironic before API 1.91: a path ending in ``.json`` means the path without it.

Old Ironic clients appended ``.json`` to resource paths (Pecan guessed the content type from it). Ironic keeps
that working, as its ``JsonExtensionMiddleware`` does, only for requests that carry the legacy header
``X-OpenStack-Ironic-API-Version`` with a version below 1.91:

* the suffix is stripped (``/v1/nodes/web.json`` is node ``web``);
* for nodes, portgroups, allocations and deploy templates, whose names may themselves end in ``.json``, a 404
  for the stripped path is retried with the path as sent (``/v1/nodes/db.json`` finds node ``db.json``).

Without the legacy header, or from 1.91, nothing is stripped. The retry replays the request body, which the
request guard outside has already bounded; the first attempt answered 404, so it changed nothing.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LEGACY_HEADER = b"x-openstack-ironic-api-version"
DOT_JSON_REMOVED = 91
#: resources Ironic looks up again with the suffix when the stripped name is not found
RETRIED = ("/v1/nodes/", "/v1/portgroups/", "/v1/allocations/", "/v1/deploy_templates/")
_VERSION = re.compile(rb"^\s*1\.(\d{1,4})\s*$")


def _strips(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name.lower() == LEGACY_HEADER:
            match = _VERSION.match(value)
            return bool(match) and int(match.group(1)) < DOT_JSON_REMOVED
    return False


class JsonSuffix:
    """ASGI middleware: the module docstring's rules."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").rstrip("/") if scope["type"] == "http" else ""
        if not path.endswith(".json") or not _strips(scope):
            await self.app(scope, receive, send)
            return
        stripped = dict(scope, path=path[:-5], raw_path=path[:-5].encode())
        if not path.startswith(RETRIED):
            await self.app(stripped, receive, send)
            return

        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: nothing to serve
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break

        def replay() -> Receive:
            sent = False

            async def receive_again() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()  # after the body: wait for the disconnect, as the server would

            return receive_again

        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(stripped, replay(), keep)
        if answer and answer[0]["type"] == "http.response.start" and answer[0]["status"] == 404:
            await self.app(scope, replay(), send)  # the name itself ends in .json
            return
        for message in answer:
            await send(message)
