"""Servicing (API 1.87): ``active`` (or ``service hold`` / ``service failed``) → ``servicing`` → ``active``.

1. The API checked the user's ``service_steps`` (or a runbook's steps) against the node's service steps and
   moved the node to ``servicing`` (target ``active``) with the intent; nothing changed if they were refused.
2. The power interface validates (and the network interface, unless ``disable_ramdisk``).
3. The plan is the user's steps in the user's order. When a step needs the ramdisk (and ``disable_ramdisk`` was
   not asked), the deploy interface prepares servicing; if it must boot the ramdisk the node parks in
   ``service wait`` and the agent's call back continues with ``resume`` (drivers/agent/resume.py).
4. Each step runs in turn, shown in ``service_step``; a step may ask to wait (``service wait``) or be a ``hold``
   step (``service hold``, until ``unhold``).
5. Servicing is torn down (the instance boots again), ``service_step`` cleared, ``done`` → ``active``.
   A failing step: ``service failed`` in maintenance with fault ``service failure``, as Ironic's
   ``servicing_error_handler``. ``abort`` (from ``service wait`` / ``service hold`` / ``service failed``)
   tears servicing down and returns the node to ``active`` with ``last_error`` saying so (``abort``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor import flows
from ironworks.conductor.flows import steprunner
from ironworks.drivers.base import WAIT

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

LOG = logging.getLogger(__name__)

#: driver_internal_info key: servicing runs without booting the ramdisk (Ironic's key)
NO_RAMDISK = "service_disable_ramdisk"
SERVICE_FAILURE = "service failure"


def run(task: Task, args: dict[str, Any]) -> None:
    try:
        _start(task, args)
    except Exception as exc:  # noqa: BLE001 - every failure ends in service failed, as Ironic's handler
        fail(task, f"Cannot service node {task.uuid}: {_text(exc)}")


def _text(exc: BaseException) -> str:
    return exc.message if isinstance(exc, errors.IronworksError) else f"{type(exc).__name__}: {exc}"


def _start(task: Task, args: dict[str, Any]) -> None:
    plan: list[dict[str, Any]] = args["service_steps"]
    no_ramdisk = bool(args.get("disable_ramdisk")) or not any(s.get("requires_ramdisk") for s in plan)
    flows.validate(task, "power", *(() if no_ramdisk else ("network",)))
    steprunner.store_plan(task, "service", [{k: v for k, v in s.items() if k != "requires_ramdisk"} for s in plan])
    task.node["driver_internal_info"][NO_RAMDISK] = no_ramdisk
    if not no_ramdisk and task.driver.deploy.prepare_service(task) == WAIT:
        task.process_event(
            "wait",
            target=states.ACTIVE,
            release=True,
            service_step={},
            driver_internal_info=task.node["driver_internal_info"],
        )
        return
    resume(task)


def resume(task: Task) -> None:
    """Run the remaining service steps (also the continuation after ``service wait`` / ``unhold``)."""
    step = task.node.get("service_step") or {}
    if step.get("abort_after"):  # abort was asked while a step that cannot be aborted ran
        task.process_event("fail", target=states.ACTIVE)
        abort(task)
        return
    try:
        if not steprunner.run(task, "service"):
            return
        if not (task.node["driver_internal_info"] or {}).get(NO_RAMDISK):
            task.driver.deploy.tear_down_service(task)
    except Exception as exc:  # noqa: BLE001
        failed = task.node.get("service_step") or {}
        name = f"{failed.get('interface')}.{failed.get('step')}" if failed else None
        fail(task, f"Node {task.uuid} failed step {name}: {_text(exc)}", in_step=bool(failed))
        return
    task.process_event("done", release=True, service_step={}, driver_internal_info=cleared_info(task), last_error=None)
    LOG.info("Node %s service complete.", task.uuid)


def cleared_info(task: Task) -> dict[str, Any]:
    info = steprunner.cleared_info(task, "service")
    info.pop(NO_RAMDISK, None)
    return info


def fail(task: Task, message: str, in_step: bool = False) -> None:
    """Ironic's ``servicing_error_handler``: ``service failed``; maintenance with fault when a step failed."""
    if not task.held:
        return
    if not (task.node["driver_internal_info"] or {}).get(NO_RAMDISK, True):
        try:
            task.driver.deploy.tear_down_service(task)
        except Exception as exc:  # noqa: BLE001 - the first failure is what the operator must see
            LOG.exception("Node %s: failed to tear down servicing", task.uuid)
            message = f"{message}. Also failed to tear down servicing: {_text(exc)}"
    extra: dict[str, Any] = {}
    if in_step:
        extra.update(maintenance=True, fault=SERVICE_FAILURE)
        if not task.node.get("maintenance_reason"):
            extra["maintenance_reason"] = message
    task.fail(message, service_step={}, driver_internal_info=cleared_info(task), **extra)


def last_error(step: dict[str, Any] | None) -> str:
    """Ironic's ``servicing.get_last_error``."""
    text = "By request, the service operation was aborted"
    if step:
        text += f' during or after the completion of step "{step.get("interface")}.{step.get("step")}"'
    return text


def abort(task: Task) -> None:
    """From ``service failed`` (the caller moved the node there): tear servicing down, ``abort`` → ``active``."""
    message = last_error(task.node.get("service_step"))
    if not (task.node["driver_internal_info"] or {}).get(NO_RAMDISK, True):
        task.driver.deploy.tear_down_service(task)
    task.process_event(
        "abort", target=None, release=True, service_step={}, last_error=message, driver_internal_info=cleared_info(task)
    )
