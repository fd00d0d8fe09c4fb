"""The switch driver interface, the switch port a node's port names, and the switch registry.

A port's ``local_link_connection`` names where it is cabled: ``switch_id`` (the switch's MAC or a name),
``port_id`` (the switch's name for the port) and optionally ``switch_info`` (a switch name). A ``SwitchDriver``
changes that switch port:

* ``set_access(port, vlan)``: the port carries ``vlan`` untagged and nothing else;
* ``set_trunk(port, vlans, native)``: the port carries ``vlans`` tagged and ``native`` (if any) untagged;
* ``isolate(port)``: the port carries no VLAN at all.

Every call leaves the port in exactly the state asked for, whatever it was before (idempotent), so a flow that
is retried after a crash simply repeats it. Failures are ``errors.DriverError`` naming the switch and port.

``Switches`` maps a switch port to the driver configured for its switch: the configuration is keyed by switch
name, matched against ``switch_info`` first and ``switch_id`` second (case-insensitive). Switch credentials
live in that configuration only and are shown as ``******`` in any repr or log.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks import errors

SECRET_KEYS = frozenset({"password", "secret", "key_passphrase"})
MASK = "******"


@dataclass(frozen=True)
class SwitchPort:
    switch_id: str
    port_id: str
    switch_info: str | None = None

    @classmethod
    def from_llc(cls, llc: Mapping[str, Any] | None) -> SwitchPort | None:
        """The switch port of a ``local_link_connection``; None when it names none."""
        llc = llc or {}
        if not llc.get("port_id") or not (llc.get("switch_id") or llc.get("switch_info")):
            return None
        return cls(
            str(llc.get("switch_id") or llc["switch_info"]),
            str(llc["port_id"]),
            str(llc["switch_info"]) if llc.get("switch_info") else None,
        )

    def __str__(self) -> str:
        return f"{self.switch_info or self.switch_id} port {self.port_id}"


def masked(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a switch configuration fit for logs and reprs."""
    return {k: (MASK if k in SECRET_KEYS and v else v) for k, v in config.items()}


def check_vlan(vlan: Any) -> int:
    if isinstance(vlan, bool) or not isinstance(vlan, int) or not 1 <= vlan <= 4094:
        raise errors.InvalidParameterValue(f"{vlan!r} is not a VLAN id (1-4094)")
    return vlan


class SwitchDriver(abc.ABC):
    #: the ``driver`` name in the switch configuration
    name = ""

    def __init__(self, switch: str, config: Mapping[str, Any]) -> None:
        self.switch = switch
        self.config = dict(config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.switch!r}, {masked(self.config)!r})"

    @abc.abstractmethod
    def set_access(self, port: SwitchPort, vlan: int) -> None: ...

    @abc.abstractmethod
    def set_trunk(self, port: SwitchPort, vlans: Sequence[int], native: int | None = None) -> None: ...

    @abc.abstractmethod
    def isolate(self, port: SwitchPort) -> None: ...

    def fail(self, port: SwitchPort, what: str, reason: str) -> errors.DriverError:
        return errors.DriverError(f"Switch {self.switch}: cannot {what} on port {port.port_id}: {reason}")


DriverFactory = Callable[[str, Mapping[str, Any]], SwitchDriver]


def _factories() -> dict[str, DriverFactory]:
    from ironworks.networking.switches.linux_bridge import LinuxBridgeSwitch
    from ironworks.networking.switches.netmiko import NetmikoSwitch
    from ironworks.networking.switches.noop import NoopSwitch

    return {"noop": NoopSwitch, "linux-bridge": LinuxBridgeSwitch, "netmiko": NetmikoSwitch}


class Switches:
    """The configured switches (``{name: {"driver": …, …}}``), each built once."""

    def __init__(self, config: Mapping[str, Mapping[str, Any]], *, default_driver: str | None = None) -> None:
        factories = _factories()
        self.drivers: dict[str, SwitchDriver] = {}
        for name, conf in config.items():
            kind = str(conf.get("driver", ""))
            if kind not in factories:
                raise ValueError(f"switch {name!r}: unknown driver {kind!r} (known: {', '.join(sorted(factories))})")
            self.drivers[name.lower()] = factories[kind](name, conf)
        self.default = factories[default_driver]("default", {}) if default_driver else None

    def __repr__(self) -> str:
        return f"Switches({self.drivers!r})"

    def driver_for(self, port: SwitchPort) -> SwitchDriver:
        for key in (port.switch_info, port.switch_id):
            if key and key.lower() in self.drivers:
                return self.drivers[key.lower()]
        if self.default is not None:
            return self.default
        raise errors.InvalidParameterValue(
            f"No switch is configured for {port} (switch_info {port.switch_info!r}, switch_id {port.switch_id!r})"
        )


def load(path: str | None) -> Switches:
    """The switches of a TOML file (``[switches.<name>]`` tables); none configured: every port is ``noop``."""
    import tomllib

    if not path:
        return Switches({}, default_driver="noop")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return Switches(data.get("switches", {}))
