"""/v1/drivers: the enabled hardware types and their interfaces."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, endpoint, parse_bool
from ironworks.drivers.base import NoInterface, RaidInterface
from ironworks.drivers.hardware_types import INTERFACE_KINDS, HardwareType
from ironworks.resources import microversion as mv


def _render(ctx: Ctx, hw: HardwareType, detail: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": hw.name,
        "hosts": [ctx.services.settings.effective_conductor_name],
        "links": [
            {"href": f"{ctx.base_url}/v1/drivers/{hw.name}", "rel": "self"},
            {"href": f"{ctx.base_url}/drivers/{hw.name}", "rel": "bookmark"},
        ],
    }
    if ctx.version >= mv.DYNAMIC_DRIVERS:  # every driver is a hardware type; the field exists from 1.30
        out["type"] = "dynamic"
    if ctx.version >= mv.STATES_LINKS:
        out["properties"] = [
            {"href": f"{ctx.base_url}/v1/drivers/{hw.name}/properties", "rel": "self"},
            {"href": f"{ctx.base_url}/drivers/{hw.name}/properties", "rel": "bookmark"},
        ]
    if detail and ctx.version >= mv.DYNAMIC_INTERFACES:
        for kind in INTERFACE_KINDS:
            if kind == "firmware" and ctx.version < mv.FIRMWARE:
                continue
            if kind == "bios" and ctx.version < 40:
                continue
            if kind == "rescue" and ctx.version < mv.RESCUE:
                continue
            if kind == "storage" and ctx.version < 33:
                continue
            out[f"default_{kind}_interface"] = hw.default(kind)
            out[f"enabled_{kind}_interfaces"] = list(hw.supported(kind))
    return out


def _fields(ctx: Ctx) -> list[str] | None:
    """``?fields=`` (API 1.77, 406 below, as Ironic): which fields to keep (``links`` always stays)."""
    raw = ctx.q_str("fields")
    if raw is None:
        return None
    if ctx.version < mv.DRIVER_FIELDS:
        raise errors.NotAcceptable()
    return [f.strip() for f in raw.split(",") if f.strip()]


def _select(out: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return out
    invalid = sorted(set(fields) - set(out))
    if invalid:
        raise errors.InvalidParameterValue(f'Field(s) "{", ".join(invalid)}" are not valid')
    return {k: v for k, v in out.items() if k in fields or k == "links"}


def list_drivers(ctx: Ctx) -> Any:
    ctx.check_params(("type", "detail", "fields"))
    kind = ctx.q_str("type")
    raw_detail = ctx.q_str("detail")
    if (kind is not None or raw_detail is not None) and ctx.version < mv.DYNAMIC_DRIVERS:
        raise errors.NotAcceptable(f"Request not acceptable. The minimal required API version should be "
                                   f"1.{mv.DYNAMIC_DRIVERS}")
    if kind not in (None, "classic", "dynamic"):
        raise errors.InvalidParameterValue(f"Invalid driver type {kind!r}: use 'classic' or 'dynamic'.")
    detail = parse_bool("detail", raw_detail) if raw_detail is not None else False
    fields = _fields(ctx)
    if fields is not None and detail:
        raise errors.Invalid("Can not specify ?detail=True and fields in the same request.")
    hws = [] if kind == "classic" else list(ctx.services.drivers.hardware_types.values())
    return {"drivers": [_select(_render(ctx, hw, detail or fields is not None), fields) for hw in hws]}


def show_driver(ctx: Ctx) -> Any:
    ctx.check_params(("fields",))
    fields = _fields(ctx)
    hw = ctx.services.drivers.get(ctx.path_params["driver"])
    return _select(_render(ctx, hw, True), fields)


def driver_properties(ctx: Ctx) -> Any:
    ctx.check_params(())
    hw = ctx.services.drivers.get(ctx.path_params["driver"])
    return ctx.services.driver_properties(hw)


def raid_logical_disk_properties(ctx: Ctx) -> Any:
    """API 1.12 (406 below, as Ironic's ``allow_raid_config``): the logical disk properties of the first RAID
    interface the hardware type supports that is not ``no-raid``; none → 404 ``UnsupportedDriverExtension``."""
    ctx.check_params(())
    if ctx.version < mv.RAID:
        raise errors.NotAcceptable()
    hw = ctx.services.drivers.get(ctx.path_params["driver"])
    for name in hw.supported("raid"):
        impl = ctx.services.drivers.implementation("raid", name)
        if impl is not None and not isinstance(impl, NoInterface) and isinstance(impl, RaidInterface):
            return impl.get_logical_disk_properties()
    raise errors.NotFound(f"Driver {hw.name} does not support raid (disabled or not implemented).")


routes = [
    Route("/v1/drivers", endpoint(list_drivers), methods=["GET"]),
    Route("/v1/drivers/{driver}", endpoint(show_driver), methods=["GET"]),
    Route("/v1/drivers/{driver}/properties", endpoint(driver_properties), methods=["GET"]),
    Route("/v1/drivers/{driver}/raid/logical_disk_properties", endpoint(raid_logical_disk_properties),
          methods=["GET"]),
]
