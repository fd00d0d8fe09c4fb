"""Vendor passthru (API 1.1), as Ironic's conductor runs it.

Node passthru: the method is looked up on the node's vendor interface (``No handler for method X`` otherwise),
the HTTP method checked (``The method X does not support HTTP GET``), the node locked exclusively unless the
method says ``require_exclusive_lock: false``, the arguments validated, then the method runs. Ironic runs
``async`` methods in a worker after answering 202; here they run before the 202 (the fake and IPMI methods are
short), so a failure reaches the caller. Driver passthru uses the hardware type's default vendor interface.
Arguments are never logged (``send_raw`` and plug-ins may carry secrets).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor.intake import _conductor, _view
from ironworks.conductor.task import acquire
from ironworks.db.repos.base import Record
from ironworks.drivers.base import Passthru, VendorInterface

if TYPE_CHECKING:
    from collections.abc import Callable

    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)
Routes = dict[str, tuple[Passthru, "Callable[..., Any]"]]


def _routes(impl: Any, driver: bool = False) -> Routes:
    return impl.routes(driver) if isinstance(impl, VendorInterface) else {}


def _route(routes: Routes, method: str, http_method: str) -> tuple[Passthru, Callable[..., Any]]:
    if method not in routes:
        raise errors.InvalidParameterValue(f"No handler for method {method}")
    meta, func = routes[method]
    if http_method not in meta.http_methods:
        raise errors.InvalidParameterValue(f"The method {method} does not support HTTP {http_method}")
    return meta, func


def node_methods(svc: Services, node: Record) -> dict[str, Any]:
    view = _view(svc, node, "listing vendor passthru methods")
    return {name: meta.metadata() for name, (meta, _) in sorted(_routes(view.driver.get("vendor")).items())}


def _call(task: Any, method: str, http_method: str, args: dict[str, Any]) -> tuple[Passthru, Any]:
    impl = task.driver.get("vendor")
    meta, func = _route(_routes(impl), method, http_method)
    assert isinstance(impl, VendorInterface)  # only vendor interfaces have routes
    impl.validate_call(task, method, args)
    return meta, func(task, http_method, args)


def node_passthru(svc: Services, node: Record, method: str, http_method: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """``(async, return value)``: the lock is taken only for methods that need it (and after the route checks)."""
    view = _view(svc, node, "calling vendor passthru")
    meta, _ = _route(_routes(view.driver.get("vendor")), method, http_method)
    if meta.require_exclusive_lock:
        with acquire(_conductor(svc).ctx, node["uuid"], "calling vendor passthru") as task:
            meta, result = _call(task, method, http_method, args)
    else:
        meta, result = _call(view, method, http_method, args)
    LOG.info("node %s: vendor passthru %s (HTTP %s) done", node["uuid"], method, http_method)
    return meta.is_async, None if meta.is_async else result


def _driver_vendor(svc: Services, driver_name: str) -> Any:
    hw = svc.drivers.get(driver_name)
    return svc.drivers.implementation("vendor", hw.default("vendor"))


def driver_methods(svc: Services, driver_name: str) -> dict[str, Any]:
    routes = _routes(_driver_vendor(svc, driver_name), driver=True)
    return {name: meta.metadata() for name, (meta, _) in sorted(routes.items())}


def driver_passthru(
    svc: Services, driver_name: str, method: str, http_method: str, args: dict[str, Any]
) -> tuple[bool, Any]:
    impl = _driver_vendor(svc, driver_name)
    meta, func = _route(_routes(impl, driver=True), method, http_method)
    assert isinstance(impl, VendorInterface)
    impl.validate_call(None, method, args)
    result = func(http_method, args)
    LOG.info("driver %s: vendor passthru %s (HTTP %s) done", driver_name, method, http_method)
    return meta.is_async, None if meta.is_async else result
