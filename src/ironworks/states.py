"""Provision and power state names (Ironic's strings) and the provisioning state machine, as data.

Only ``conductor.task.Task.process_event`` moves a node's ``provision_state``; it looks the move up in
``TRANSITIONS``. Nothing else here has behaviour.
"""

from __future__ import annotations

# --- provision states -------------------------------------------------------------------------------------
ENROLL = "enroll"
VERIFYING = "verifying"
MANAGEABLE = "manageable"
AVAILABLE = "available"
ACTIVE = "active"
DEPLOYING = "deploying"
DEPLOYWAIT = "wait call-back"
DEPLOYFAIL = "deploy failed"
DEPLOYHOLD = "deploy hold"
DELETING = "deleting"
CLEANING = "cleaning"
CLEANWAIT = "clean wait"
CLEANFAIL = "clean failed"
CLEANHOLD = "clean hold"
ERROR = "error"
INSPECTING = "inspecting"
INSPECTWAIT = "inspect wait"
INSPECTFAIL = "inspect failed"
ADOPTING = "adopting"
ADOPTFAIL = "adopt failed"
RESCUE = "rescue"
RESCUING = "rescuing"
RESCUEWAIT = "rescue wait"
RESCUEFAIL = "rescue failed"
UNRESCUING = "unrescuing"
UNRESCUEFAIL = "unrescue failed"
SERVICING = "servicing"
SERVICEWAIT = "service wait"
SERVICEFAIL = "service failed"
SERVICEHOLD = "service hold"

#: Ironic API < 1.2 shows AVAILABLE as null ("NOSTATE").
NOSTATE = None

# --- power states -----------------------------------------------------------------------------------------
POWER_ON = "power on"
POWER_OFF = "power off"
REBOOT = "rebooting"
SOFT_REBOOT = "soft rebooting"
SOFT_POWER_OFF = "soft power off"
POWER_ERROR = "error"

# --- state groups -----------------------------------------------------------------------------------------
STABLE_STATES = (ENROLL, MANAGEABLE, AVAILABLE, ACTIVE, ERROR, RESCUE)

UNSTABLE_STATES = (DEPLOYING, DEPLOYWAIT, CLEANING, CLEANWAIT, VERIFYING, DELETING, INSPECTING, INSPECTWAIT,
                   ADOPTING, RESCUING, RESCUEWAIT, UNRESCUING, SERVICING, SERVICEWAIT)

FAILURE_STATES = (DEPLOYFAIL, CLEANFAIL, INSPECTFAIL, ADOPTFAIL, RESCUEFAIL, UNRESCUEFAIL, SERVICEFAIL, ERROR)

#: transient states in which a node may still be updated through the API
UPDATE_ALLOWED_STATES = (DEPLOYFAIL, INSPECTING, INSPECTFAIL, INSPECTWAIT, CLEANFAIL, ERROR, VERIFYING,
                         ADOPTFAIL, RESCUEFAIL, UNRESCUEFAIL, SERVICEHOLD, SERVICEFAIL)

#: states in which a node may be deleted (any state while in maintenance)
DELETE_ALLOWED_STATES = (MANAGEABLE, ENROLL, ADOPTFAIL, AVAILABLE)

#: states whose node is waiting for the ramdisk agent to call back
WAIT_STATES = (DEPLOYWAIT, CLEANWAIT, INSPECTWAIT, RESCUEWAIT, SERVICEWAIT)

#: the stable state each transient state is heading to (``target_provision_state``)
TARGETS: dict[str, str] = {
    VERIFYING: MANAGEABLE,
    DEPLOYING: ACTIVE, DEPLOYWAIT: ACTIVE, DEPLOYFAIL: ACTIVE, DEPLOYHOLD: ACTIVE,
    CLEANING: AVAILABLE, CLEANWAIT: AVAILABLE, CLEANFAIL: AVAILABLE, CLEANHOLD: AVAILABLE,
    DELETING: AVAILABLE,
    INSPECTING: MANAGEABLE, INSPECTWAIT: MANAGEABLE, INSPECTFAIL: MANAGEABLE,
    ADOPTING: ACTIVE, ADOPTFAIL: ACTIVE,
    RESCUING: RESCUE, RESCUEWAIT: RESCUE, RESCUEFAIL: RESCUE,
    UNRESCUING: ACTIVE, UNRESCUEFAIL: ACTIVE,
    SERVICING: ACTIVE, SERVICEWAIT: ACTIVE, SERVICEFAIL: ACTIVE, SERVICEHOLD: ACTIVE,
}

ALL_STATES = tuple(dict.fromkeys(STABLE_STATES + tuple(TARGETS)))

#: API ``target`` → state machine event
VERBS: dict[str, str] = {
    "active": "deploy",
    "deploy": "deploy",
    "deleted": "delete",
    "undeploy": "delete",
    "manage": "manage",
    "provide": "provide",
    "inspect": "inspect",
    "abort": "abort",
    "clean": "clean",
    "adopt": "adopt",
    "rescue": "rescue",
    "unrescue": "unrescue",
    "rebuild": "rebuild",
    "unhold": "unhold",
    "service": "service",
}

