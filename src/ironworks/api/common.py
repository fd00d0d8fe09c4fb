"""The request context every route handler receives, and the helpers that shape Ironic's responses.

A route handler is a plain (synchronous) function ``handler(ctx) -> dict | Reply``. ``endpoint`` wraps it:
parses the microversion, reads the body, runs the handler on a worker thread, renders errors in Ironic's
format and adds the version headers to every answer.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ironworks import errors
from ironworks.auth import hook as auth_hook
from ironworks.auth.identity import ANONYMOUS, Identity
from ironworks.identifiers import is_uuid_like
from ironworks.logs import node_context
from ironworks.resources import microversion

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

_TRUE = {"1", "t", "true", "on", "y", "yes"}
_FALSE = {"0", "f", "false", "off", "n", "no"}

#: Ironic's default and maximum page size
MAX_LIMIT = 1000
#: deepest nesting of arrays and objects a JSON body may have. Real bodies (a config drive's network_data
#: inside a JSON patch, RAID configs, deploy steps) stay under 10; the database's JSON serialisers fail
#: somewhere between 255 and 1024 levels, and a stored body may be wrapped a few levels deeper.
MAX_JSON_DEPTH = 64
#: integers in the query string beyond a signed 64-bit one can match no column and are refused
_INT64 = 2**63


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Ctx:
    request: Request
    services: Services
    version: int
    request_id: str
    base_url: str
    raw_body: bytes
    path_params: dict[str, str]
    #: the caller (auth/middleware.py); ``authorize`` checks it against the route's rule before the handler
    identity: Identity = ANONYMOUS

    # --- authorization (auth/hook.py) -------------------------------------------------------------------
    def list_scope(self) -> dict[str, Any]:
        """Filters restricting a list to the caller's projects' nodes (none for admins)."""
        return auth_hook.list_scope(self.identity)

    # --- body ---------------------------------------------------------------------------------------------
    def json(self) -> Any:
        if not self.raw_body.strip():
            raise errors.Invalid("The request body is empty; a JSON document is required.")
        try:
            body = orjson.loads(self.raw_body)
        except orjson.JSONDecodeError as exc:
            raise errors.Invalid(f"The request body is not valid JSON: {exc}") from exc
        check_json(body)
        return body

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise errors.Invalid(f"The request body must be a JSON object, not {type(body).__name__}.")
        return body

    # --- query --------------------------------------------------------------------------------------------
    @property
    def query(self) -> Any:
        return self.request.query_params

    def check_params(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed)
        unknown = sorted(set(self.query.keys()) - allowed_set)
        if unknown:
            raise errors.Invalid(f"Unknown argument(s): {', '.join(unknown)}.")

    def q_str(self, name: str) -> str | None:
        return self.query.get(name)

    def q_bool(self, name: str) -> bool | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        return parse_bool(name, raw)

    def q_int(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise errors.Invalid(f"Invalid value for {name}: {raw[:40]!r} is not an integer.") from None
        if not -_INT64 <= value < _INT64:
            raise errors.Invalid(f"Invalid value for {name}: {raw[:40]!r} is out of range.")
        return value

    def q_fields(self, valid: Iterable[str]) -> list[str] | None:
        raw = self.query.get("fields")
        if raw is None:
            return None
        microversion.require(self.version, microversion.FIELDS_SUBSET, "The 'fields' parameter")
        fields = [f.strip() for f in raw.split(",") if f.strip()]
        valid_set = set(valid)
        bad = [f for f in fields if f not in valid_set]
        if bad:
            raise errors.Invalid(f'Field(s) "{", ".join(bad)}" are not valid')
        return fields

    def q_detail_or_fields(self, valid: Iterable[str]) -> tuple[bool, list[str] | None]:
        """``?detail=`` and ``?fields=`` of a list that has no ``/detail`` path: one or the other, as Ironic."""
        raw = self.q_str("detail")
        detail = parse_bool("detail", raw) if raw is not None else False
        fields = self.q_fields(valid)
        if fields is not None and detail:
            raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
        return detail, fields

    def q_pagination(self, sortable: Iterable[str]) -> tuple[int, str | None, str, str]:
        limit = self.q_int("limit")
        if limit is None:
            limit = MAX_LIMIT
        elif limit <= 0:
            raise errors.Invalid("Limit must be positive")
        limit = min(limit, MAX_LIMIT)
        marker = self.q_str("marker")
        if marker is not None and not is_uuid_like(marker):
            raise errors.InvalidUUID(uuid=marker)
        sort_key = self.q_str("sort_key") or "id"
        if sort_key not in set(sortable):
            raise errors.Invalid(f"The sort_key value {sort_key} is an invalid field for sorting")
        sort_dir = (self.q_str("sort_dir") or "asc").lower()
        if sort_dir not in ("asc", "desc"):
            raise errors.Invalid(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
        return limit, marker, sort_key, sort_dir

    # --- links --------------------------------------------------------------------------------------------
    def links(self, resource: str, ident: str) -> list[dict[str, str]]:
        return [
            {"href": f"{self.base_url}/v1/{resource}/{ident}", "rel": "self"},
            {"href": f"{self.base_url}/{resource}/{ident}", "rel": "bookmark"},
        ]

    def collection(
        self,
        key: str,
        items: list[dict[str, Any]],
        records: list[dict[str, Any]],
        limit: int,
        path: str,
        extra_args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {key: items}
        if records and len(records) == limit:
            args = {k: v for k, v in (extra_args or {}).items() if v is not None}
            args["limit"] = limit
            args["marker"] = records[-1]["uuid"]
            body["next"] = f"{self.base_url}/v1/{path}?{urlencode(args)}"
        return body


def check_json(body: Any) -> None:
    """Refuse a parsed JSON body nested deeper than MAX_JSON_DEPTH or with a NUL in any string or key.

    Iterative, so a deep body cannot exhaust the stack here either. PostgreSQL refuses NUL in text and jsonb.
    """
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise errors.Invalid("The request body contains a NUL character (\\u0000) in a string.")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise errors.Invalid(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((value, depth + 1) for value in item.values())
        else:
            stack.extend((value, depth + 1) for value in item)


def parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.Invalid(f"Invalid value for {name}: {raw!r} is not a boolean.")


# --- rendering ------------------------------------------------------------------------------------------------
def version_headers(minor: int | None) -> dict[str, str]:
    headers = {
        microversion.MIN_HEADER: microversion.MIN_VERSION,
        microversion.MAX_HEADER: microversion.MAX_VERSION,
    }
    if minor is not None:
        headers[microversion.HEADER] = f"1.{minor}"
    return headers


def json_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def error_response(exc: errors.IronworksError, headers: dict[str, str], debuginfo: str | None = None) -> Response:
    fault = {"faultcode": exc.faultcode, "faultstring": exc.message, "debuginfo": debuginfo}
    body = {"error_message": orjson.dumps(fault).decode()}
    return json_response(exc.http_status, body, headers)


Handler = Callable[[Ctx], Any]


def endpoint(handler: Handler, *, versioned: bool = True) -> Callable[[Request], Awaitable[Response]]:
    async def asgi_endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        # one id per request, made by api/versioning.py (which also puts it on every answer)
        request_id = request.scope.get("ironworks.request_id") or f"req-{uuidlib.uuid4()}"
        headers = {"X-OpenStack-Request-Id": request_id, "OpenStack-Request-Id": request_id}
        try:
            minor = microversion.parse(
                request.headers.get(microversion.HEADER), request.headers.get("OpenStack-API-Version")
            )
        except errors.IronworksError as exc:
            headers.update(version_headers(None))
            return error_response(exc, headers)
        if versioned:
            headers.update(version_headers(minor))
        raw = await request.body()
        base_url = services.settings.public_url.rstrip("/") or _connected_url(request, services)
        ctx = Ctx(request, services, minor, request_id, base_url, raw, dict(request.path_params),
                  request.scope.get(auth_hook.IDENTITY_KEY, ANONYMOUS))
        try:
            result = await run_in_threadpool(_call, handler, ctx)
        except errors.IronworksError as exc:
            if exc.http_status >= 500:
                LOG.error("%s %s failed: %s", request.method, request.url.path, exc.message)
            return error_response(exc, headers)
        except Exception:  # noqa: BLE001 - the one boundary where anything becomes a 500
            LOG.exception("%s %s failed unexpectedly", request.method, request.url.path)
            return error_response(errors.IronworksError("Internal Server Error"), headers)
        if isinstance(result, Reply):
            headers.update(result.headers)
            return json_response(result.status, result.body, headers)
        return json_response(200, result, headers)

    return asgi_endpoint


def _connected_url(request: Request, services: Services) -> str:
    """The base of absolute links when ``public_url`` is unset: the address this connection reached.

    Never the ``Host:`` header, which the client chooses: a forged one would put the client's links (``next``,
    ``Location``, ``self``) on any host it likes, for every other reader of a cached or logged answer.
    """
    server = request.scope.get("server")
    host, port = server if server else (services.settings.host, services.settings.port)
    if ":" in str(host):
        host = f"[{host}]"
    scheme = request.scope.get("scheme", "http")
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _call(handler: Handler, ctx: Ctx) -> Any:
    token = node_context.set({"request": ctx.request_id})
    try:
        auth_hook.authorize(ctx)
        return handler(ctx)
    finally:
        node_context.reset(token)
