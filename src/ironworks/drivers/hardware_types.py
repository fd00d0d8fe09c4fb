"""Hardware types as data: for each interface kind, the implementations a type supports, default first.

Published as entry points (group ``ironworks.hardware_types``) so a plug-in distribution can add its own.

Only implementations with code behind them are offered: a name here that no class implements would be accepted
at enrollment, pass ``validate`` and fail in the conductor. Not offered until their code exists: the ``ramdisk``
deploy and the ``agent`` rescue (the stock-agent issue), ``ipmitool-sol`` console (the console issue), ``iscsi``
storage. The real types' rescue default is therefore Ironic's ``no-rescue``.
"""

from __future__ import annotations

import dataclasses

INTERFACE_KINDS: tuple[str, ...] = (
    "bios", "boot", "console", "deploy", "firmware", "inspect", "management", "network", "power", "raid",
    "rescue", "storage", "vendor",
)


@dataclasses.dataclass(frozen=True)
class HardwareType:
    name: str
    #: interface kind -> supported implementation names; the first one is the default
    interfaces: dict[str, tuple[str, ...]]

    def supported(self, kind: str) -> tuple[str, ...]:
        return self.interfaces[kind]

    def default(self, kind: str) -> str:
        return self.interfaces[kind][0]


FAKE_HARDWARE = HardwareType(
    name="fake-hardware",
    interfaces={
        "bios": ("fake", "no-bios"),
        "boot": ("fake",),
        "console": ("fake", "no-console"),
        "deploy": ("fake", "direct"),
        "firmware": ("fake", "no-firmware"),
        "inspect": ("fake", "no-inspect", "agent"),
        "management": ("fake",),
        "network": ("noop", "flat", "vlan"),
        "power": ("fake",),
        "raid": ("fake", "no-raid", "agent"),
        "rescue": ("fake", "no-rescue"),
        "storage": ("noop", "fake"),
        "vendor": ("fake", "no-vendor"),
    },
)

_COMMON_REAL = {
    "bios": ("no-bios",),
    "boot": ("ipxe", "pxe"),
    "deploy": ("direct",),
    "firmware": ("no-firmware",),
    "inspect": ("agent", "no-inspect"),
    "network": ("flat", "noop", "vlan"),
    "raid": ("agent", "no-raid"),
    "rescue": ("no-rescue",),
    "storage": ("noop",),
    "vendor": ("no-vendor",),
}

IPMI = HardwareType(
    name="ipmi",
    interfaces={
        **_COMMON_REAL,
        "console": ("no-console",),
        "management": ("ipmitool",),
        "power": ("ipmitool",),
        "vendor": ("ipmitool", "no-vendor"),  # Ironic's default: send_raw, bmc_reset (drivers/ipmi/vendor.py)
    },
)

REDFISH = HardwareType(
    name="redfish",
    interfaces={
        **_COMMON_REAL,
        "bios": ("no-bios", "redfish"),
        "console": ("no-console",),
        "management": ("redfish",),
        "power": ("redfish",),
        "vendor": ("redfish", "no-vendor"),  # Ironic's default: eject_vmedia (drivers/redfish/vendor.py)
    },
)


#: driver_info keys each implementation reads: name -> (required keys, {key: description})
DRIVER_INFO: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "ipmitool": (
        ("ipmi_address",),
        {
            "ipmi_address": "IP address or hostname of the BMC. Required.",
            "ipmi_port": "UDP port of the BMC. Optional, default 623.",
            "ipmi_username": "BMC user name. Optional.",
            "ipmi_password": "BMC password. Optional.",
            "ipmi_priv_level": "Privilege level: ADMINISTRATOR (default), OPERATOR, USER, CALLBACK.",
            "ipmi_cipher_suite": "IPMI cipher suite to use. Optional.",
            "ipmi_bridging": "Bridging type: no (default), single, dual.",
            "ipmi_target_address": "Bridging target address. Optional.",
            "ipmi_target_channel": "Bridging target channel. Optional.",
            "ipmi_transit_address": "Bridging transit address (dual bridging). Optional.",
            "ipmi_transit_channel": "Bridging transit channel (dual bridging). Optional.",
            "ipmi_local_address": "Local IPMB address for bridged requests. Optional.",
            "ipmi_force_boot_device": "Set the boot device before every power on. Optional, default false.",
        },
    ),
    "redfish": (
        ("redfish_address",),
        {
            "redfish_address": "URL of the Redfish service, e.g. https://10.0.0.5. Required.",
            "redfish_system_id": "Path of the ComputerSystem resource; optional when the BMC has one system.",
            "redfish_username": "User name. Optional.",
            "redfish_password": "Password. Optional.",
            "redfish_verify_ca": "true, false or a CA bundle path. Optional, default true.",
            "redfish_auth_type": "basic, session or auto (default).",
        },
    ),
    "direct": (
        ("deploy_kernel", "deploy_ramdisk"),
        {
            "deploy_kernel": "URL or path of the deploy ramdisk's kernel. Required unless set in settings.",
            "deploy_ramdisk": "URL or path of the deploy ramdisk. Required unless set in settings.",
        },
    ),
}
