"""Short synchronous node actions, each under the node lock as Ironic's conductor takes it:

1. console state (``GET/PUT /v1/nodes/{node}/states/console``, API 1.1): the console interface validates first
   (``no-console`` answers Ironic's 400 "Driver … does not support console"); asking for the state the node is
   already in changes nothing; otherwise the interface starts or stops the console and ``console_enabled``
   follows. The serial-over-LAN console itself is issue 15: here only the interfaces that exist (``fake``).
2. inject NMI (``PUT /v1/nodes/{node}/management/inject_nmi``, API 1.29): the management interface validates,
   then sends the interrupt (IPMI chassis control "pulse diagnostic interrupt", Redfish ``ResetType.Nmi``).
3. indicators (``/v1/nodes/{node}/management/indicators``, API 1.63): the management interface lists its
   indicators per component and reads one (without the lock, as Ironic's shared task) or sets one (under it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor.intake import _conductor, _view
from ironworks.conductor.task import Task, acquire
from ironworks.db.repos.base import Record

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)


def _interface(task: Task, kind: str) -> Any:
    impl = task.driver.get(kind)
    if impl is None:
        raise errors.InvalidParameterValue(
            f"Driver {task.node.get('driver')} does not support {kind} (disabled or not implemented)."
        )
    impl.validate(task)  # the no-* implementations raise Ironic's UnsupportedDriverExtension message here
    return impl


def console_information(svc: Services, node: Record) -> dict[str, Any]:
    """``{"console_enabled": …, "console_info": …}``: info only while enabled (Ironic's NodeConsoleNotEnabled)."""
    if not node["console_enabled"]:
        return {"console_enabled": False, "console_info": None}
    view = _view(svc, node, "getting console information")
    return {"console_enabled": True, "console_info": _interface(view, "console").get_console(view)}


def set_console_mode(svc: Services, node: Record, enabled: bool) -> None:
    with acquire(_conductor(svc).ctx, node["uuid"], "setting console mode") as task:
        impl = _interface(task, "console")
        if bool(task.node["console_enabled"]) == enabled:
            LOG.info(
                "node %s: no console action, the console is already %s", task.uuid, "enabled" if enabled else "disabled"
            )
            return
        if enabled:
            impl.start_console(task)
        else:
            impl.stop_console(task)
        task.update(console_enabled=enabled, last_error=None)


def inject_nmi(svc: Services, node: Record) -> None:
    with acquire(_conductor(svc).ctx, node["uuid"], "inject nmi") as task:
        _interface(task, "management").inject_nmi(task)
        LOG.info("node %s: NMI injected", task.uuid)


def supported_indicators(svc: Services, node: Record) -> dict[str, dict[str, dict[str, Any]]]:
    view = _view(svc, node, "getting supported indicators")
    result: dict[str, dict[str, dict[str, Any]]] = _interface(view, "management").get_supported_indicators(view)
    return result


def indicator_state(svc: Services, node: Record, component: str, indicator: str) -> str:
    view = _view(svc, node, "getting indicator state")
    return str(_interface(view, "management").get_indicator_state(view, component, indicator))


def set_indicator_state(svc: Services, node: Record, component: str, indicator: str, state: str) -> None:
    with acquire(_conductor(svc).ctx, node["uuid"], "setting indicator state") as task:
        _interface(task, "management").set_indicator_state(task, component, indicator, state)
        LOG.info("node %s: indicator %s@%s set to %s", task.uuid, indicator, component, state)
