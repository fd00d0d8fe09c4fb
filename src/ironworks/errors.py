"""The Ironworks exception tree.

Every error a user can see is one of these; the API renders each of them in Ironic's error body with the
``http_status`` declared here, and nothing else decides a status code.

::

    IronworksError (500)
    ├── Invalid (400)
    │   ├── InvalidParameterValue, MissingParameterValue
    │   ├── InvalidUUID / InvalidMAC / InvalidName / InvalidUuidOrName
    │   ├── PatchError, InvalidStateRequested, InterfaceNotFoundInEntrypoint
    │   ├── ChassisNotEmpty / PortgroupNotEmpty      (400, as in Ironic)
    │   └── VifNotPlaceable, InvalidConfigDrive
    ├── NotAcceptable (406)          microversion not supported / field not in this version
    ├── NotFound (404)
    │   └── NodeNotFound / PortNotFound / PortgroupNotFound / ChassisNotFound / DriverNotFound
    ├── Conflict (409)
    │   ├── Duplicate: DuplicateName / NodeAlreadyExists / MACAlreadyExists / Port… / Portgroup… / Chassis…
    │   ├── NodeLocked, VifAlreadyAttached
    │   └── InvalidState: NodeAssociated
    ├── NodeProtected (403)          as Ironic's HTTPForbidden
    ├── NoFreeWorker (503)
    ├── ChildNodeStepFailed (500)     a step run on a child node (API 1.83) failed; fails the parent's operation
    └── DriverError (500)             hardware or library failures, translated at the driver boundary
        └── BMCError: BMCConnectionError / BMCAuthError / BMCProtocolError / BMCCommandError / BMCBusy /
                      PowerStateTimeout   (each names the BMC, never a password)
"""

from __future__ import annotations

from typing import Any


class IronworksError(Exception):
    """Root of all Ironworks errors. ``template`` is formatted with the keyword arguments."""

    http_status = 500
    template = "An unknown error occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.template % kwargs if kwargs else self.template
            except (KeyError, TypeError, ValueError):
                message = self.template
        self.message = message
        super().__init__(message)

    @property
    def faultcode(self) -> str:
        return "Client" if self.http_status < 500 else "Server"


# --- 400 --------------------------------------------------------------------------------------------------
class Invalid(IronworksError):
    http_status = 400
    template = "Invalid request: %(reason)s"


class InvalidParameterValue(Invalid):
    template = "%(err)s"


class MissingParameterValue(Invalid):
    template = "%(err)s"


class InvalidUUID(Invalid):
    template = "Expected a UUID but received %(uuid)s."


class InvalidMAC(Invalid):
    template = "Expected a MAC address but received %(mac)s."


class InvalidName(Invalid):
    template = "Expected a logical name but received %(name)s."


class InvalidUuidOrName(Invalid):
    template = "Expected a logical name or UUID but received %(name)s."


class PatchError(Invalid):
    template = "Couldn't apply patch '%(patch)s'. Reason: %(reason)s"


class InvalidStateRequested(Invalid):
    template = ('The requested action "%(action)s" can not be performed on node "%(node)s" '
                'while it is in state "%(state)s".')


# --- 404 --------------------------------------------------------------------------------------------------
class NotFound(IronworksError):
    http_status = 404
    template = "Resource could not be found."


class NodeNotFound(NotFound):
    template = "Node %(node)s could not be found."


class PortNotFound(NotFound):
    template = "Port %(port)s could not be found."


class PortgroupNotFound(NotFound):
    template = "Portgroup %(portgroup)s could not be found."


class ChassisNotFound(NotFound):
    template = "Chassis %(chassis)s could not be found."


class DeployTemplateNotFound(NotFound):
    template = "Deploy template %(template)s could not be found."


class RunbookNotFound(NotFound):
    template = "Runbook %(runbook)s could not be found."


class DriverNotFound(NotFound):
    template = "Could not find the following driver(s) or hardware type(s): %(driver_name)s."


class InterfaceNotFoundInEntrypoint(Invalid):
    template = "Could not find the following interface in the '%(entrypoint)s' entrypoint: %(iface)s."


# --- 406 --------------------------------------------------------------------------------------------------
class NotAcceptable(IronworksError):
    http_status = 406
    template = "Request not acceptable."


# --- 409 --------------------------------------------------------------------------------------------------
class Conflict(IronworksError):
    http_status = 409
    template = "Conflict."


class Duplicate(Conflict):
    template = "Resource already exists."


class DuplicateName(Duplicate):
    template = "A node with name %(name)s already exists."


