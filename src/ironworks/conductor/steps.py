"""Clean, deploy and service steps: discovery from the decorated driver methods, ordering, validation, running.

A step is a plain dict, the shape Ironic shows in ``clean_step`` / ``deploy_step``::

    {"interface": "raid", "step": "create_configuration", "priority": 0, "abortable": False,
     "argsinfo": {...}, "args": {...}}

The decorators themselves live in ``drivers.base`` (``clean_step``, ``deploy_step``, ``service_step``) so that
drivers do not import the conductor; they are re-exported here.

A clean or service step with ``execute_on_child_nodes: true`` (API 1.83) is not checked against the node's
own driver: it runs on each child node (``parent_node`` is this node), or on those of them listed in
``limit_child_node_execution``, each under its own lock and with its own driver (``steprunner``), where it must
be one of the child's declared steps. Ironic 39 drops such steps from the stored plan (its runner for them is
never reached); Ironworks keeps them in the plan and runs them, as the runner Ironic wrote intends.

Reserved steps (Ironic's ``RESERVED_STEP_HANDLER_MAPPING`` plus ``hold`` and ``wait``) are known to no driver
and may be named on any allowed interface: ``hold`` parks the node in ``<kind> hold`` until ``unhold``;
``wait`` parks it in the wait state (with ``args.seconds``: sleeps that long, at most
``MAX_WAIT_STEP_SECONDS``, and goes on); ``power_on`` / ``power_off`` / ``reboot`` act on the power. They are run
by ``flows.steprunner``. Unlike Ironic 39, whose step validation drops them from the stored plan (so they never
run), Ironworks keeps them in the plan.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.drivers.base import Driver, StepInfo, clean_step, deploy_step, service_step
from ironworks.identifiers import is_uuid_like

if TYPE_CHECKING:
    from ironworks.conductor.task import Task

__all__ = ["clean_step", "deploy_step", "service_step", "discover", "automated_clean_plan", "deploy_plan",
           "validate_user_clean_steps", "validate_user_deploy_steps", "validate_user_service_steps",
           "validate_template_steps", "execute", "RESERVED"]

#: steps the conductor runs itself, whatever the interface named (Ironic's reserved step names)
RESERVED = ("power_on", "power_off", "reboot", "hold", "wait")
#: the longest a ``wait`` step with ``seconds`` sleeps (Ironic's ``max_conductor_wait_step_seconds``)
MAX_WAIT_STEP_SECONDS = 30
#: interfaces a clean or service step may name (Ironic's CLEANING_INTERFACE_PRIORITY / _STEPS_SCHEMA enum)
STEP_INTERFACES = ("vendor", "power", "management", "firmware", "deploy", "bios", "raid")
#: keys of a clean or service step in a request (Ironic's _STEPS_SCHEMA)
_CHILD_KEYS = frozenset({"execute_on_child_nodes", "limit_child_node_execution"})
_USER_STEP_KEYS = frozenset({"interface", "step", "args", "order"}) | _CHILD_KEYS

#: interfaces in the order their steps run when priorities tie (Ironic's order)
INTERFACE_ORDER = ("power", "management", "deploy", "bios", "raid", "firmware", "inspect", "boot", "rescue",
                   "network", "storage", "console", "vendor")


def _order(interface: str) -> int:
    return INTERFACE_ORDER.index(interface) if interface in INTERFACE_ORDER else len(INTERFACE_ORDER)


def discover(driver: Driver, kind: str) -> list[dict[str, Any]]:
    """Every ``kind`` ("clean" / "deploy") step the node's interfaces declare, with its default priority."""
    found: list[dict[str, Any]] = []
    for interface, impl in driver.interfaces.items():
        for name, member in inspect.getmembers(type(impl), inspect.isfunction):
            info: StepInfo | None = getattr(member, "_ironworks_steps", {}).get(kind)
            if info is None:
                continue
            step: dict[str, Any] = {"interface": interface, "step": name, "priority": info.priority,
                                    "argsinfo": info.argsinfo, "requires_ramdisk": info.requires_ramdisk}
            if kind in ("clean", "service"):
                step["abortable"] = info.abortable
            found.append(step)
    return sorted(found, key=lambda s: (-s["priority"], _order(s["interface"]), s["step"]))


