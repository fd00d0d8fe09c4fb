"""What the API asks of the conductor: provisioning and power requests, boot devices.

Each request is checked completely first (body, microversion, state machine, driver validation, steps and
their arguments), so a refused request changes nothing. An accepted long request then reserves a worker
(503 when none is free), and in one transaction takes the node lock, makes the first transition and writes the
durable intent; a worker runs the flow and releases the lock. The API answers 202.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.conductor import fsm, steps
from ironworks.conductor.flows import service as service_flow
from ironworks.conductor.service import Conductor, run_sync_event
from ironworks.conductor.task import Task, acquire, begin, load
from ironworks.db.models import utcnow
from ironworks.db.repos.base import Record, is_uuid_like
from ironworks.drivers.base import BOOT_DEVICES
from ironworks.resources import microversion as mv

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

#: provision target -> first microversion that accepts it
TARGET_VERSIONS: dict[str, int] = {
    "active": 1, "deleted": 1, "rebuild": 1, "manage": mv.MANAGEABLE_STATE, "provide": mv.MANAGEABLE_STATE,
    "inspect": mv.INSPECT_STATE, "abort": mv.ABORT_VERB, "clean": mv.MANUAL_CLEAN, "adopt": mv.ADOPT_VERB,
    "rescue": mv.RESCUE, "unrescue": mv.RESCUE, "deploy": mv.DEPLOY_VERBS,
    # Ironic keys its verb table by event, so "undeploy" (event "delete") is accepted at every version
    "undeploy": 1,
}
#: verbs Ironic checks only after the state machine has accepted them (406 below their version)
_LATE_VERBS = {"unhold": mv.UNHOLD, "service": mv.SERVICE}

_BODY_KEYS = {"target": 1, "configdrive": 1, "clean_steps": mv.MANUAL_CLEAN, "deploy_steps": mv.DEPLOY_STEPS,
              "rescue_password": mv.RESCUE, "disable_ramdisk": 1, "service_steps": mv.SERVICE, "runbook": 1}

#: provision event -> (intent action, interfaces validated before accepting)
_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "deploy": ("deploy", ("power", "deploy", "boot")),
    "rebuild": ("deploy", ("power", "deploy", "boot")),
    "delete": ("delete", ("power",)),
    "provide": ("provide", ()),
    "clean": ("clean", ("power", "network")),
    "inspect": ("inspect", ("inspect",)),
    "adopt": ("adopt", ()),
    "rescue": ("rescue", ("rescue",)),
    "unrescue": ("unrescue", ("rescue",)),
    "service": ("service", ("power",)),
    "unhold": ("unhold", ()),
}

_ABORT_MESSAGES = {
    states.CLEANWAIT: "Clean operation aborted for node {node} on step {step}.",
    states.INSPECTWAIT: "Inspection was aborted by request.",
    states.RESCUEWAIT: "Rescue operation aborted for node {node}.",
    states.DEPLOYWAIT: "Deploy operation aborted for node {node}.",
    states.CLEANHOLD: "Clean operation aborted for node {node} on step {step}.",
    states.DEPLOYHOLD: "Deploy operation aborted for node {node}.",
}
#: abort from these ends servicing (flows/service.py)
_SERVICE_ABORT = (states.SERVICEWAIT, states.SERVICEHOLD, states.SERVICEFAIL)


def find(svc: Services, ident: str, version: int) -> Record:
    """The node's columns (no traits: nothing here needs them), by UUID or, from API 1.5, by name."""
    if not is_uuid_like(ident) and version < mv.NODE_NAME:
        raise errors.InvalidUUID(uuid=ident)
    with svc.db.read() as session:
        return load(session, ident)


def _conductor(svc: Services) -> Conductor:
    conductor = getattr(svc, "conductor", None)
    if conductor is None:
        raise errors.NoFreeWorker("No conductor is running in this service.")
    return conductor


def _view(svc: Services, node: Record, purpose: str) -> Task:
    """A read-only task (no lock held: any write it tried would be refused) for validation and reads."""
    view = Task(_conductor(svc).ctx, dict(node), purpose)
    view.held = False
    return view


