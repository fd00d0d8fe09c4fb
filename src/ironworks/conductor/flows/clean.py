"""Cleaning: automated (``provide``, and after teardown) or manual (``clean`` with user steps).

1. The node is in ``cleaning``; its target is ``available`` (automated) or ``manageable`` (manual).
2. Automated cleaning is skipped when disabled: the node's ``automated_clean`` if set, else the setting.
3. The plan is the driver's clean steps with priority > 0, highest first (automated), or the user's steps in
   the user's order (manual; validated at the API, 400 before any state change).
   The BIOS and firmware interfaces refresh the node's cached BIOS settings and firmware components first (a
   failure is only logged, as Ironic).
4. The cleaning network is plugged and the deploy interface prepares cleaning; if it must wait for the ramdisk,
   the node parks in ``clean wait`` and the agent's call back continues with ``resume``. Manual cleaning with
   ``disable_ramdisk`` (steps that need no ramdisk only, checked at the API) skips this step.
5. Each step runs in turn, shown in ``clean_step``; a step may also ask to wait.
6. Cleaning is torn down, ``clean_step`` cleared, and the node moves ``done`` → ``available`` (automated) or
   ``manage`` → ``manageable`` (manual). Any failure: ``clean failed`` with ``last_error``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor import flows, steps
from ironworks.conductor.flows import steprunner
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)


def automated_enabled(task: Task) -> bool:
    per_node = task.node.get("automated_clean")
    return bool(task.settings.automated_clean if per_node is None else per_node)


def run(task: Task, args: dict[str, Any]) -> None:
    manual = args.get("clean_steps") is not None
    if not manual and not automated_enabled(task):
        finish(task, manual=False)
        return
    flows.validate(task, "power", "network")
    cache_bios_settings(task)
    cache_firmware_components(task)
    plan = args["clean_steps"] if manual else steps.automated_clean_plan(task.driver)
    if not plan:
        finish(task, manual=False)
        return
    steprunner.store_plan(task, "clean", plan)
    if args.get("disable_ramdisk"):  # API 1.70: steps that need no ramdisk, so no cleaning network or boot
        task.node["driver_internal_info"]["cleaning_disable_ramdisk"] = True  # Ironic's key, read by finish()
        resume(task)
        return
    task.node["driver_internal_info"].pop("cleaning_disable_ramdisk", None)  # left by a failed earlier one
    task.driver.network.add_cleaning_network(task)
    if task.driver.deploy.prepare_cleaning(task) == WAIT:
        task.process_event("wait", target=task.node["target_provision_state"], release=True,
                           driver_internal_info=task.node["driver_internal_info"])
        return
    resume(task)


def cache_bios_settings(task: Task) -> None:
    """As Ironic when cleaning starts: refresh the cached BIOS settings; a failure is logged, not fatal."""
    cache = getattr(task.driver.get("bios"), "cache_bios_settings", None)
    if cache is None:
        return
    try:
        cache(task)
    except errors.IronworksError as exc:
        LOG.warning("node %s: caching BIOS settings failed: %s", task.uuid, exc)


def cache_firmware_components(task: Task) -> None:
    """As Ironic: refresh the cached firmware components (API 1.86); a failure is logged, not fatal."""
    cache = getattr(task.driver.get("firmware"), "cache_firmware_components", None)
    if cache is None:
        return
    try:
        cache(task)
    except errors.IronworksError as exc:
        LOG.warning("node %s: caching firmware components failed: %s", task.uuid, exc)


def resume(task: Task) -> None:
    """Run the remaining clean steps (also the continuation after ``clean wait``)."""
    if steprunner.run(task, "clean"):
        finish(task, manual=task.node["target_provision_state"] == states.MANAGEABLE)


def finish(task: Task, manual: bool) -> None:
    without_ramdisk = (task.node["driver_internal_info"] or {}).get("cleaning_disable_ramdisk", False)
    if not without_ramdisk:  # nothing was prepared when cleaning ran without the ramdisk
        if task.driver.get("deploy") is not None:
            task.driver.deploy.tear_down_cleaning(task)
        if task.driver.get("network") is not None:
            task.driver.network.remove_cleaning_network(task)
    info = steprunner.cleared_info(task, "clean")  # after the teardown, which may write driver_internal_info
    info.pop("cleaning_disable_ramdisk", None)
    task.process_event("manage" if manual else "done", release=True, clean_step={},
                       driver_internal_info=info, last_error=None)


def fail_target(task: Task) -> str:
    return states.MANAGEABLE if task.node["target_provision_state"] == states.MANAGEABLE else states.AVAILABLE