def _public(step: dict[str, Any], args: dict[str, Any] | None = None, priority: int | None = None) -> dict[str, Any]:
    out = {"interface": step["interface"], "step": step["step"], "args": args or {},
           "priority": step["priority"] if priority is None else priority}
    if "abortable" in step:
        out["abortable"] = step["abortable"]
    return out


def automated_clean_plan(driver: Driver) -> list[dict[str, Any]]:
    return [_public(s) for s in discover(driver, "clean") if s["priority"] > 0]


def _check_shape(steps: Any, kind: str, need_priority: bool) -> list[dict[str, Any]]:
    if not isinstance(steps, list) or not steps and kind == "clean":
        raise errors.InvalidParameterValue(f"{kind}_steps must be a non-empty list of steps.")
    allowed = {"interface", "step", "args", "priority"} | ({"order", *_CHILD_KEYS} if kind == "clean" else set())
    for step in steps:
        if not isinstance(step, dict):
            raise errors.InvalidParameterValue(f"Each {kind} step must be an object, not {step!r}.")
        unknown = set(step) - allowed
        if unknown:
            raise errors.InvalidParameterValue(f"Unknown key(s) {sorted(unknown)} in {kind} step {step!r}.")
        if not isinstance(step.get("interface"), str) or not isinstance(step.get("step"), str):
            raise errors.InvalidParameterValue(f"A {kind} step needs string 'interface' and 'step': {step!r}.")
        if not isinstance(step.get("args", {}), dict):
            raise errors.InvalidParameterValue(f"'args' of {kind} step {step['step']} must be an object.")
        if need_priority and "priority" not in step:
            raise errors.InvalidParameterValue(f"Deploy step {step['step']} needs a 'priority'.")
        prio = step.get("priority", 0)
        if isinstance(prio, bool) or not isinstance(prio, int) or prio < 0:
            raise errors.InvalidParameterValue(f"'priority' of {kind} step {step['step']} must be an integer >= 0.")
        _check_child_keys(step, lambda reason: errors.InvalidParameterValue(f"Invalid {kind}_steps: {reason}"))
    return steps


def _check_child_keys(step: dict[str, Any], bad: Any) -> None:
    """The child-node keys (API 1.83) as Ironic's ``_STEPS_SCHEMA`` and ``_check_steps``: a boolean, a list of
    UUIDs (checked only when ``execute_on_child_nodes`` is true; a limit without it is ignored, as Ironic)."""
    eocn = step.get("execute_on_child_nodes")
    if "execute_on_child_nodes" in step and not isinstance(eocn, bool):
        raise bad(f"{eocn!r} is not of type 'boolean'")
    limit = step.get("limit_child_node_execution")
    if "limit_child_node_execution" in step and not isinstance(limit, list):
        raise bad(f"{limit!r} is not of type 'array'")
    if eocn and limit:
        for entry in limit:
            if not (isinstance(entry, str) and is_uuid_like(entry)):
                # Ironic means this message (its code fails on building it: a 500, never a 4xx)
                raise errors.InvalidParameterValue(
                    f"Invalid entry detected for execute_on_child_node parameter in step {step['step']}.")


def child_limits(user_steps: list[dict[str, Any]]) -> list[str]:
    """The child node UUIDs named by the steps that run on child nodes (to check they exist and may be used)."""
    return [uuid for s in user_steps if s.get("execute_on_child_nodes")
            for uuid in s.get("limit_child_node_execution") or []]


