"""The ``linux-bridge`` switch: a Linux bridge plays the top-of-rack switch (the virtual lab, small sites).

Configuration: ``bridge`` (the bridge the node ports are on), ``netns`` (optional: the namespace holding it),
``segment_prefix`` (default ``brv``) and ``mode``: ``vlan-filtering``, ``per-vlan-bridges`` or ``auto``
(default: VLAN filtering when the bridge has it or accepts ``vlan_filtering 1``). ``port_id`` is the name of the
interface on the bridge (a tap or a veth).

* **VLAN filtering** (``bridge vlan``): access = the port's only VLAN, ``pvid untagged``; trunk = each VLAN
  tagged plus the native one ``pvid untagged``; isolate = no VLAN left on the port.
* **Per-VLAN bridges**, for kernels without ``CONFIG_BRIDGE_VLAN_FILTERING`` (this project's CI host): each VLAN
  is its own bridge ``<segment_prefix><vlan>`` (created on first use, as ``lab/network.py``'s ``add_segment``
  does); access = move the port to that bridge; isolate = detach it from any bridge. A trunk with tagged VLANs
  cannot be built this way (it needs 802.1Q), so it is refused with a clear error; a trunk of only a native
  VLAN is an access port. ``vlan_bridges`` (``{"10": "br0"}``) names an existing bridge for a VLAN instead
  (the lab's provisioning VLAN is its main bridge, where dnsmasq answers).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from ironworks import errors
from ironworks.networking.switches.base import SwitchDriver, SwitchPort, check_vlan

FILTERING = "vlan-filtering"
PER_VLAN = "per-vlan-bridges"
AUTO = "auto"


class LinuxBridgeSwitch(SwitchDriver):
    name = "linux-bridge"

    def __init__(self, switch: str, config: Mapping[str, Any]) -> None:
        super().__init__(switch, config)
        self.bridge = str(config.get("bridge", "br0"))
        self.netns = config.get("netns")
        self.prefix = str(config.get("segment_prefix", "brv"))
        self.vlan_bridges = {int(k): str(v) for k, v in dict(config.get("vlan_bridges") or {}).items()}
        mode = str(config.get("mode", AUTO))
        if mode not in (AUTO, FILTERING, PER_VLAN):
            raise ValueError(f"switch {switch!r}: mode must be {AUTO}, {FILTERING} or {PER_VLAN}, not {mode!r}")
        self._mode: str | None = None if mode == AUTO else mode

    # -- commands -------------------------------------------------------------------------------------------
    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [tool, *(["-n", str(self.netns)] if self.netns else []), *args]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
        if check and proc.returncode != 0:
            raise errors.DriverError(
                f"Switch {self.switch}: {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run("ip", *args, check=check)

    @property
    def mode(self) -> str:
        """The mode in use, detected once in ``auto``."""
        if self._mode is None:
            shown = self.ip("-d", "-j", "link", "show", "dev", self.bridge, check=False)
            enabled = False
            if shown.returncode == 0:
                info = (json.loads(shown.stdout or "[{}]")[0].get("linkinfo") or {}).get("info_data") or {}
                enabled = info.get("vlan_filtering") == 1 or (
                    self.ip("link", "set", self.bridge, "type", "bridge", "vlan_filtering", "1", check=False).returncode
                    == 0
                )
            self._mode = FILTERING if enabled else PER_VLAN
        return self._mode

    def _vlans_on(self, port: str) -> list[int]:
        proc = self._run("bridge", "-j", "vlan", "show", "dev", port)
        found: list[int] = []
        for entry in json.loads(proc.stdout or "[]"):
            for vlan in entry.get("vlans", []):
                first = int(vlan["vlan"])
                found.extend(range(first, int(vlan.get("vlanEnd", first)) + 1))
        return found

    def _clear(self, port: str) -> None:
        for vid in self._vlans_on(port):
            self._run("bridge", "vlan", "del", "dev", port, "vid", str(vid))

    def _segment(self, vlan: int) -> str:
        if vlan in self.vlan_bridges:
            return self.vlan_bridges[vlan]
        name = f"{self.prefix}{vlan}"
        if self.ip("link", "show", "dev", name, check=False).returncode != 0:
            self.ip("link", "add", name, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        self.ip("link", "set", name, "up")
        return name

    # -- the interface --------------------------------------------------------------------------------------
    def set_access(self, port: SwitchPort, vlan: int) -> None:
        self.set_trunk(port, (), native=check_vlan(vlan))

    def set_trunk(self, port: SwitchPort, vlans: Sequence[int], native: int | None = None) -> None:
        tagged = sorted({check_vlan(v) for v in vlans} - ({native} if native else set()))
        if native is not None:
            check_vlan(native)
        dev = port.port_id
        if self.mode == FILTERING:
            self.ip("link", "set", dev, "master", self.bridge)
            self._clear(dev)
            for vid in tagged:
                self._run("bridge", "vlan", "add", "dev", dev, "vid", str(vid))
            if native is not None:
                self._run("bridge", "vlan", "add", "dev", dev, "vid", str(native), "pvid", "untagged")
            self.ip("link", "set", dev, "up")
            return
        if tagged:
            raise self.fail(
                port,
                f"carry VLAN {', '.join(map(str, tagged))} tagged",
                "this bridge has no VLAN filtering (per-VLAN bridges carry one untagged VLAN per port)",
            )
        if native is None:
            self.isolate(port)
            return
        self.ip("link", "set", dev, "master", self._segment(native), "up")

    def isolate(self, port: SwitchPort) -> None:
        if self.mode == FILTERING:
            self._clear(port.port_id)
        else:
            self.ip("link", "set", port.port_id, "nomaster")
