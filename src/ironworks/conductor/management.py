"""Management requests that run on a conductor worker under the node lock, as Ironic's conductor runs them.

1. boot mode / secure boot (``PUT /v1/nodes/{node}/states/{boot_mode,secure_boot}``, API 1.76): the API checked
   the target and the provision state; here the management interface is validated (400), the node locked (409
   when another holds it), the previous ``last_error`` cleared and an intent recorded (without the vmedia image
   URL), and the API answers 202. The worker reads the current
   value (a failure to read is only logged), does nothing when it already matches, else asks the interface; on
   success the node's ``boot_mode`` / ``secure_boot`` show the new value, on failure ``last_error`` says why in
   Ironic's words (an interface without the feature: Ironic's "Driver … does not support …").
2. virtual media (``/v1/nodes/{node}/vmedia``, API 1.89 / 1.93): attach and detach run the same way (answered
   204); a failure goes to ``last_error`` and the node history. Reading the devices takes no lock (Ironic's
   shared task); an interface without virtual media answers 400.

Health (API 1.109) is read by power sync: conductor/health.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor.intake import _conductor, _view
from ironworks.conductor.task import Task, begin
from ironworks.db.repos import history
from ironworks.db.repos.base import Record
from ironworks.logs import mask_url_credentials, node_context

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

Work = Callable[[Task], None]


def _management(task: Task) -> Any:
    impl = task.driver.get("management")
    if impl is None:
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support management (disabled or not implemented)."
        )
    return impl


def _spawn(
    svc: Services, node: Record, purpose: str, action: str, args: dict[str, Any], work: Work, request_id: str
) -> None:
    """Validate the management interface, then lock, clear ``last_error``, record the intent and hand the work
    to a worker (503 when none is free); the worker releases the lock whatever happens."""
    view = _view(svc, node, purpose)
    _management(view).validate(view)
    conductor = _conductor(svc)
    slot = conductor.reserve_worker()
    try:
        task = begin(
            conductor.ctx,
            node["uuid"],
            event=None,
            purpose=purpose,
            action=action,
            args=args,
            request_id=request_id,
            seen=node,
            last_error=None,
        )
    except BaseException:
        slot.cancel()
        raise
    task.handed_off = True
    slot.submit(_run, task, action, work)


def _run(task: Task, action: str, work: Work) -> None:
    token = node_context.set({"node": task.uuid, "op": action})
    try:
        work(task)
    except Exception:  # noqa: BLE001 - the work records its own failures; this only guards the lock
        LOG.exception("Node %s: %s crashed", task.uuid, action)
    finally:
        if task.held:
            task.release()
        node_context.reset(token)


def _fail(task: Task, message: str) -> None:
    LOG.error("%s", message)
    task.write(last_error=message)
    task.record(message, "management", history.ERROR)


# --- boot mode and secure boot (API 1.76) ------------------------------------------------------------------------
def _converge(task: Task, field: str, label: str, desired: Any, read: Callable[[Task], Any],
              apply: Callable[[Task, Any], None], failure: Callable[[str], str]) -> None:
    """Read the BMC's value; if it differs from ``desired``, set it; record the result in ``field``."""
    try:
        current = read(task)
    except Exception as exc:  # noqa: BLE001 - as Ironic: unknown current value, try to set it anyway
        LOG.warning("Node %s: cannot read the %s before changing it: %s", task.uuid, label, exc)
        current = None
    if current is not None and current == desired:
        LOG.info("Node %s: %s is already %s; no change", task.uuid, label, desired)
        if task.node[field] != desired:
            task.write(**{field: desired})
        return
    try:
        apply(task, desired)
    except Exception as exc:  # noqa: BLE001 - every failure is reported in last_error
        _fail(task, failure(_text(exc)))
        return
    LOG.info("Node %s: %s set to %s", task.uuid, label, desired)
    task.write(**{field: desired})


def set_boot_mode(svc: Services, node: Record, mode: str, request_id: str) -> None:
    def work(task: Task) -> None:
        impl = _management(task)
        _converge(task, "boot_mode", "boot mode", mode, impl.get_boot_mode, impl.set_boot_mode,
                  lambda why: f"Failed to change boot mode to '{mode}: {why}")  # sic: Ironic's quote

    _spawn(svc, node, "changing node boot mode", "boot_mode", {"target": mode}, work, request_id)


def set_secure_boot(svc: Services, node: Record, enabled: bool, request_id: str) -> None:
    def work(task: Task) -> None:
        impl = _management(task)
        _converge(task, "secure_boot", "secure boot", enabled, impl.get_secure_boot_state, impl.set_secure_boot_state,
                  lambda why: f"Failed to change secure_boot state to '{enabled}': {why}")

    _spawn(svc, node, "changing node secure boot", "secure_boot", {"target": enabled}, work, request_id)


def _text(exc: BaseException) -> str:
    return exc.message if isinstance(exc, errors.IronworksError) else f"{type(exc).__name__}: {exc}"


# --- virtual media (API 1.89, 1.93) ------------------------------------------------------------------------------
def get_virtual_media(svc: Services, node: Record) -> list[dict[str, Any]]:
    view = _view(svc, node, "get virtual media devices")
    impl = _management(view)
    impl.validate(view)
    devices: list[dict[str, Any]] = impl.get_virtual_media(view)
    for device in devices:  # an image URL may carry credentials for the BMC: never shown
        if isinstance(device.get("image"), str):
            device["image"] = mask_url_credentials(device["image"])
    return devices


def attach_virtual_media(
    svc: Services, node: Record, device_type: str, image_url: str, source: str, request_id: str
) -> None:
    def work(task: Task) -> None:
        try:
            _management(task).attach_virtual_media(task, device_type=device_type, image_url=image_url)
        except Exception as exc:  # noqa: BLE001 - reported as Ironic's run_node_action does
            _fail(task, f"Could not attach device {device_type} to node {task.uuid}: {_text(exc)}")
            return
        LOG.info("Device %s attached to node %s", device_type, task.uuid)

    # the URL is not in the intent's arguments: it may carry credentials, and intents are kept a day
    _spawn(
        svc,
        node,
        "attaching virtual media",
        "vmedia_attach",
        {"device_type": device_type, "image_download_source": source},
        work,
        request_id,
    )


def detach_virtual_media(svc: Services, node: Record, device_types: list[str] | None, request_id: str) -> None:
    def work(task: Task) -> None:
        try:
            _management(task).detach_virtual_media(task, device_types=device_types)
        except Exception as exc:  # noqa: BLE001 - reported as Ironic's run_node_action does
            _fail(task, f"Could not detach device(s) {device_types} from node {task.uuid}: {_text(exc)}")
            return
        LOG.info("Device(s) %s detached from node %s", device_types, task.uuid)

    _spawn(svc, node, "detaching virtual media", "vmedia_detach", {"device_types": device_types}, work, request_id)