def _resolve(driver: Driver, kind: str, user_steps: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict]]:
    known = {(s["interface"], s["step"]): s for s in discover(driver, kind)}
    resolved = []
    for user in user_steps:
        key = (user["interface"], user["step"])
        if user.get("execute_on_child_nodes"):  # checked on each child when it runs, as Ironic
            resolved.append(({"interface": key[0], "step": key[1], "priority": 0, "argsinfo": None,
                              "requires_ramdisk": False, "abortable": False}, user))
            continue
        if user["step"] in RESERVED:  # resolved by the conductor, not the driver (Ironic skips them too)
            reserved: dict[str, Any] = {"interface": key[0], "step": key[1], "priority": user.get("priority") or 0,
                                        "argsinfo": None, "requires_ramdisk": False}
            if kind != "deploy":
                reserved["abortable"] = True
            resolved.append((reserved, user))
            continue
        step = known.get(key)
        if step is None:
            raise errors.InvalidParameterValue(
                f"{kind.title()} step {user['interface']}.{user['step']} is not supported by node's driver "
                f"interfaces. Supported: {', '.join(f'{i}.{n}' for i, n in sorted(known)) or 'none'}."
            )
        args = user.get("args") or {}
        argsinfo = step["argsinfo"] or {}
        unexpected = sorted(set(args) - set(argsinfo))
        if unexpected:
            raise errors.InvalidParameterValue(
                f"{kind.title()} step {key[0]}.{key[1]} got unexpected argument(s): {', '.join(unexpected)}.")
        missing = sorted(k for k, info in argsinfo.items() if info.get("required") and k not in args)
        if missing and (kind != "deploy" or (user.get("priority") or 0) > 0):  # disabling needs no arguments
            raise errors.InvalidParameterValue(
                f"{kind.title()} step {key[0]}.{key[1]} is missing required argument(s): {', '.join(missing)}.")
        if kind == "deploy" and key == ("deploy", "deploy") and (user.get("priority") or 0) > 0:
            raise errors.InvalidParameterValue(  # Ironic's _validate_user_step: the core step can only be disabled
                "deploy step deploy on interface deploy is a core step and cannot be overridden by user steps. "
                "It may be disabled by setting the priority to 0")
        resolved.append((step, user))
    return resolved


def validate_user_clean_steps(driver: Driver, steps: Any, disable_ramdisk: bool = False) -> list[dict[str, Any]]:
    """Manual cleaning: the user's steps, in the user's order, each known and with valid arguments (400).

    With ``disable_ramdisk`` (API 1.70) every step must be one that runs without the ramdisk, as in Ironic.
    """
    _check_shape(steps, "clean", need_priority=False)
    resolved = _resolve(driver, "clean", steps)
    if disable_ramdisk:
        needing = [f"{s['interface']}.{s['step']}" for s, _ in resolved if s["requires_ramdisk"]]
        if needing:
            raise errors.InvalidParameterValue(
                "; ".join(f"clean step {name} requires booting a ramdisk" for name in needing))
    return [_with_child_keys(_public(step, user.get("args")), user) for step, user in resolved]