def _validate_interfaces(svc: Services, node: Record, kinds: tuple[str, ...], what: str) -> None:
    view = _view(svc, node, f"validate {what}")
    for kind in kinds:
        impl = view.driver.get(kind)
        if impl is None:  # e.g. a node enrolled with a name no longer offered (the old "agent" rescue)
            raise errors.InvalidParameterValue(
                f"Failed to validate {kind} interface of node {node['uuid']} for {what}: the {kind} interface "
                f"{node.get(f'{kind}_interface')!r} is not implemented in this conductor.")
        try:
            impl.validate(view)
        except errors.Invalid as exc:
            raise errors.InvalidParameterValue(
                f"Failed to validate {kind} interface of node {node['uuid']} for {what}: {exc.message}") from exc


def _check_configdrive(target: str, configdrive: Any, version: int) -> None:
    if configdrive is None:
        return
    # as Ironic: not with the 1.73 "deploy" alias
    allowed = ("active",) + (("rebuild",) if version >= mv.REBUILD_CONFIGDRIVE else ())
    if target not in allowed:
        raise errors.Invalid(f"Adding a config drive is only supported when setting provision state to "
                             f"{', '.join(allowed)}")
    if isinstance(configdrive, dict):
        if version < 56:
            raise errors.Invalid("Providing a JSON object for configdrive is only supported starting with API "
                                 "version 1.56")
        unknown = set(configdrive) - {"meta_data", "network_data", "user_data", "vendor_data"}
        if unknown or ("vendor_data" in configdrive and version < 59):
            raise errors.Invalid(f"Invalid configdrive format: unexpected key(s) {sorted(unknown) or ['vendor_data']}")
    elif not isinstance(configdrive, str):
        raise errors.Invalid("Invalid configdrive format: a string or an object is required.")


def _check_disable_ramdisk(target: str, disable_ramdisk: Any, version: int) -> None:
    """As Ironic's ``check_allow_disable_ramdisk``: manual cleaning from 1.70, servicing from 1.108."""
    if disable_ramdisk is None:
        return
    since = {"clean": mv.CLEAN_DISABLE_RAMDISK, "service": mv.SERVICE_DISABLE_RAMDISK}.get(target)
    if since is None:
        raise errors.Invalid("disable_ramdisk is supported only with manual cleaning or servicing")
    if version < since:
        raise errors.NotAcceptable("disable_ramdisk is not acceptable in this API version")
    if not isinstance(disable_ramdisk, bool):
        raise errors.Invalid(f"Invalid disable_ramdisk {disable_ramdisk!r}: a boolean is required.")


