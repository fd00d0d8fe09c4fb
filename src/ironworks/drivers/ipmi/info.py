"""Ironic's ``ipmi_*`` driver_info keys, checked without I/O and turned into one frozen :class:`IPMIAccess`.

Limits of the pyghmi library, reported as 400s rather than discovered at run time: only cipher suites 3 and 17
exist there (pyghmi proposes 17 and falls back to 3 by itself), and only single bridging.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ironworks import errors

PRIV_LEVELS = {"CALLBACK": 1, "USER": 2, "OPERATOR": 3, "ADMINISTRATOR": 4}
BRIDGING = ("no", "single", "dual")
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f", "")


@dataclasses.dataclass(frozen=True)
class IPMIAccess:
    address: str
    port: int = 623
    username: str = ""
    password: str = dataclasses.field(default="", repr=False)
    priv_level: str = "ADMINISTRATOR"
    cipher_suite: int | None = None
    kg: bytes | None = dataclasses.field(default=None, repr=False)
    #: (target channel, target address) when bridging is "single"
    bridge: tuple[int, int] | None = None
    force_boot_device: bool = False

    @property
    def bmc(self) -> str:
        """How messages name this BMC: ``address:port`` (IPv6 in brackets)."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    @property
    def privlevel(self) -> int:
        return PRIV_LEVELS[self.priv_level]


def _int(info: Mapping[str, Any], key: str, low: int, high: int, default: int | None = None) -> int | None:
    raw = info.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw, 0) if isinstance(raw, str) else int(raw)
        if isinstance(raw, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise errors.InvalidParameterValue(f"driver_info {key} must be an integer, not {raw!r}.") from None
    if not low <= value <= high:
        raise errors.InvalidParameterValue(f"driver_info {key} must be between {low} and {high}, not {value}.")
    return value


def parse_bool(info: Mapping[str, Any], key: str, default: bool = False) -> bool:
    raw = info.get(key)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.InvalidParameterValue(f"driver_info {key} must be a boolean, not {raw!r}.")


def parse_driver_info(info: Mapping[str, Any]) -> IPMIAccess:
    """Validate ``driver_info``; raises MissingParameterValue / InvalidParameterValue (400)."""
    address = info.get("ipmi_address")
    if not address:
        raise errors.MissingParameterValue("Missing the following IPMI credentials in node's driver_info: "
                                           "ipmi_address.")
    if not isinstance(address, str) or any(ch.isspace() for ch in address.strip()):
        raise errors.InvalidParameterValue(f"driver_info ipmi_address must be a host name or IP address, "
                                           f"not {address!r}.")
    for key in ("ipmi_username", "ipmi_password"):
        if not isinstance(info.get(key, ""), str):
            raise errors.InvalidParameterValue(f"driver_info {key} must be a string.")
    password = info.get("ipmi_password") or ""
    if len(password.encode()) > 20:
        raise errors.InvalidParameterValue("driver_info ipmi_password is longer than IPMI 2.0's 20 bytes.")
    priv = str(info.get("ipmi_priv_level") or "ADMINISTRATOR").upper()
    if priv not in PRIV_LEVELS:
        raise errors.InvalidParameterValue(f"driver_info ipmi_priv_level must be one of "
                                           f"{', '.join(PRIV_LEVELS)}, not {info.get('ipmi_priv_level')!r}.")
    cipher = _int(info, "ipmi_cipher_suite", 0, 17)
    if cipher is not None and cipher not in (3, 17):
        raise errors.InvalidParameterValue(f"driver_info ipmi_cipher_suite {cipher} is not supported; this "
                                           "driver negotiates cipher suite 17 or 3.")
    kg_hex = info.get("ipmi_hex_kg_key")
    kg = None
    if kg_hex:
        try:
            kg = bytes.fromhex(str(kg_hex))
        except ValueError:
            raise errors.InvalidParameterValue("driver_info ipmi_hex_kg_key must be hexadecimal.") from None
    bridging = str(info.get("ipmi_bridging") or "no").lower()
    if bridging not in BRIDGING:
        raise errors.InvalidParameterValue(f"driver_info ipmi_bridging must be one of {', '.join(BRIDGING)}, "
                                           f"not {info.get('ipmi_bridging')!r}.")
    bridge = None
    if bridging == "dual":
        raise errors.InvalidParameterValue("driver_info ipmi_bridging 'dual' is not supported by this driver; "
                                           "use 'single' or 'no'.")
    if bridging == "single":
        missing = [k for k in ("ipmi_target_channel", "ipmi_target_address") if info.get(k) in (None, "")]
        if missing:
            raise errors.MissingParameterValue(f"ipmi_bridging 'single' needs driver_info {', '.join(missing)}.")
        channel = _int(info, "ipmi_target_channel", 0, 15)
        target = _int(info, "ipmi_target_address", 0, 255)
        assert channel is not None and target is not None
        bridge = (channel, target)
    _int(info, "ipmi_local_address", 0, 255)
    port = _int(info, "ipmi_port", 1, 65535, 623)
    assert port is not None
    return IPMIAccess(address=address.strip(), port=port, username=info.get("ipmi_username") or "",
                      password=password, priv_level=priv, cipher_suite=cipher, kg=kg, bridge=bridge,
                      force_boot_device=parse_bool(info, "ipmi_force_boot_device"))
