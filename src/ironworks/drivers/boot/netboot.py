"""The ``ipxe`` and ``pxe`` boot interfaces: steer a node's next boot through the conductor's netboot.

Both drive :class:`ironworks.netboot.service.NetbootService` (dnsmasq + file server, started by the composition
root when ``netboot_interface`` is set) for every port of the node with PXE enabled:

* ``prepare_ramdisk`` (deploy, clean, inspect, rescue): a dnsmasq host file per MAC (tagged, so unknown MACs
  get nothing) and a per-MAC iPXE script that loads the deploy kernel and ramdisk with retry and back-off;
  the kernel command line carries ``ironworks.api_url=`` for the agent. Then the boot device is set to PXE
  (one-time) through the management interface. A node on a served provisioning/cleaning/rescue network
  (``networking/dhcp.py`` ``node_network``) gets that network's URLs, host file tag and agent API URL.
* ``clean_up_ramdisk`` / ``clean_up_instance``: host files tombstoned, scripts and per-node files removed.
* ``prepare_instance``: the ramdisk entries go, the boot device becomes the disk (persistent; under UEFI the
  netboot ``exit 1`` fallback reaches the disk only after minutes, see docs/netboot.md) and each MAC gets a
  local-boot script in case the firmware netboots anyway.

The two differ only in the firmware they expect: ``ipxe`` machines run iPXE already (QEMU's NIC ROMs, many
NICs); ``pxe`` machines have a plain PXE client, which dnsmasq hands ``undionly.kpxe``/``snponly.efi`` over TFTP
to chainload the same iPXE script. One dnsmasq configuration serves both, so one class implements both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select

from ironworks import errors
from ironworks.db.models import Port
from ironworks.drivers import base
from ironworks.drivers.base import TaskView
from ironworks.images import local
from ironworks.networking import dhcp

if TYPE_CHECKING:
    from ironworks.db.engine import Database
    from ironworks.netboot.service import NetbootService

PORTS = cast(Table, Port.__table__)


class NetbootBoot(base.BootInterface):
    name = "ipxe"
    properties = {
        "deploy_kernel": "URL or conductor-local path of the deploy ramdisk's kernel. Required unless set in "
        "settings (deploy_kernel).",
        "deploy_ramdisk": "URL or conductor-local path of the deploy ramdisk's initramfs. Required unless set in "
        "settings (deploy_ramdisk).",
        "kernel_append_params": "Extra kernel parameters for the deploy ramdisk, space separated. Optional.",
    }

    def __init__(self, db: Database | None = None, netboot: NetbootService | None = None) -> None:
        self._db = db
        self._netboot = netboot

    @property
    def netboot(self) -> NetbootService:
        if self._netboot is None:
            raise errors.InvalidParameterValue(
                f"The {self.name} boot interface needs netboot in this conductor: set netboot_interface and "
                f"netboot_address."
            )
        return self._netboot

    def validate(self, task: TaskView) -> None:
        self.netboot  # noqa: B018 - raises when netboot is not configured
        params = task.node["driver_info"].get("kernel_append_params", "")
        if not isinstance(params, str):
            raise errors.InvalidParameterValue("driver_info.kernel_append_params must be a string")
        self._ramdisk_refs(task, required=False)  # a local path only from local_image_dirs (images/local.py)

    def macs(self, task: TaskView) -> list[str]:
        """The node's port MACs that may netboot (``pxe_enabled``), oldest port first."""
        if self._db is None:
            raise errors.DriverError(reason="the boot interface has no database in this process")
        with self._db.read() as session:
            rows = (
                session.execute(
                    select(PORTS.c.address)
                    .where(PORTS.c.node_id == task.node["id"], PORTS.c.pxe_enabled.is_(True))
                    .order_by(PORTS.c.id)
                )
                .scalars()
                .all()
            )
        return [str(mac) for mac in rows]

    def _ramdisk_refs(self, task: TaskView, required: bool = True) -> tuple[str, str]:
        """The deploy kernel and ramdisk: URLs, or local paths under ``local_image_dirs`` (else 400)."""
        info = task.node["driver_info"]
        refs = []
        for key in local.IMAGE_KEYS:
            ref = info.get(key) or getattr(task.settings, key, "")
            refs.append(local.check_image_ref(ref, task.settings, key) if ref else "")
        kernel, ramdisk = refs
        if required and (not kernel or not ramdisk):
            raise errors.MissingParameterValue(
                "deploy_kernel and deploy_ramdisk are required (driver_info or settings) to boot the ramdisk."
            )
        return kernel, ramdisk

    def prepare_ramdisk(self, task: TaskView, params: dict[str, Any]) -> None:
        kernel, ramdisk = self._ramdisk_refs(task)
        extra = tuple(str(task.node["driver_info"].get("kernel_append_params") or "").split())
        extra += tuple(str(p) for p in params.get("kernel_params", ()))
        on = dhcp.node_network(self._db, task.node, task.settings) if self._db is not None else None
        self.netboot.boot_ramdisk(
            task.node["uuid"],
            self.macs(task),
            kernel,
            ramdisk,
            extra,
            network=on.name if on else None,
            api_url=on.api_url if on else None,
        )
        task.driver.management.set_boot_device(task, "pxe", persistent=False)

    def clean_up_ramdisk(self, task: TaskView) -> None:
        if self._netboot is not None:
            self._netboot.forget(task.node["uuid"], self.macs(task))

    def prepare_instance(self, task: TaskView) -> None:
        macs = self.macs(task)
        self.netboot.forget(task.node["uuid"], macs)
        self.netboot.boot_local(task.node["uuid"], macs)
        task.driver.management.set_boot_device(task, "disk", persistent=True)

    def clean_up_instance(self, task: TaskView) -> None:
        if self._netboot is not None:
            self._netboot.forget(task.node["uuid"], self.macs(task))


class IPXEBoot(NetbootBoot):
    name = "ipxe"


class PXEBoot(NetbootBoot):
    name = "pxe"


def install(registry: Any, db: Database, netboot: NetbootService | None) -> None:
    """Register both interfaces bound to this process's database and netboot (called by the composition root)."""
    for cls in (IPXEBoot, PXEBoot):
        registry.register(cls(db, netboot))
