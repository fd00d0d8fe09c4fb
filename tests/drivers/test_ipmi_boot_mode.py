"""``PUT /v1/nodes/{node}/states/boot_mode`` (API 1.76) on an ``ipmi`` node against the emulated BMC: the boot
flags' EFI bit changes (seen by Debian's ipmitool), the boot device and persistence are kept, and the node's
``boot_mode`` follows; secure boot is Ironic's unsupported extension (in ``last_error``), the BMC untouched."""

from __future__ import annotations

import httpx

from ironworks.lab.bmc.process import BMCLab
from tests.conductor.helpers import settle
from tests.drivers.conftest import HEALTHY
from tests.drivers.test_ipmi_driver import ipmitool
from tests.drivers.test_ipmi_through_api import enroll_ipmi, manage


def test_boot_mode_through_the_api(api: httpx.Client, ipmi_lab: BMCLab) -> None:
    bmc = ipmi_lab.ipmi[HEALTHY]
    node = enroll_ipmi(api, bmc)
    manage(api, node)
    r = api.put(f"/v1/nodes/{node}/management/boot_device", json={"boot_device": "pxe", "persistent": True})
    assert r.status_code == 204, r.text

    for mode, efi in (("bios", False), ("uefi", True)):
        r = api.put(f"/v1/nodes/{node}/states/boot_mode", json={"target": mode})
        assert r.status_code == 202, r.text
        shown = settle(api, node, timeout=60)
        assert (shown["boot_mode"], shown["last_error"]) == (mode, None)
        flags = ipmitool(bmc, "chassis", "bootparam", "get", "5")
        assert ("BIOS EFI boot" in flags) is efi, flags
        assert "Force PXE" in flags and "Options apply to all future boots" in flags, flags

    r = api.put(f"/v1/nodes/{node}/states/secure_boot", json={"target": True})
    assert r.status_code == 202, r.text
    shown = settle(api, node, timeout=60)
    assert shown["secure_boot"] is None and "does not support set_secure_boot_state" in shown["last_error"]
    assert "BIOS EFI boot" in ipmitool(bmc, "chassis", "bootparam", "get", "5")
