"""The agent-driven interfaces: ``direct`` deploy, ``agent`` raid, ``agent`` inspect.

Each operation that needs the ramdisk either boots it (``boot_ramdisk``: forget the old token and commands,
let the boot interface prepare the ramdisk, boot device pxe, reboot) or queues agent commands through the
``AgentChannel``; both return ``WAIT`` and the node parks in its wait state. The agent's heartbeat resumes the
flow (``resume.py``), which first applies the awaited commands' results.

Direct deploy steps (Ironic's names and priorities): ``deploy`` (100, boot the ramdisk), ``write_image`` (80:
``write_image``, ``write_configdrive`` if a config drive was given, ``install_bootloader`` on a software RAID
root), ``prepare_instance_boot`` (60, boot device disk), ``tear_down_agent`` (40, power off, or the agent's
``kexec`` into the deployed kernel); the deploy flow then prepares the instance boot and powers the node on.
With fast track (``fasttrack.py``) the ramdisk is not booted again while its agent is alive.
"""

from __future__ import annotations

from typing import Any

from ironworks import errors, states
from ironworks.configdrive import builder as configdrive
from ironworks.drivers import base
from ironworks.drivers.agent import fasttrack, trust
from ironworks.drivers.agent.channel import AgentChannel
from ironworks.drivers.base import WAIT, TaskView, clean_step, deploy_step, service_step
from ironworks.images import sources


def _record_power(task: TaskView, state: str) -> None:
    write = getattr(task, "write", None)  # the conductor's Task records power states; a bare view cannot
    if write is not None:
        write(power_state=state)


def boot_ramdisk(task: TaskView, channel: AgentChannel) -> str:
    """Reboot the node into the deploy ramdisk; the agent will look the node up and call back.

    A new boot: old token and commands dropped, a new per-boot secret (``trust.new_boot``) for the kernel command
    line of the node's boot script, so only that boot's agent (or its DHCP-leased address) can claim a token.
    """
    channel.forget(task)
    secret = trust.new_boot(task)  # only its hash is stored; the ramdisk gets it on its kernel command line
    boot = task.driver.get("boot")
    if isinstance(boot, base.BootInterface):
        boot.prepare_ramdisk(task, {"kernel_params": trust.kernel_params(secret)})
    task.driver.management.set_boot_device(task, "pxe", persistent=False)
    _record_power(task, task.driver.power.reboot(task))
    return WAIT


def power_off(task: TaskView) -> None:
    _record_power(task, task.driver.power.set_power_state(task, states.POWER_OFF))


def software_raid_root(node: dict[str, Any]) -> dict[str, Any] | None:
    for disk in (node.get("raid_config") or {}).get("logical_disks", []):
        if disk.get("controller") == "software" and disk.get("is_root_volume", True):
            return dict(disk)
    return None


def image_command(instance_info: dict[str, Any]) -> dict[str, Any]:
    """``write_image`` params from Ironic's instance_info keys."""
    url = instance_info.get("image_source")
    if not url:
        raise errors.MissingParameterValue("instance_info.image_source is required to deploy.")
    algo = instance_info.get("image_os_hash_algo")
    value = instance_info.get("image_os_hash_value")
    checksum = f"{algo}:{value}" if algo and value else instance_info.get("image_checksum")
    if not checksum:
        raise errors.MissingParameterValue(
            "instance_info.image_checksum (or image_os_hash_algo + image_os_hash_value) is required to deploy."
        )
    sources.check_instance_info(instance_info)  # what the agent would refuse (file://, md5) is a 400 now
    params: dict[str, Any] = {"url": url, "checksum": checksum}
    if instance_info.get("image_disk_format") in ("raw", "qcow2"):
        params["disk_format"] = instance_info["image_disk_format"]
    return params


class _AgentBased:
    def __init__(self, channel: AgentChannel | None = None) -> None:
        self._channel = channel

    @property
    def channel(self) -> AgentChannel:
        if self._channel is None:
            raise errors.DriverError(reason="the agent command channel is not configured in this process")
        return self._channel


