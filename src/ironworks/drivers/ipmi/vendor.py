"""The ``ipmitool`` vendor interface of the ``ipmi`` hardware type: Ironic's ``send_raw`` and ``bmc_reset``.

Spoken through pyghmi (one RMCP+ session per call, like the power and management interfaces), not by running
``ipmitool``: ``raw_bytes`` is parsed here as ``ipmitool raw`` parses it (tokens in C notation: ``0x06``, ``6``),
netfn first, command second, data after. Both methods are asynchronous (202) in Ironic; here they run before the
answer, so a BMC failure is reported to the caller instead of only logged.
"""

from __future__ import annotations

import logging
from typing import Any

from ironworks import errors
from ironworks.drivers import base
from ironworks.drivers.base import TaskView
from ironworks.drivers.ipmi.info import parse_driver_info
from ironworks.drivers.ipmi.interfaces import IPMIConnections

LOG = logging.getLogger(__name__)
#: an IPMI request message carries at most a few dozen data bytes; more is a mistake, not a request
MAX_RAW_BYTES = 64
_TRUE = {"1", "t", "true", "on", "y", "yes"}
_FALSE = {"0", "f", "false", "off", "n", "no"}


def parse_raw_bytes(raw: Any) -> tuple[int, int, tuple[int, ...]]:
    """``"0x06 0x01"`` -> ``(netfn, command, data)``; 400 (InvalidParameterValue) for anything else."""
    if not isinstance(raw, str) or not raw.strip():
        raise errors.MissingParameterValue("Parameter raw_bytes (string of bytes) was not specified.")
    tokens = raw.split()
    if len(tokens) < 2:
        raise errors.InvalidParameterValue("raw_bytes needs at least a network function and a command byte.")
    if len(tokens) > MAX_RAW_BYTES:
        raise errors.InvalidParameterValue(f"raw_bytes may hold at most {MAX_RAW_BYTES} bytes.")
    values = []
    for token in tokens:
        try:
            value = int(token, 16) if token.lower().startswith("0x") else int(token, 10)
        except ValueError:
            raise errors.InvalidParameterValue(f"raw_bytes: {token[:16]!r} is not a byte (e.g. 0x06).") from None
        if not 0 <= value <= 0xFF:
            raise errors.InvalidParameterValue(f"raw_bytes: {token[:16]!r} is not a byte (0 to 255).")
        values.append(value)
    if values[0] > 0x3F:
        raise errors.InvalidParameterValue(f"raw_bytes: network function {values[0]:#04x} is above 0x3f.")
    return values[0], values[1], tuple(values[2:])


def parse_warm(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise errors.InvalidParameterValue(f"Parameter warm must be a boolean, not {str(raw)[:32]!r}.")


class IPMIVendor(base.VendorInterface):
    name = "ipmitool"

    def __init__(self, connections: IPMIConnections | None = None) -> None:
        self.connections = connections or IPMIConnections()

    def validate_call(self, task: TaskView | None, method: str, args: dict[str, Any]) -> None:
        if method == "send_raw":
            parse_raw_bytes(args.get("raw_bytes"))
        elif method == "bmc_reset":
            parse_warm(args.get("warm", True))
        if task is not None:
            parse_driver_info(task.node["driver_info"])

    @base.passthru(
        ("POST",),
        description="Send raw bytes to the BMC. Required argument: 'raw_bytes' - a string "
        "of raw bytes (e.g. '0x00 0x01').",
    )
    def send_raw(self, task: TaskView, http_method: str, args: dict[str, Any]) -> str:
        netfn, command, data = parse_raw_bytes(args.get("raw_bytes"))
        answer = self.connections.client(task).raw_request(netfn, command, data)
        text = " ".join(f"{b:02x}" for b in answer)
        LOG.info(
            "node %s: raw IPMI netfn %#04x command %#04x answered: %s",
            task.node["uuid"],
            netfn,
            command,
            text or "(no data)",
        )
        return text

    @base.passthru(
        ("POST",),
        description="Reset the BMC. Required argument: 'warm' (Boolean) - for warm (True) or cold (False) reset.",
    )
    def bmc_reset(self, task: TaskView, http_method: str, args: dict[str, Any]) -> None:
        warm = parse_warm(args.get("warm", True))
        self.connections.client(task).bmc_reset(warm)
        LOG.info("node %s: BMC %s reset requested", task.node["uuid"], "warm" if warm else "cold")
