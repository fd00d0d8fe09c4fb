"""The outermost layer of the API: hostile-input checks that need no route, no caller and no database.

It runs before authentication, auditing and every route, so none of them ever sees:

- **a NUL byte** in the path, the query string (raw or percent-encoded), a header, or the user name and
  password of a ``Basic`` ``Authorization`` header: 400. (PostgreSQL refuses NUL in text, so a NUL that got
  as far as a query or an audit row would be a 500 and, in a group-committed audit batch, cost other
  requests' records.) NULs inside JSON bodies are refused when the body is parsed (``Ctx.json``).
- **a body larger than** ``max_request_body_bytes``: a ``Content-Length`` above the limit is answered 413
  before a byte of the body is read; a chunked body is counted as the route reads it and answered 413 (and
  the connection closed) as soon as it passes the limit, so at most the limit plus one chunk is ever held.

Answers carry Ironic's error body and ``Connection: close`` (the unread rest of a refused body is never
read). A client that hangs up while its body is being read ends the request quietly.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from urllib.parse import unquote

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ironworks import errors


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a request body passes the limit; turned into a 413 below."""


def _too_large(limit: int) -> errors.IronworksError:
    err = errors.IronworksError(f"The request body is larger than the limit of {limit} bytes (max_request_body_bytes).")
    err.http_status = 413
    return err


def _has_nul(scope: Scope) -> str | None:
    """Where a NUL byte is in this request's path, query or headers, or None."""
    if "\x00" in scope["path"] or b"%00" in scope.get("raw_path", b"").lower():
        return "path"
    if "\x00" in unquote(scope["query_string"].decode("latin-1")):
        return "query string"
    for name, value in scope["headers"]:
        if b"\x00" in name or b"\x00" in value:
            return "headers"
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                credentials = base64.b64decode(value[6:].strip(), validate=True)
            except (binascii.Error, ValueError):
                continue  # not decodable: authentication answers that
            if b"\x00" in credentials:
                return "Basic credentials"
    return None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _has_nul(scope)
        if where is not None:
            await _refuse(scope, receive, send, errors.Invalid(f"The request's {where} contains a NUL byte."))
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(scope, receive, send, _too_large(self.max_body_bytes))
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, receive, send, _too_large(self.max_body_bytes))
        except ClientDisconnect:
            pass  # the client went away mid-body: nobody to answer


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: errors.IronworksError) -> None:
    from ironworks.api.common import error_response, version_headers

    headers = {"Openstack-Request-Id": f"req-{uuid.uuid4()}", **version_headers(None), "Connection": "close"}
    await error_response(exc, headers)(scope, receive, send)
