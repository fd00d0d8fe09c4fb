"""Ironic's ``redfish_*`` driver_info keys, checked without network I/O, as one frozen :class:`RedfishAccess`."""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ironworks import errors

AUTH_TYPES = ("auto", "basic", "session")
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f")


@dataclasses.dataclass(frozen=True)
class RedfishAccess:
    address: str  # scheme://host[:port], no path
    system_id: str | None
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    verify_ca: bool | str = True
    auth_type: str = "auto"

    @property
    def bmc(self) -> str:
        return self.address


def _verify_ca(raw: Any) -> bool | str:
    if raw is None or isinstance(raw, bool):
        return True if raw is None else raw
    text = str(raw).strip()
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if os.path.isfile(text) or os.path.isdir(text):
        return text
    raise errors.InvalidParameterValue(f"driver_info redfish_verify_ca must be a boolean or the path of an "
                                       f"existing CA file or directory, not {raw!r}.")


def parse_driver_info(info: Mapping[str, Any]) -> RedfishAccess:
    address = info.get("redfish_address")
    if not address:
        raise errors.MissingParameterValue("Missing the following Redfish properties in node's driver_info: "
                                           "redfish_address.")
    if not isinstance(address, str):
        raise errors.InvalidParameterValue("driver_info redfish_address must be a string.")
    text = address.strip()
    if "://" not in text:
        text = "https://" + text
    parsed = urllib.parse.urlsplit(text)
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parsed = None  # type: ignore[assignment]
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname \
            or parsed.path not in ("", "/") or parsed.query or parsed.username:
        raise errors.InvalidParameterValue(f"driver_info redfish_address must be an http(s) URL of the BMC "
                                           f"(scheme, host and port only), not {address!r}.")
    system_id = info.get("redfish_system_id")
    if system_id is not None and (not isinstance(system_id, str) or not system_id.startswith("/")
                                  and "/" in system_id):
        raise errors.InvalidParameterValue(f"driver_info redfish_system_id must be the path of a "
                                           f"ComputerSystem (e.g. /redfish/v1/Systems/1), not {system_id!r}.")
    if system_id and not system_id.startswith("/"):
        system_id = f"/redfish/v1/Systems/{system_id}"
    auth_type = str(info.get("redfish_auth_type") or "auto").lower()
    if auth_type not in AUTH_TYPES:
        raise errors.InvalidParameterValue(f"driver_info redfish_auth_type must be one of "
                                           f"{', '.join(AUTH_TYPES)}, not {info.get('redfish_auth_type')!r}.")
    for key in ("redfish_username", "redfish_password"):
        if info.get(key) is not None and not isinstance(info.get(key), str):
            raise errors.InvalidParameterValue(f"driver_info {key} must be a string.")
    return RedfishAccess(address=f"{parsed.scheme}://{parsed.netloc}", system_id=system_id or None,
                         username=info.get("redfish_username") or None,
                         password=info.get("redfish_password") or None,
                         verify_ca=_verify_ca(info.get("redfish_verify_ca")), auth_type=auth_type)