class DirectDeploy(_AgentBased, base.DeployInterface):
    name = "direct"

    properties = {
        "deploy_kernel": "URL or path of the deploy ramdisk's kernel. Required unless set in settings.",
        "deploy_ramdisk": "URL or path of the deploy ramdisk. Required unless set in settings.",
    }

    def validate(self, task: TaskView) -> None:
        """The ramdisk (driver_info or settings) and the image to write (instance_info); no I/O."""
        missing = [
            key
            for key in ("deploy_kernel", "deploy_ramdisk")
            if not task.node["driver_info"].get(key) and not getattr(task.settings, key, None)
        ]
        if missing:
            raise errors.MissingParameterValue(
                f"The following driver_info fields are missing for the direct deploy interface: {', '.join(missing)}"
            )
        image_command(task.node.get("instance_info") or {})
        fasttrack.validate(task.node, task.settings)

    @deploy_step(priority=100)
    def deploy(self, task: TaskView) -> str | None:
        """Boot the deploy ramdisk and wait for its agent (fast track: go on with the agent still running)."""
        if fasttrack.usable(task):
            return None
        return boot_ramdisk(task, self.channel)

    @deploy_step(priority=80)
    def write_image(self, task: TaskView) -> str | None:
        """Stream the image to the root disk, then the config drive and (software RAID) the bootloader."""
        info = task.node.get("instance_info") or {}
        commands: list[tuple[str, dict[str, Any]]] = [("write_image", image_command(info))]
        if info.get("configdrive"):
            # built here (Ironic's conductor does the same), so the ramdisk needs no ISO tools
            drive = configdrive.from_request(
                info["configdrive"], node_uuid=task.node["uuid"], node_name=task.node.get("name")
            )
            commands.append(("write_configdrive", {"configdrive": drive.encoded}))
        if software_raid_root(task.node) is not None:
            commands.append(("install_bootloader", {}))
        return self.channel.send(task, commands)

    @deploy_step(priority=60)
    def prepare_instance_boot(self, task: TaskView) -> None:
        """Boot the instance from its disk from now on."""
        task.driver.management.set_boot_device(task, "disk", persistent=True)

    @deploy_step(priority=40)
    def tear_down_agent(self, task: TaskView) -> str | None:
        """Stop the ramdisk; the flow powers the node on into the instance (kexec: the agent jumps into it)."""
        if fasttrack.kexec_requested(task.node, task.settings):
            return self.channel.send(task, [("kexec", fasttrack.kexec_params(task.node))])
        fasttrack.forget_agent(task)
        power_off(task)
        return None

    def tear_down(self, task: TaskView) -> None:
        power_off(task)

    def prepare_cleaning(self, task: TaskView) -> str | None:
        if fasttrack.usable(task):
            return None
        return boot_ramdisk(task, self.channel)

    def tear_down_cleaning(self, task: TaskView) -> None:
        if fasttrack.usable(task):
            return  # fast track: the agent stays up, the node stays on, for the deploy that follows
        power_off(task)
        boot = task.driver.get("boot")
        if isinstance(boot, base.BootInterface):
            boot.clean_up_ramdisk(task)

    def prepare_service(self, task: TaskView) -> str | None:
        """Servicing steps that run in the ramdisk (API 1.87) boot it, as cleaning does."""
        return self.prepare_cleaning(task)

    def tear_down_service(self, task: TaskView) -> None:
        """The ramdisk goes away and the instance boots from its disk again."""
        power_off(task)
        boot = task.driver.get("boot")
        if isinstance(boot, base.BootInterface):
            boot.clean_up_ramdisk(task)
            boot.prepare_instance(task)
        task.driver.management.set_boot_device(task, "disk", persistent=True)
        _record_power(task, task.driver.power.set_power_state(task, states.POWER_ON))

    @clean_step(priority=99, abortable=True)
    def erase_devices_metadata(self, task: TaskView) -> str | None:
        """Remove partition tables, filesystem/RAID/LVM signatures and md superblocks from every local disk."""
        return self.channel.send(task, [("erase_devices_metadata", {})])

    @clean_step(
        priority=0,
        abortable=True,
        argsinfo={
            "method": {"description": "auto (secure erase if supported, else zero), secure or zero", "required": False},
        },
    )
    def erase_devices(self, task: TaskView, method: str = "auto") -> str | None:
        """Overwrite every local disk (manual cleaning)."""
        if method not in ("auto", "secure", "zero"):
            raise errors.InvalidParameterValue(f"method must be auto, secure or zero, not {method!r}")
        return self.channel.send(task, [("erase_devices", {"method": method})])


class AgentRaid(_AgentBased, base.RaidInterface):
    name = "agent"

    @clean_step(
        priority=0,
        argsinfo={
            "create_root_volume": {"description": "create the root volume (default true)", "required": False},
            "create_nonroot_volumes": {"description": "create the other volumes (default true)", "required": False},
        },
    )
    def create_configuration(
        self, task: TaskView, create_root_volume: bool = True, create_nonroot_volumes: bool = True
    ) -> str | None:
        """Build the node's ``target_raid_config`` (software RAID) in the ramdisk."""
        target = task.node.get("target_raid_config") or {}
        self.validate_raid_config(task, target)
        disks = [
            d
            for d in target.get("logical_disks", [])
            if (d.get("is_root_volume") and create_root_volume)
            or (not d.get("is_root_volume") and create_nonroot_volumes)
        ]
        if not disks:
            raise errors.InvalidParameterValue(
                f"Node {task.node['uuid']} has no target_raid_config logical disks to create."
            )
        return self.channel.send(
            task, [("create_configuration", {"target_raid_config": {**target, "logical_disks": disks}})]
        )

    @clean_step(priority=0)
    def delete_configuration(self, task: TaskView) -> str | None:
        """Stop and remove every software RAID array and its members' superblocks."""
        return self.channel.send(task, [("delete_configuration", {})])

    _APPLY_ARGS = {
        "raid_config": {"description": "The RAID configuration to apply.", "required": True},
        "delete_existing": {"description": "Setting this to 'True' indicates to delete existing RAID configuration "
                                           "prior to creating the new configuration. Default value is 'True'.",
                            "required": False},
    }

    @service_step(priority=0, argsinfo=_APPLY_ARGS)
    @deploy_step(priority=0, argsinfo=_APPLY_ARGS)
    def apply_configuration(self, task: TaskView, raid_config: Any, delete_existing: bool = True) -> str | None:
        """Ironic's agent RAID ``apply_configuration`` (a deploy and service step): build ``raid_config`` in the
        ramdisk, after removing the existing arrays unless ``delete_existing`` is false."""
        self.validate_raid_config(task, raid_config)
        commands: list[tuple[str, dict[str, Any]]] = [("delete_configuration", {})] if delete_existing else []
        commands.append(("create_configuration", {"target_raid_config": raid_config}))
        return self.channel.send(task, commands)


class AgentInspect(_AgentBased, base.InspectInterface):
    name = "agent"

    def inspect_hardware(self, task: TaskView) -> str | None:
        """Boot the ramdisk; its heartbeat queues ``get_inventory`` and the result fills the properties."""
        if fasttrack.usable(task):
            return self.channel.send(task, [("get_inventory", {})])
        return boot_ramdisk(task, self.channel)
