"""sushy-emulator whose fake systems have a BIOS, for the ``redfish`` BIOS interface tests.

sushy-tools' fake systems driver has no BIOS (``get_bios`` is "Not implemented", so a system has no ``Bios``
link); only its libvirt driver has one, and libvirt is not in this environment. This wrapper runs the real
``sushy-emulator`` application (same arguments) with the fake driver extended by the three BIOS methods of
sushy-tools' driver API, stored per system in the fake driver's own persistent state, starting from the libvirt
driver's default attributes. Everything else — routes, templates, the attribute registry, authentication — is
sushy-emulator's own. Run as a script: ``python bios_emulator.py --config … --fake …``.
"""

from __future__ import annotations

import sys
from typing import Any

from sushy_tools.emulator import main as emulator
from sushy_tools.emulator.resources.systems import fakedriver
from sushy_tools.emulator.resources.systems.libvirtdriver import LibvirtDriver

DEFAULTS: dict[str, Any] = dict(LibvirtDriver.DEFAULT_BIOS_ATTRIBUTES)


class BiosFakeDriver(fakedriver.FakeDriver):
    def get_bios(self, identity: str) -> dict[str, Any]:
        return dict(self._get(identity).get("bios") or DEFAULTS)

    def set_bios(self, identity: str, attributes: dict[str, Any]) -> None:
        self._update(identity, bios={**self.get_bios(identity), **(attributes or {})})

    def reset_bios(self, identity: str) -> None:
        self._update(identity, bios=dict(DEFAULTS))


if __name__ == "__main__":
    fakedriver.FakeDriver = BiosFakeDriver  # type: ignore[misc] - the emulator looks the class up at start
    sys.exit(emulator.main())