class NodeAlreadyExists(Duplicate):
    template = "A node with UUID %(uuid)s already exists."


class MACAlreadyExists(Duplicate):
    template = "A port with MAC address %(mac)s already exists."


class PortAlreadyExists(Duplicate):
    template = "A port with UUID %(uuid)s already exists."


class PortDuplicateName(Duplicate):
    template = "A port with name %(name)s already exists."


class PortgroupAlreadyExists(Duplicate):
    template = "A portgroup with UUID %(uuid)s already exists."


class PortgroupDuplicateName(Duplicate):
    template = "A portgroup with name %(name)s already exists."


class PortgroupMACAlreadyExists(Duplicate):
    template = "A portgroup with MAC address %(mac)s already exists."


class ChassisAlreadyExists(Duplicate):
    template = "A chassis with UUID %(uuid)s already exists."


class DeployTemplateAlreadyExists(Duplicate):
    template = "A deploy template with UUID %(uuid)s already exists."


class DeployTemplateDuplicateName(Duplicate):
    template = "A deploy template with name %(name)s already exists."


class RunbookAlreadyExists(Duplicate):
    template = "A runbook with UUID %(uuid)s already exists."


class RunbookDuplicateName(Duplicate):
    template = "A runbook with name %(name)s already exists."


class NodeLocked(Conflict):
    template = "Node %(node)s is locked by host %(host)s, please retry after the current operation is completed."


class InvalidState(Conflict):
    template = "Invalid resource state."


class NodeAssociated(InvalidState):
    template = "Node %(node)s is associated with instance %(instance)s."


class RunbookForbidden(IronworksError):  # HTTPForbidden in Ironic (the runbook policies)
    http_status = 403
    template = "%(action)s is disallowed by policy"


class NodeProtected(IronworksError):  # HTTPForbidden in Ironic
    http_status = 403
    template = "Node %(node)s is protected and cannot be undeployed, rebuilt or deleted"


class OperationNotPermitted(IronworksError):  # Ironic's NotAuthorized family: 403
    http_status = 403
    template = "Operation not permitted."


class ChassisNotEmpty(Invalid):  # 400, as in Ironic
    template = "Cannot complete the requested action because chassis %(chassis)s contains nodes."


class PortgroupNotEmpty(Invalid):  # 400, as in Ironic
    template = "Cannot complete the requested action because portgroup %(portgroup)s contains ports."


# --- 503 / 500 --------------------------------------------------------------------------------------------
class NoFreeWorker(IronworksError):
    http_status = 503
    template = "Requested action cannot be performed due to lack of free conductor workers."


class DriverError(IronworksError):
    http_status = 500
    template = "Driver error: %(reason)s"


class ChildNodeStepFailed(IronworksError):
    """A step run on a child node (API 1.83 ``execute_on_child_nodes``) failed; the parent's operation fails."""

    http_status = 500
    template = "Step %(step)s failed on child node %(node)s: %(reason)s"


# --- BMC access (drivers/ipmi, drivers/redfish): every message names the BMC, never a password ---------------
class BMCError(DriverError):
    template = "BMC %(bmc)s: %(reason)s"


class BMCConnectionError(BMCError):
    template = "BMC %(bmc)s did not answer: %(reason)s"


class BMCAuthError(BMCError):
    template = "BMC %(bmc)s rejected the credentials of user '%(user)s': %(reason)s"


class BMCProtocolError(BMCError):
    template = "BMC %(bmc)s sent an answer that could not be understood: %(reason)s"


class BMCCommandError(BMCError):
    template = "BMC %(bmc)s refused %(command)s: %(reason)s"


class BMCBusy(BMCError):
    template = "BMC %(bmc)s is busy: no free request slot within %(timeout)s s (limit %(limit)s at a time)."


class PowerStateTimeout(BMCError):
    template = ("BMC %(bmc)s did not reach power state '%(state)s' within %(timeout)s s after %(action)s; "
                "it last reported '%(last)s'.")


# --- tenant networking and config drives (networking/, configdrive/) -----------------------------------------
class VifNotPlaceable(Invalid):
    template = "Unable to attach VIF %(vif)s: %(reason)s"


class VifNotAttached(Invalid):  # 400, as in Ironic
    template = "Unable to detach VIF %(vif)s from node %(node)s because it is not attached to it."


class VifAlreadyAttached(Conflict):
    template = "Unable to attach VIF %(vif)s because it is already attached to %(object_type)s %(object_uuid)s."


class InvalidConfigDrive(Invalid):
    template = "Invalid configdrive: %(reason)s"