# --- the state machine: (source, event) -> destination, one transition per line -----------------------------
TRANSITIONS: dict[tuple[str, str], str] = {
    # enrollment and verification
    (ENROLL, "manage"): VERIFYING,
    (VERIFYING, "done"): MANAGEABLE,
    (VERIFYING, "fail"): ENROLL,
    # deploy
    (AVAILABLE, "deploy"): DEPLOYING,
    (DEPLOYING, "wait"): DEPLOYWAIT,
    (DEPLOYING, "hold"): DEPLOYHOLD,
    (DEPLOYING, "done"): ACTIVE,
    (DEPLOYING, "fail"): DEPLOYFAIL,
    (DEPLOYWAIT, "resume"): DEPLOYING,
    (DEPLOYWAIT, "hold"): DEPLOYHOLD,
    (DEPLOYWAIT, "fail"): DEPLOYFAIL,
    (DEPLOYWAIT, "abort"): DEPLOYFAIL,
    (DEPLOYWAIT, "delete"): DELETING,
    (DEPLOYHOLD, "unhold"): DEPLOYWAIT,
    (DEPLOYHOLD, "abort"): DEPLOYFAIL,
    (DEPLOYFAIL, "rebuild"): DEPLOYING,
    (DEPLOYFAIL, "deploy"): DEPLOYING,
    (DEPLOYFAIL, "delete"): DELETING,
    (ACTIVE, "rebuild"): DEPLOYING,
    (ACTIVE, "delete"): DELETING,
    (ERROR, "rebuild"): DEPLOYING,
    (ERROR, "delete"): DELETING,
    # teardown and cleaning
    (DELETING, "clean"): CLEANING,
    (DELETING, "fail"): ERROR,
    (CLEANING, "done"): AVAILABLE,
    (CLEANING, "manage"): MANAGEABLE,
    (CLEANING, "wait"): CLEANWAIT,
    (CLEANING, "hold"): CLEANHOLD,
    (CLEANING, "fail"): CLEANFAIL,
    (CLEANWAIT, "resume"): CLEANING,
    (CLEANWAIT, "hold"): CLEANHOLD,
    (CLEANWAIT, "fail"): CLEANFAIL,
    (CLEANWAIT, "abort"): CLEANFAIL,
    (CLEANHOLD, "unhold"): CLEANWAIT,
    (CLEANHOLD, "abort"): CLEANFAIL,
    (CLEANFAIL, "manage"): MANAGEABLE,
    (MANAGEABLE, "provide"): CLEANING,
    (MANAGEABLE, "clean"): CLEANING,
    (AVAILABLE, "manage"): MANAGEABLE,
    # inspection
    (MANAGEABLE, "inspect"): INSPECTING,
    (INSPECTING, "done"): MANAGEABLE,
    (INSPECTING, "wait"): INSPECTWAIT,
    (INSPECTING, "fail"): INSPECTFAIL,
    (INSPECTWAIT, "resume"): INSPECTING,
    (INSPECTWAIT, "done"): MANAGEABLE,
    (INSPECTWAIT, "fail"): INSPECTFAIL,
    (INSPECTWAIT, "abort"): INSPECTFAIL,
    (INSPECTFAIL, "manage"): MANAGEABLE,
    (INSPECTFAIL, "inspect"): INSPECTING,
    # adoption
    (MANAGEABLE, "adopt"): ADOPTING,
    (ADOPTING, "done"): ACTIVE,
    (ADOPTING, "fail"): ADOPTFAIL,
    (ADOPTFAIL, "adopt"): ADOPTING,
    (ADOPTFAIL, "manage"): MANAGEABLE,
    # rescue
    (ACTIVE, "rescue"): RESCUING,
    (RESCUING, "wait"): RESCUEWAIT,
    (RESCUING, "done"): RESCUE,
    (RESCUING, "fail"): RESCUEFAIL,
    (RESCUEWAIT, "resume"): RESCUING,
    (RESCUEWAIT, "fail"): RESCUEFAIL,
    (RESCUEWAIT, "abort"): RESCUEFAIL,
    (RESCUEWAIT, "delete"): DELETING,
    (RESCUE, "rescue"): RESCUING,
    (RESCUE, "unrescue"): UNRESCUING,
    (RESCUE, "delete"): DELETING,
    (RESCUEFAIL, "rescue"): RESCUING,
    (RESCUEFAIL, "unrescue"): UNRESCUING,
    (RESCUEFAIL, "delete"): DELETING,
    (UNRESCUING, "done"): ACTIVE,
    (UNRESCUING, "fail"): UNRESCUEFAIL,
    (UNRESCUEFAIL, "rescue"): RESCUING,
    (UNRESCUEFAIL, "unrescue"): UNRESCUING,
    (UNRESCUEFAIL, "delete"): DELETING,
    # servicing of active nodes
    (ACTIVE, "service"): SERVICING,
    (SERVICING, "done"): ACTIVE,
    (SERVICING, "wait"): SERVICEWAIT,
    (SERVICING, "hold"): SERVICEHOLD,
    (SERVICING, "fail"): SERVICEFAIL,
    (SERVICEWAIT, "resume"): SERVICING,
    (SERVICEWAIT, "hold"): SERVICEHOLD,
    (SERVICEWAIT, "fail"): SERVICEFAIL,
    (SERVICEWAIT, "abort"): SERVICEFAIL,
    (SERVICEWAIT, "delete"): DELETING,
    (SERVICEHOLD, "service"): SERVICING,
    (SERVICEHOLD, "unhold"): SERVICEWAIT,
    (SERVICEHOLD, "fail"): SERVICEFAIL,
    (SERVICEHOLD, "abort"): SERVICEFAIL,
    (SERVICEFAIL, "service"): SERVICING,
    (SERVICEFAIL, "rescue"): RESCUING,
    (SERVICEFAIL, "wait"): SERVICEWAIT,
    (SERVICEFAIL, "hold"): SERVICEHOLD,
    (SERVICEFAIL, "delete"): DELETING,
    (SERVICEFAIL, "abort"): ACTIVE,
}
