"""The ``noop`` switch: for zones where cabling already fixes every port's VLAN. Records nothing, changes nothing."""

from __future__ import annotations

from collections.abc import Sequence

from ironworks.networking.switches.base import SwitchDriver, SwitchPort


class NoopSwitch(SwitchDriver):
    name = "noop"

    def set_access(self, port: SwitchPort, vlan: int) -> None:
        return None

    def set_trunk(self, port: SwitchPort, vlans: Sequence[int], native: int | None = None) -> None:
        return None

    def isolate(self, port: SwitchPort) -> None:
        return None
