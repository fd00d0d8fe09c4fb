"""``GET /v1/nodes/{node}/firmware`` (API 1.86; identity fields 1.114), as Ironic's ``NodeFirmwareController``.

The components are the node's cached ones (``firmware_information``, db/repos/firmware.py), refreshed when
cleaning starts and by the firmware ``update`` step. As Ironic: 404 below 1.86; query ``fields`` (items from
the schema's enum, else 400) and ``detail`` (a boolean), not both (400), nothing else (400); default fields
``component, initial_version, current_version, last_version_flashed`` plus ``vendor, model, serial_number`` from
1.114 (asked for below 1.114: 400 in Ironic's words); ``created_at`` and ``updated_at`` always. QUIRK kept from
Ironic's code: ``detail=true`` answers only the timestamps (Ironic passes no field list then).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, endpoint, parse_bool
from ironworks.db.repos.firmware import FirmwareRepo
from ironworks.inventory import nodes as inventory
from ironworks.resources import microversion as mv
from ironworks.resources.timestamps import iso

FIRMWARE_IDENTITY = 114
DEFAULT_FIELDS = ("component", "initial_version", "current_version", "last_version_flashed")
IDENTITY_FIELDS = ("vendor", "model", "serial_number")
VALID_FIELDS = ("created_at", "updated_at", *DEFAULT_FIELDS, *IDENTITY_FIELDS)


def _fields(ctx: Ctx) -> tuple[str, ...]:
    ctx.check_params(("fields", "detail"))
    fields: list[str] | None = None
    if "fields" in ctx.query:
        fields = [f.strip() for f in ctx.query["fields"].split(",") if f.strip()]
        bad = [f for f in fields if f not in VALID_FIELDS]
        if bad:
            raise errors.Invalid(f"{bad[0][:80]!r} is not one of {list(VALID_FIELDS)}")
    detail = parse_bool("detail", ctx.query["detail"]) if "detail" in ctx.query else None
    if ctx.version < FIRMWARE_IDENTITY and fields is not None:
        disallowed = sorted(set(fields) & set(IDENTITY_FIELDS))
        if disallowed:
            raise errors.InvalidParameterValue(
                f"Fields {', '.join(disallowed)} are not allowed in this API version. They require at least "
                f"API version 1.{FIRMWARE_IDENTITY}."
            )
    if fields is not None and detail:
        raise errors.InvalidParameterValue("Can not specify ?detail=True and fields in the same request.")
    if fields is None and not detail:
        return DEFAULT_FIELDS + (IDENTITY_FIELDS if ctx.version >= FIRMWARE_IDENTITY else ())
    return tuple(fields or ())


def list_firmware(ctx: Ctx) -> Any:
    if ctx.version < mv.FIRMWARE:
        raise errors.NotFound("The API version does not allow node firmware")
    fields = _fields(ctx)
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    out = []
    for row in FirmwareRepo(ctx.services.db).for_node(node["id"]):
        item: dict[str, Any] = {"created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"])}
        item.update({f: row[f] for f in fields if f not in ("created_at", "updated_at")})
        out.append(item)
    return {"firmware": out}


routes = [Route("/v1/nodes/{node}/firmware", endpoint(list_firmware), methods=["GET"])]