def provision(svc: Services, node: Record, body: dict[str, Any], version: int, request_id: str,
              project: str | None = None, requester: dict[str, str | None] | None = None,
              may_use: Callable[[Record], None] | None = None) -> None:
    """``PUT /v1/nodes/{node}/states/provision``. Raises the Ironic error of a refused request.

    ``project`` is the caller's project (None: the operator); it decides which runbooks the caller may use.
    ``requester`` (user, project) is recorded with the node history entries the operation writes.
    ``may_use`` raises when the caller may not act on a child node a step names (API 1.83), as Ironic's
    ``check_node_policy_and_retrieve``."""
    for key in body:
        if key not in _BODY_KEYS:
            raise errors.Invalid(f"Unknown argument: {key!r}.")
        if version < _BODY_KEYS[key]:
            raise errors.NotAcceptable(f"The '{key}' argument requires a newer API version.")
    target = body.get("target")
    if not isinstance(target, str):
        raise errors.Invalid("'target' is required and must be a string.")
    if target not in TARGET_VERSIONS and target not in _LATE_VERBS:
        raise errors.InvalidStateRequested(action=target, node=node["uuid"], state=node["provision_state"])
    mv.require(version, TARGET_VERSIONS.get(target, 1), f"Provision target {target!r}")
    if target in ("active", "rebuild", "deploy") and node["maintenance"]:
        raise errors.Invalid(f'The requested action "provisioning" can not be performed on node "{node["uuid"]}" '
                             f"while it is in maintenance mode.")
    event = states.VERBS[target]
    if event == "rebuild" and node["protected"]:  # Ironic checks this before the state machine (403)
        raise errors.NodeProtected(node=node["uuid"])
    current = node["provision_state"]
    if not fsm.is_actionable(current, event):
        if node["reservation"]:
            raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])
        raise errors.InvalidStateRequested(action=target, node=node["uuid"], state=current)
    if target == "abort" and current == states.INSPECTWAIT and version < mv.INSPECT_ABORT:
        raise errors.NotAcceptable("Aborting inspection requires API version 1.41.")
    _check_configdrive(target, body.get("configdrive"), version)
    clean_steps, deploy_steps = body.get("clean_steps"), body.get("deploy_steps")
    service_steps = body.get("service_steps")
    if body.get("runbook") is not None and not isinstance(body["runbook"], str):
        raise errors.Invalid(f"Invalid runbook {body['runbook']!r}: a string is required.")
    if body.get("runbook"):  # API 1.92: the steps (and disable_ramdisk) come from a runbook
        clean_steps, service_steps, body = runbook_steps(svc, node, target, body, version, project)
    _check_disable_ramdisk(target, body.get("disable_ramdisk"), version)
    if clean_steps is not None and target != "clean":
        raise errors.Invalid(_only_valid("clean_steps", "clean", body))
    if target == "clean" and not clean_steps:
        raise errors.Invalid('"clean_steps" is required when setting target provision state to clean')
    if deploy_steps and target not in ("active", "rebuild"):  # as Ironic: not with the "deploy" alias
        raise errors.Invalid('"deploy_steps" is only valid when setting target provision state to active or '
                             'rebuild')
    password = body.get("rescue_password")
    if password is not None and target != "rescue":
        raise errors.Invalid('"rescue_password" is only valid when setting target provision state to rescue')
    if target == "rescue" and not (isinstance(password, str) and password.strip()):
        raise errors.Invalid('A non-empty "rescue_password" is required when setting target provision state '
                             'to rescue')
    if target == "abort" and current == states.DEPLOYWAIT and version < mv.DEPLOYWAIT_ABORT:
        raise errors.NotAcceptable("Aborting a deployment requires API version 1.110.")
    if event == "delete" and node["protected"]:  # Ironic's tear down refuses a protected node (403)
        raise errors.NodeProtected(node=node["uuid"])
    if target == "unhold":
        mv.require(version, mv.UNHOLD, "Provision target 'unhold'")
    if service_steps and target != "service":
        raise errors.Invalid(_only_valid("service_steps", "service", body))
    if target == "service":
        mv.require(version, mv.SERVICE, "Provision target 'service'")
        if not service_steps:
            raise errors.Invalid('"service_steps" is required when setting target provision state to service')
    _start(svc, node, target, event, dict(body, clean_steps=clean_steps, service_steps=service_steps), request_id,
           requester or {}, may_use)


def _only_valid(key: str, target: str, body: dict[str, Any]) -> str:
    if body.get("runbook"):
        return "\"runbooks\" is only valid when setting target provision state to any of ['clean', 'service']"
    return f'"{key}" is only valid when setting target provision state to {target}'


def runbook_steps(svc: Services, node: Record, target: str, body: dict[str, Any],
                  version: int, project: str | None) -> tuple[Any, Any, dict[str, Any]]:
    """Ironic's ``_handle_runbook``: the runbook's steps instead of the user's, if the node may use it (400)."""
    from ironworks.inventory import runbooks  # imports conductor.steps: imported late, no cycle

    if version < mv.RUNBOOKS:
        raise errors.NotAcceptable("The 'runbook' argument requires a newer API version.")
    book = runbooks.usable(svc, body["runbook"], node, version, project)
    clean_steps, service_steps = body.get("clean_steps"), body.get("service_steps")
    steps_of_book = runbooks.user_steps(book)
    if target == "clean":
        if clean_steps:
            raise errors.Invalid('Please provide either "clean_steps" or a runbook, but not both.')
        clean_steps = steps_of_book
    elif target == "service":
        if service_steps:
            raise errors.Invalid('Please provide either "service_steps" or a runbook, but not both.')
        service_steps = steps_of_book
    # other targets: as Ironic, the runbook's disable_ramdisk (never null) is then refused with them
    return clean_steps, service_steps, dict(body, disable_ramdisk=book["disable_ramdisk"])


def _check_children(svc: Services, user_steps: list[dict[str, Any]],
                    may_use: Callable[[Record], None] | None) -> None:
    """Each child node a step's ``limit_child_node_execution`` names must exist (404) and be the caller's to use."""
    for uuid in steps.child_limits(user_steps):
        child = svc.nodes.get(uuid)
        if may_use is not None:
            may_use(child)