def _with_child_keys(step: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The planned step keeps the user's child-node keys when it runs on child nodes."""
    if user.get("execute_on_child_nodes"):
        step.update({k: user[k] for k in _CHILD_KEYS if k in user})
    return step


def resolve_one(driver: Driver, kind: str, step: dict[str, Any]) -> dict[str, Any]:
    """``step`` checked against ``driver``'s own ``kind`` steps (a child node's, API 1.83): the step to execute."""
    user: dict[str, Any] = {k: step[k] for k in ("interface", "step", "args") if k in step}
    resolved, _ = _resolve(driver, kind, [user])[0]
    return _public(resolved, user.get("args"))


def validate_user_service_steps(driver: Driver, steps: Any, disable_ramdisk: bool = False) -> list[dict[str, Any]]:
    """Servicing (API 1.87): the user's steps, in the user's order, checked as Ironic checks them (400).

    Shape as Ironic's ``_STEPS_SCHEMA`` (interface among ``STEP_INTERFACES``; ``interface``, ``step``, ``args``,
    ``order`` and the child-node keys only: no ``priority``), then each must be a service step of the node's
    interfaces (or a reserved step) with valid arguments; with ``disable_ramdisk`` none may need the ramdisk.
    """
    _check_user_schema(steps, "service")
    resolved = _resolve(driver, "service", [{k: v for k, v in s.items()
                                              if k in ("interface", "step", "args", *_CHILD_KEYS)}
                                             for s in steps])
    if disable_ramdisk:
        needing = [f"{s['interface']}.{s['step']}" for s, _ in resolved if s["requires_ramdisk"]]
        if needing:
            raise errors.InvalidParameterValue(
                "; ".join(f"service step {name} requires booting a ramdisk" for name in needing))
    return [dict(_with_child_keys(_public(step, user.get("args")), user), requires_ramdisk=step["requires_ramdisk"])
            for step, user in resolved]


def _check_user_schema(steps: Any, kind: str) -> None:
    """Ironic's ``_check_steps`` with ``_STEPS_SCHEMA``: 400 ``Invalid <kind>_steps: …``."""
    def bad(reason: str) -> errors.IronworksError:
        return errors.InvalidParameterValue(f"Invalid {kind}_steps: {reason}")

    if not isinstance(steps, list):
        raise bad(f"{steps!r} is not of type 'array'")
    for step in steps:
        if not isinstance(step, dict):
            raise bad(f"{step!r} is not of type 'object'")
        unknown = sorted(set(step) - _USER_STEP_KEYS)
        if unknown:
            raise bad(f"Additional properties are not allowed ({', '.join(map(repr, unknown))} "
                      f"{'was' if len(unknown) == 1 else 'were'} unexpected)")
        for key in ("interface", "step"):
            if key not in step:
                raise bad(f"{key!r} is a required property")
        if step["interface"] not in STEP_INTERFACES:
            raise bad(f"{step['interface']!r} is not one of {list(STEP_INTERFACES)!r}")
        if not isinstance(step["step"], str) or not step["step"]:
            raise bad(f"{step['step']!r} is not a non-empty string")
        if not isinstance(step.get("args", {}), dict):
            raise bad(f"{step['args']!r} is not of type 'object'")
        order = step.get("order", 0)
        if not ((isinstance(order, int) and not isinstance(order, bool) and order >= 0)
                or (isinstance(order, str) and order.isdigit() and order.isascii())):
            raise bad(f"{order!r} is not valid under any of the given schemas")
        _check_child_keys(step, bad)


def validate_user_deploy_steps(driver: Driver, steps: Any) -> list[dict[str, Any]]:
    _check_shape(steps, "deploy", need_priority=True)
    return [_public(step, user.get("args"), user["priority"]) for step, user in _resolve(driver, "deploy", steps)]


def validate_template_steps(driver: Driver, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps of the deploy templates matching a node's instance traits, combined and validated (400).

    Ironic's ``_get_validated_steps_from_templates``: every step must be one of the node's deploy steps with
    valid arguments, and no ``interface.step`` may come from two templates.
    """
    combined = [{k: step[k] for k in ("interface", "step", "args", "priority")}
                for template in templates for step in template["steps"]]
    if not combined:
        return []
    prefix = (f"Validation of deploy steps from deploy templates matching this node's instance traits failed. "
              f"Matching deploy templates: {','.join(t['name'] for t in templates)}. Errors: ")
    try:
        resolved = _resolve(driver, "deploy", _check_shape(combined, "deploy", need_priority=True))
    except errors.InvalidParameterValue as exc:
        raise errors.InvalidParameterValue(prefix + exc.message) from None
    seen: dict[tuple[str, str], int] = {}
    for step in combined:
        key = (step["interface"], step["step"])
        seen[key] = seen.get(key, 0) + 1
    duplicates = sorted(f"{i}.{n}" for (i, n), count in seen.items() if count > 1)
    if duplicates:
        raise errors.InvalidParameterValue(
            prefix + "deploy steps from all deploy templates matching this node's instance traits cannot have the "
            f"same interface and step. Duplicate deploy steps for {', '.join(duplicates)}")
    return [_public(step, user.get("args"), user["priority"]) for step, user in resolved]


def deploy_plan(driver: Driver, user_steps: list[dict[str, Any]] | None,
                template_steps: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The driver's enabled deploy steps merged with the templates' and the user's (Ironic's
    ``_get_all_deployment_steps``): a user step overrides a template step, either overrides the driver's, and a
    priority 0 disables a step."""
    plan = {(s["interface"], s["step"]): _public(s) for s in discover(driver, "deploy") if s["priority"] > 0}
    for step in [*(template_steps or []), *(user_steps or [])]:
        plan[(step["interface"], step["step"])] = step
    enabled = [s for s in plan.values() if s["priority"] > 0]
    return sorted(enabled, key=lambda s: (-s["priority"], _order(s["interface"]), s["step"]))


def execute(task: Task, step: dict[str, Any]) -> Any:
    """Call the step's method on the node's interface with its arguments."""
    impl = task.driver.get(step["interface"])
    if impl is None:
        raise errors.DriverError(reason=f"node {task.uuid} has no usable {step['interface']} interface")
    method = getattr(impl, step["step"], None)
    if method is None:
        raise errors.DriverError(reason=f"{step['interface']}.{step['step']} does not exist")
    return method(task, **(step.get("args") or {}))
