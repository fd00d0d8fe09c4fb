"""The ``netmiko`` switch: real top-of-rack switches over SSH (Cisco IOS, Arista EOS, Juniper Junos).

Configuration: ``device_type`` (``cisco_ios``, ``arista_eos``, ``juniper_junos``), ``host``, ``port`` (22),
``username``, ``password`` (a secret: never logged, ``******`` in reprs), optional ``secret`` (enable), and
``save_config`` (write the running configuration after each change; default false).

Each operation opens one SSH session, sends one command set in configuration mode (Junos: then ``commit``) and
closes. The command sets (``commands``) are data, one function per operation and platform, so tests assert
them exactly. A port name must look like an interface name (letters, digits, ``/ . : _ -``): anything else
could smuggle CLI syntax and is refused. netmiko's errors are translated here into ``errors.DriverError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ironworks import errors
from ironworks.networking.switches.base import SwitchDriver, SwitchPort, check_vlan

LOG = logging.getLogger(__name__)

_PORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$")


def _ios_access(port: str, vlan: int) -> list[str]:
    return [f"interface {port}", "switchport mode access", f"switchport access vlan {vlan}", "no shutdown"]


def _ios_trunk(port: str, vlans: Sequence[int], native: int | None) -> list[str]:
    allowed = sorted(set(vlans) | ({native} if native else set()))
    return [
        f"interface {port}",
        "switchport mode trunk",
        *([f"switchport trunk native vlan {native}"] if native else ["no switchport trunk native vlan"]),
        f"switchport trunk allowed vlan {','.join(map(str, allowed))}",
        "no shutdown",
    ]


def _ios_isolate(port: str) -> list[str]:
    return [f"interface {port}", "shutdown", "switchport mode access", "no switchport access vlan"]


def _junos_base(port: str) -> list[str]:
    return [f"delete interfaces {port} unit 0 family ethernet-switching", f"delete interfaces {port} native-vlan-id"]


def _junos_access(port: str, vlan: int) -> list[str]:
    fam = f"set interfaces {port} unit 0 family ethernet-switching"
    return [
        *_junos_base(port),
        f"delete interfaces {port} disable",
        f"{fam} interface-mode access",
        f"{fam} vlan members {vlan}",
    ]


def _junos_trunk(port: str, vlans: Sequence[int], native: int | None) -> list[str]:
    fam = f"set interfaces {port} unit 0 family ethernet-switching"
    allowed = sorted(set(vlans) | ({native} if native else set()))
    return [
        *_junos_base(port),
        f"delete interfaces {port} disable",
        f"{fam} interface-mode trunk",
        *(f"{fam} vlan members {v}" for v in allowed),
        *([f"set interfaces {port} native-vlan-id {native}"] if native else []),
    ]


def _junos_isolate(port: str) -> list[str]:
    return [*_junos_base(port), f"set interfaces {port} disable"]


#: device_type -> (access, trunk, isolate) command builders
PLATFORMS: dict[str, tuple[Any, Any, Any]] = {
    "cisco_ios": (_ios_access, _ios_trunk, _ios_isolate),
    "arista_eos": (_ios_access, _ios_trunk, _ios_isolate),
    "juniper_junos": (_junos_access, _junos_trunk, _junos_isolate),
}


def commands(device_type: str, operation: str, port: str, *args: Any) -> list[str]:
    """The configuration commands for ``operation`` (access, trunk, isolate) on ``port``."""
    if device_type not in PLATFORMS:
        raise errors.InvalidParameterValue(
            f"Unsupported switch device_type {device_type!r}; supported: {', '.join(sorted(PLATFORMS))}"
        )
    if not _PORT_NAME.match(port):
        raise errors.InvalidParameterValue(f"{port!r} is not a switch interface name")
    index = ("access", "trunk", "isolate").index(operation)
    result: list[str] = PLATFORMS[device_type][index](port, *args)
    return result


class NetmikoSwitch(SwitchDriver):
    name = "netmiko"

    def __init__(self, switch: str, config: Mapping[str, Any]) -> None:
        super().__init__(switch, config)
        self.device_type = str(config.get("device_type", ""))
        if self.device_type not in PLATFORMS:
            raise ValueError(f"switch {switch!r}: device_type must be one of {', '.join(sorted(PLATFORMS))}")
        if not config.get("host"):
            raise ValueError(f"switch {switch!r}: host is required")

    def _connect_args(self) -> dict[str, Any]:
        c = self.config
        return {
            "device_type": self.device_type,
            "host": str(c["host"]),
            "port": int(c.get("port", 22)),
            "username": str(c.get("username", "")),
            "password": str(c.get("password", "")),
            "secret": str(c.get("secret", "")),
            "use_keys": False,
            "allow_agent": False,
            "ssh_config_file": None,
            "conn_timeout": float(c.get("conn_timeout", 10)),
            "auth_timeout": float(c.get("conn_timeout", 10)),
            "banner_timeout": float(c.get("conn_timeout", 10)),
            "read_timeout_override": float(c.get("read_timeout", 30)),
        }

    def _apply(self, port: SwitchPort, what: str, cmds: list[str]) -> None:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoBaseException, NetmikoTimeoutException
        from paramiko import SSHException

        LOG.info("Switch %s: %s on %s: %s", self.switch, what, port.port_id, "; ".join(cmds))
        try:
            with ConnectHandler(**self._connect_args()) as conn:
                if self.device_type == "juniper_junos":
                    conn.send_config_set(cmds, exit_config_mode=False)
                    conn.commit()
                    conn.exit_config_mode()
                else:
                    conn.send_config_set(cmds)
                    if self.config.get("save_config"):
                        conn.save_config()
        except (
            NetmikoBaseException,
            NetmikoAuthenticationException,
            NetmikoTimeoutException,
            SSHException,
            OSError,
            EOFError,
            ValueError,
        ) as exc:
            reason = str(exc).replace(str(self.config.get("password") or "\0"), "******")
            raise self.fail(port, what, f"{type(exc).__name__}: {reason.splitlines()[0] if reason else ''}") from exc

    def set_access(self, port: SwitchPort, vlan: int) -> None:
        self._apply(
            port, f"set access VLAN {vlan}", commands(self.device_type, "access", port.port_id, check_vlan(vlan))
        )

    def set_trunk(self, port: SwitchPort, vlans: Sequence[int], native: int | None = None) -> None:
        vlans = [check_vlan(v) for v in vlans]
        if native is not None:
            check_vlan(native)
        self._apply(
            port, f"set trunk {vlans} native {native}", commands(self.device_type, "trunk", port.port_id, vlans, native)
        )

    def isolate(self, port: SwitchPort) -> None:
        self._apply(port, "isolate", commands(self.device_type, "isolate", port.port_id))