def _start(svc: Services, node: Record, target: str, event: str, body: dict[str, Any], request_id: str,
           requester: dict[str, str | None], may_use: Callable[[Record], None] | None = None) -> None:
    conductor = _conductor(svc)
    ctx = conductor.ctx
    if event == "manage" and node["provision_state"] != states.ENROLL:
        run_sync_event(ctx, node["uuid"], "manage", target)
        return
    if event == "abort":
        _abort(svc, node)
        return
    kinds: tuple[str, ...]
    if event == "manage":
        action, kinds = "verify", ()
    else:
        action, kinds = _ACTIONS[event]
    _validate_interfaces(svc, node, kinds, target)
    args: dict[str, Any] = {k: v for k, v in requester.items() if v}  # user, project: for the node history
    columns: dict[str, Any] = {"last_error": None}
    kwargs: dict[str, Any] = {}
    driver = svc.drivers.driver_for(node)
    if event == "clean":
        no_ramdisk = bool(body.get("disable_ramdisk"))
        args["clean_steps"] = steps.validate_user_clean_steps(driver, body["clean_steps"], no_ramdisk)
        _check_children(svc, body["clean_steps"], may_use)
        if no_ramdisk:
            args["disable_ramdisk"] = True
        kwargs["target"] = states.MANAGEABLE
    if event in ("deploy", "rebuild"):
        args["rebuild"] = event == "rebuild"
        if body.get("deploy_steps"):
            args["deploy_steps"] = steps.validate_user_deploy_steps(driver, body["deploy_steps"])
        traits = (node["instance_info"] or {}).get("traits")
        if isinstance(traits, list) and traits:  # deploy templates named by the instance's traits (API 1.55)
            templates = svc.deploy_templates.list_by_names(traits)
            template_steps = steps.validate_template_steps(driver, templates)
            if template_steps:
                args["template_steps"] = template_steps
        if body.get("configdrive") is not None:
            columns["instance_info"] = {**(node["instance_info"] or {}), "configdrive": body["configdrive"]}
    if event == "service":
        no_ramdisk = bool(body.get("disable_ramdisk"))
        args["service_steps"] = steps.validate_user_service_steps(driver, body["service_steps"], no_ramdisk)
        _check_children(svc, body["service_steps"], may_use)
        args["disable_ramdisk"] = no_ramdisk
        kwargs["target"] = states.ACTIVE
    if event == "unhold":
        kwargs["target"] = node["target_provision_state"]
    if event == "rescue":
        columns["instance_info"] = {**(node["instance_info"] or {}), "rescue_password": body["rescue_password"]}
    if event == "inspect":
        columns.update(inspection_started_at=utcnow(), inspection_finished_at=None)

    def recheck(fresh: Record) -> None:
        if not fsm.is_actionable(fresh["provision_state"], event):
            raise errors.InvalidStateRequested(action=target, node=fresh["uuid"], state=fresh["provision_state"])

    slot = conductor.reserve_worker()
    try:
        task = begin(ctx, node["uuid"], event=event, purpose=target, action=action, args=args, check=recheck,
                     request_id=request_id, seen=node, **kwargs, **columns)
    except BaseException:
        slot.cancel()
        raise
    conductor.run(slot, task, action, args)


def _abort(svc: Services, node: Record) -> None:
    def check(task: Task) -> None:
        step = task.node["clean_step"] or {}
        if task.node["provision_state"] == states.CLEANWAIT and step and not step.get("abortable", False):
            raise errors.InvalidStateRequested(
                f"The current clean step {step.get('interface')}.{step.get('step')} of node {task.uuid} "
                f"cannot be aborted.")

    state = node["provision_state"]
    if state in _SERVICE_ABORT:
        _abort_service(svc, node)
        return
    step = node["clean_step"] or {}
    message = _ABORT_MESSAGES.get(state, "Operation aborted by request.").format(
        node=node["uuid"], step=f"{step.get('interface')}.{step.get('step')}")
    run_sync_event(_conductor(svc).ctx, node["uuid"], "abort", "abort", check=check, last_error=message,
                   clean_step={})


