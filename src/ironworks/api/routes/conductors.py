"""``GET /v1/conductors`` and ``/v1/conductors/{hostname}`` (API 1.49, 404 below), as Ironic answers them.

A conductor: ``hostname, conductor_group, alive, drivers, created_at, updated_at, links`` (links by hostname).
``alive`` = online with a heartbeat younger than ``heartbeat_timeout``; ``updated_at`` is the last heartbeat;
``drivers`` are the hardware types every Ironworks conductor loads. A list shows ``hostname, conductor_group,
alive`` unless ``?detail=true``; ``?fields=`` picks (links always stay); marker = hostname; ``alive`` and
``drivers`` are not sortable. Admin only (no route rule for projects: Ironic's ``baremetal:conductor:get`` is a
system reader's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import MAX_LIMIT, Ctx, endpoint, parse_bool
from ironworks.db.models import utcnow
from ironworks.db.repos.conductors import CONDUCTORS
from ironworks.resources import microversion as mv
from ironworks.resources.timestamps import iso

FIELDS = ("hostname", "conductor_group", "alive", "drivers", "created_at", "updated_at", "links")
_DEFAULT = ("hostname", "conductor_group", "alive")
_SORTABLE = ("id", "hostname", "conductor_group", "created_at", "updated_at")


def _require(ctx: Ctx) -> None:
    if ctx.version < mv.CONDUCTORS:
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")


def _rows(ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.services.db.read() as session:
        return [dict(r._mapping) for r in session.execute(select(CONDUCTORS))]


def _render(ctx: Ctx, row: dict[str, Any], fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    fresh = utcnow() - dt.timedelta(seconds=ctx.services.settings.heartbeat_timeout)
    full = {
        "hostname": row["hostname"],
        "conductor_group": row["conductor_group"] or "",
        "alive": bool(row["online"]) and row["heartbeat_at"] >= fresh,
        "drivers": sorted(ctx.services.drivers.hardware_types),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["heartbeat_at"]),
        "links": ctx.links("conductors", row["hostname"]),
    }
    return {k: v for k, v in full.items() if k in fields or k == "links"}


def _fields(ctx: Ctx) -> list[str] | None:
    raw = ctx.q_str("fields")
    if raw is None:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise errors.InvalidParameterValue(f'Field(s) "{", ".join(bad)}" are not valid')
    return fields


def list_conductors(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("marker", "limit", "sort_key", "sort_dir", "fields", "detail"))
    fields = _fields(ctx)
    detail = parse_bool("detail", ctx.q_str("detail")) if ctx.q_str("detail") is not None else False
    if detail and fields is not None:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    limit = ctx.q_int("limit")
    if limit is not None and limit <= 0:
        raise errors.Invalid("Limit must be positive")
    limit = min(limit or MAX_LIMIT, MAX_LIMIT)
    sort_key = ctx.q_str("sort_key") or "id"
    if sort_key not in _SORTABLE:
        raise errors.Invalid(f"The sort_key value {sort_key} is an invalid field for sorting")
    sort_dir = (ctx.q_str("sort_dir") or "asc").lower()
    if sort_dir not in ("asc", "desc"):
        raise errors.Invalid(f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'")
    column = "heartbeat_at" if sort_key == "updated_at" else sort_key
    rows = sorted(_rows(ctx), key=lambda r: (r[column] is None, r[column], r["id"]), reverse=sort_dir == "desc")
    marker = ctx.q_str("marker")
    if marker is not None:
        names = [r["hostname"] for r in rows]
        if marker not in names:
            raise errors.NotFound(f"Conductor {marker} could not be found.")
        rows = rows[names.index(marker) + 1 :]
    page = rows[:limit]
    shown = fields or (FIELDS if detail else _DEFAULT)
    body: dict[str, Any] = {"conductors": [_render(ctx, r, shown) for r in page]}
    if len(page) == limit and len(rows) > limit:
        args = [f"limit={limit}", f"marker={page[-1]['hostname']}"]
        if detail:
            args.insert(0, "detail=True")
        if fields:
            args.insert(0, f"fields={','.join(fields)}")
        if ctx.q_str("sort_key"):
            args.append(f"sort_key={sort_key}")
        if ctx.q_str("sort_dir"):
            args.append(f"sort_dir={sort_dir}")
        body["next"] = f"{ctx.base_url}/v1/conductors?{'&'.join(args)}"
    return body


def show_conductor(ctx: Ctx) -> Any:
    _require(ctx)
    ctx.check_params(("fields",))
    fields = _fields(ctx)
    hostname = ctx.path_params["hostname"]
    for row in _rows(ctx):
        if row["hostname"] == hostname:
            return _render(ctx, row, fields or FIELDS)
    raise errors.NotFound(f"Conductor {hostname} could not be found.")


routes = [
    Route("/v1/conductors", endpoint(list_conductors), methods=["GET"]),
    Route("/v1/conductors/{hostname}", endpoint(show_conductor), methods=["GET"]),
]
