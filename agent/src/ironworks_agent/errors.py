"""The agent's exception tree; every failure a command reports is one of these.

    AgentError                      root: ``code`` is the machine-readable name sent in a failed result
    ├── DeviceRefused               the safety guard refused a device (not in the allow-list)
    ├── DeviceNotFound              no block device matches (root device hints, a named device)
    ├── InvalidCommand              unknown command name or bad parameters
    ├── NotImplementedCommand       a command this agent version knows but cannot run yet
    ├── ToolFailed                  an external tool (sgdisk, wipefs, qemu-img…) exited non-zero
    ├── ImageError                  download or conversion failed
    │   └── ChecksumMismatch        the image's checksum differs from the expected one
    └── ProtocolError               the service answered something the protocol does not allow
        └── TokenRejected           401: the agent token is missing or no longer valid
"""

from __future__ import annotations


class AgentError(Exception):
    code = "AgentError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"type": self.code, "message": self.message}


class DeviceRefused(AgentError):
    code = "DeviceRefused"


class DeviceNotFound(AgentError):
    code = "DeviceNotFound"


class InvalidCommand(AgentError):
    code = "InvalidCommand"


class NotImplementedCommand(AgentError):
    code = "NotImplemented"


class ToolFailed(AgentError):
    code = "ToolFailed"


class ImageError(AgentError):
    code = "ImageError"


class ChecksumMismatch(ImageError):
    code = "ChecksumMismatch"


class ProtocolError(AgentError):
    code = "ProtocolError"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TokenRejected(ProtocolError):
    code = "TokenRejected"