def _abort_service(svc: Services, node: Record) -> None:
    """Ironic's ``_do_abort`` for servicing: a step that cannot be aborted is flagged ``abort_after``; else the
    node goes ``service failed`` and then, servicing torn down, back to ``active`` (flows/service.py)."""
    with acquire(_conductor(svc).ctx, node["uuid"], "abort") as task:
        state = task.node["provision_state"]
        if state not in _SERVICE_ABORT:
            raise errors.InvalidStateRequested(action="abort", node=task.uuid, state=state)
        if state == states.SERVICEFAIL and task.node["maintenance"]:
            raise errors.InvalidState(
                f'Can not abort service on node "{task.uuid}" while it is in maintenance mode. Please remove the '
                f"node from maintenance prior to issuing the request to abort the service operation.")
        step = dict(task.node["service_step"] or {})
        if state != states.SERVICEFAIL and step and not step.get("abortable"):
            if not step.get("abort_after"):
                task.write(service_step=dict(step, abort_after=True))
            return
        if state != states.SERVICEFAIL:
            task.process_event("fail", target=states.ACTIVE)
        service_flow.abort(task)


# --- power ------------------------------------------------------------------------------------------------------
POWER_TARGETS = (states.POWER_ON, states.POWER_OFF, states.REBOOT, states.SOFT_REBOOT, states.SOFT_POWER_OFF)


def set_power(svc: Services, node: Record, body: dict[str, Any], version: int, request_id: str,
              requester: dict[str, str | None] | None = None) -> None:
    unknown = set(body) - {"target", "timeout"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    target, timeout = body.get("target"), body.get("timeout")
    if not isinstance(target, str):
        raise errors.Invalid("'target' is required and must be a string.")
    if (target in (states.SOFT_REBOOT, states.SOFT_POWER_OFF) or timeout is not None) and version < mv.SOFT_POWER:
        raise errors.NotAcceptable("Soft power actions and timeouts require API version 1.27.")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
        raise errors.Invalid("timeout has to be positive integer")
    if target not in POWER_TARGETS:
        raise errors.InvalidStateRequested(action=target, node=node["uuid"], state=node["power_state"])
    if node["provision_state"] in (states.CLEANWAIT, states.CLEANING):
        raise errors.InvalidStateRequested(action=target, node=node["uuid"], state=node["provision_state"])
    if target in (states.POWER_OFF, states.SOFT_POWER_OFF) and node.get("disable_power_off"):
        # Ironic's PowerStateFailure (an InvalidState: 409) and its words
        raise errors.InvalidState(f"Failed to set node power state to {target}.")
    _validate_interfaces(svc, node, ("power",), "power")
    conductor = _conductor(svc)
    expected = states.POWER_OFF if target in (states.POWER_OFF, states.SOFT_POWER_OFF) else states.POWER_ON
    args = {"target": target, "timeout": timeout, **{k: v for k, v in (requester or {}).items() if v}}
    slot = conductor.reserve_worker()
    try:
        task = begin(conductor.ctx, node["uuid"], event=None, purpose=f"power {target}", action="power", args=args,
                     request_id=request_id, seen=node, target_power_state=expected, last_error=None)
    except BaseException:
        slot.cancel()
        raise
    conductor.run(slot, task, "power", args)


# --- boot device --------------------------------------------------------------------------------------------------
def _management(svc: Services, task: Task) -> Any:
    impl = task.driver.get("management")
    if impl is None:
        raise errors.InvalidParameterValue(
            f"The management interface {task.node['management_interface']!r} is not available.")
    return impl


def get_boot_device(svc: Services, node: Record) -> dict[str, Any]:
    view = _view(svc, node, "get boot device")
    impl = _management(svc, view)
    impl.validate(view)
    return impl.get_boot_device(view)


def supported_boot_devices(svc: Services, node: Record) -> list[str]:
    view = _view(svc, node, "supported boot devices")
    return list(_management(svc, view).supported_boot_devices(view))


def set_boot_device(svc: Services, node: Record, body: dict[str, Any]) -> None:
    unknown = set(body) - {"boot_device", "persistent"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    device, persistent = body.get("boot_device"), body.get("persistent", False)
    if not isinstance(device, str) or device not in BOOT_DEVICES:
        raise errors.InvalidParameterValue(f"Invalid boot device {device} specified.")
    if not isinstance(persistent, bool):
        raise errors.Invalid("'persistent' must be a boolean.")

    with acquire(_conductor(svc).ctx, node["uuid"], "set boot device") as task:
        impl = _management(svc, task)
        impl.validate(task)
        if device not in impl.supported_boot_devices(task):
            raise errors.InvalidParameterValue(f"Invalid boot device {device} specified.")
        impl.set_boot_device(task, device, persistent=persistent)
