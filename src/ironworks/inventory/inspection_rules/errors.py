"""The errors of inspection rules, in Ironic's wording (``ironic/common/exception.py``)."""

from __future__ import annotations

from ironworks import errors


class HardwareInspectionFailure(errors.IronworksError):
    """A rule's ``fail`` action, or any execution failure: the inspection fails."""

    http_status = 400
    template = "Failed to inspect hardware. Reason: %(error)s"


class RuleExecutionFailure(HardwareInspectionFailure):
    template = "Inspection rule execution failed. Reason: %(reason)s"


class RuleActionFailure(RuleExecutionFailure):
    template = "Inspection rule action execution failed. Reason: %(reason)s"


class RuleConditionFailure(RuleExecutionFailure):
    template = "Inspection rule condition check failed. Reason: %(reason)s"


class RuleValidationFailure(errors.Invalid):
    template = "Inspection rule validation failed. Reason: %(reason)s"
