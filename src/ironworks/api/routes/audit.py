"""``GET /v1/audit``: the audit log of state-changing requests (an Ironworks extension, admins only).

Filters: ``user``, ``project``, ``method``, ``node`` (uuid), ``status``, ``request_id``, ``since``/``until``
(ISO 8601, UTC when no offset is given); ``limit`` (default 100, at most 1000), ``marker`` (the ``id`` of the
last record of the previous page) and ``sort_dir`` (``desc``, the default: newest first, or ``asc``).
Authorization is the route's rule in auth/hook.py (``baremetal:audit:list``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import MAX_LIMIT, Ctx, endpoint
from ironworks.db.repos.audit import AuditRepo
from ironworks.identifiers import normalize_uuid
from ironworks.resources.timestamps import iso

DEFAULT_LIMIT = 100
_PARAMS = ("user", "project", "method", "node", "status", "request_id", "since", "until", "limit", "marker", "sort_dir")
_FIELDS = ("id", "request_id", "user", "project", "role", "method", "path", "node_uuid", "status")


def _time(ctx: Ctx, name: str) -> dt.datetime | None:
    raw = ctx.q_str(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise errors.Invalid(f"Invalid value for {name}: {raw!r} is not an ISO 8601 date and time.") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def list_audit(ctx: Ctx) -> Any:
    ctx.check_params(_PARAMS)
    limit = ctx.q_int("limit")
    if limit is not None and limit <= 0:
        raise errors.Invalid("Limit must be positive")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    marker = ctx.q_int("marker")
    sort_dir = (ctx.q_str("sort_dir") or "desc").lower()
    if sort_dir not in ("asc", "desc"):
        raise errors.Invalid(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
    method = ctx.q_str("method")
    if method is not None and method.upper() not in ("POST", "PUT", "PATCH", "DELETE"):
        raise errors.Invalid(f"Invalid value for method: {method!r}; one of POST, PUT, PATCH, DELETE.")
    filters = {
        "user": ctx.q_str("user"),
        "project": ctx.q_str("project"),
        "method": method.upper() if method else None,
        "status": ctx.q_int("status"),
        "request_id": ctx.q_str("request_id"),
        "node_uuid": normalize_uuid(ctx.q_str("node"), "node") if ctx.q_str("node") is not None else None,
    }
    records = AuditRepo(ctx.services.db).list(
        filters=filters,
        since=_time(ctx, "since"),
        until=_time(ctx, "until"),
        marker=marker,
        limit=limit,
        newest_first=sort_dir == "desc",
    )
    items = [{**{f: r[f] for f in _FIELDS}, "created_at": iso(r["created_at"])} for r in records]
    body: dict[str, Any] = {"audit": items}
    if len(records) == limit:
        args = {k: ctx.query.get(k) for k in ctx.query if k not in ("limit", "marker")}
        args.update(limit=limit, marker=records[-1]["id"])
        body["next"] = f"{ctx.base_url}/v1/audit?{urlencode(args)}"
    return body


routes = [Route("/v1/audit", endpoint(list_audit), methods=["GET"])]
