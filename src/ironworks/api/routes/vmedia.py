"""``/v1/nodes/{node}/vmedia``: attach (``POST``) and detach (``DELETE``) virtual media (API 1.89), list the
devices (``GET``, API 1.93), as Ironic's ``NodeVmediaController``.

* Below 1.89 every method answers 404 (``GET`` below 1.93 too), before the node is looked up.
* ``POST`` body: ``device_type`` (``cdrom`` / ``disk`` / ``floppy``) and ``image_url`` required,
  ``image_download_source`` (``http`` / ``local`` / ``swift``, default ``local``), nothing else (400). The URL is
  user input handed to a BMC: only ``http://`` and ``https://`` are taken (Ironic also takes nfs/cifs/smb, which
  Ironworks cannot serve; ``file://`` would expose the conductor's files), at most :data:`MAX_URL` characters,
  with Ironic's "Unsupported or missing URL scheme" answer; credentials in it are never logged nor shown.
* ``DELETE [?device_types=cdrom,disk]`` (or, as openstacksdk sends it, a body ``{"device_types": "cdrom,disk"}``):
  unknown types 400; none given detaches everything.
* Attach and detach run on a conductor worker under the node lock and answer 204 (Ironic's codes); a failure
  shows in ``last_error`` and the node history. ``GET`` answers the bare list of devices.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.conductor import intake, management
from ironworks.drivers.base import VMEDIA_DEVICES

ATTACH_VMEDIA = 89
GET_VMEDIA = 93
SCHEMES = ("http", "https")
DOWNLOAD_SOURCES = ("http", "local", "swift")
#: longest image URL accepted (browsers and BMCs commonly stop near 2 KiB; this leaves room for signed URLs)
MAX_URL = 4096


def _require(ctx: Ctx, version: int) -> None:
    if ctx.version < version:
        raise errors.NotFound("The resource could not be found.")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _parse_attach(body: dict[str, Any]) -> tuple[str, str, str]:
    unknown = sorted(set(body) - {"device_type", "image_url", "image_download_source"})
    if unknown:
        raise errors.Invalid(
            f"Additional properties are not allowed ({', '.join(map(repr, unknown))} "
            f"{'was' if len(unknown) == 1 else 'were'} unexpected)"
        )
    for key in ("device_type", "image_url"):
        if key not in body:
            raise errors.Invalid(f"'{key}' is a required property")
    device, url = body["device_type"], body["image_url"]
    source = body.get("image_download_source", "local")
    if device not in VMEDIA_DEVICES:
        raise errors.Invalid(f"{_short(device)!r} is not one of {list(VMEDIA_DEVICES)}")
    if not isinstance(url, str):
        raise errors.Invalid(f"{_short(url)!r} is not of type 'string'")
    if source not in DOWNLOAD_SOURCES:
        raise errors.Invalid(f"{_short(source)!r} is not one of {list(DOWNLOAD_SOURCES)}")
    if len(url) > MAX_URL:
        raise errors.Invalid(f"image_url is longer than {MAX_URL} characters.")
    try:
        parsed = urllib.parse.urlsplit(url)
    except ValueError:
        raise errors.Invalid("image_url is not a valid URL.") from None
    if parsed.scheme not in SCHEMES or not parsed.netloc:
        raise errors.Invalid(f"Unsupported or missing URL scheme: {_short(parsed.scheme)}")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise errors.Invalid("image_url must not contain whitespace or control characters.")
    return device, url, source


def get_vmedia(ctx: Ctx) -> Any:
    _require(ctx, ATTACH_VMEDIA)
    _require(ctx, GET_VMEDIA)
    ctx.check_params(())
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    return management.get_virtual_media(ctx.services, node)


def attach_vmedia(ctx: Ctx) -> Any:
    _require(ctx, ATTACH_VMEDIA)
    ctx.check_params(())
    device, url, source = _parse_attach(ctx.json_object())
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    management.attach_virtual_media(ctx.services, node, device, url, source, ctx.request_id)
    return Reply(204)


def detach_vmedia(ctx: Ctx) -> Any:
    _require(ctx, ATTACH_VMEDIA)
    ctx.check_params(("device_types",))
    raw: Any = ctx.query.get("device_types")
    if raw is None and ctx.raw_body.strip():  # openstacksdk sends {"device_types": "cdrom,disk"} as the body
        body = ctx.json_object()
        unknown = sorted(set(body) - {"device_types"})
        if unknown:
            raise errors.Invalid(f"Unknown argument(s): {', '.join(unknown)}.")
        raw = body.get("device_types")
        if isinstance(raw, list) and all(isinstance(t, str) for t in raw):
            raw = ",".join(raw)
        if raw is not None and not isinstance(raw, str):
            raise errors.Invalid("device_types must be a comma-separated string of device types.")
    device_types = [t.strip() for t in raw.split(",") if t.strip()] if raw is not None else []
    invalid = [t for t in device_types if t not in VMEDIA_DEVICES]
    if invalid:
        raise errors.Invalid(
            f"Invalid device type(s) {_short(', '.join(invalid))} (valid are {', '.join(VMEDIA_DEVICES)})"
        )
    node = intake.find(ctx.services, ctx.path_params["node"], ctx.version)
    management.detach_virtual_media(ctx.services, node, list(dict.fromkeys(device_types)) or None, ctx.request_id)
    return Reply(204)


routes = [
    Route("/v1/nodes/{node}/vmedia", endpoint(get_vmedia), methods=["GET"]),
    Route("/v1/nodes/{node}/vmedia", endpoint(attach_vmedia), methods=["POST"]),
    Route("/v1/nodes/{node}/vmedia", endpoint(detach_vmedia), methods=["DELETE"]),
]
