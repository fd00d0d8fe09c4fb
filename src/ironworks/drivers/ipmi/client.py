"""The IPMI boundary: pyghmi ``Command`` in, typed results and ``errors.BMC*`` out.

Each operation runs in its own RMCP+ session inside this process (pyghmi's I/O thread, no ipmitool process),
logged out right after; see ``IPMIClient._call`` for why sessions are not kept. Each operation goes through
the per-BMC limiter (default one at a time: pyghmi hands concurrent callers the same session) and the retry
policy (``drivers/bmc/policy.py``). Chassis, boot-option and power commands are sent as raw IPMI
requests (the spec's bytes, so single bridging works for all of them and completion codes reach us intact);
sensors use pyghmi's SDR reader.

:func:`translate` is the one place where pyghmi's exceptions become Ironworks errors. pyghmi reports session
set-up failures only as its own fixed sentences (no codes), so those sentences — taken from pyghmi's constants
where it has them — are matched there and nowhere else; a BMC's own text is never interpreted.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pyghmi.exceptions as pyghmi_exc
from pyghmi.ipmi import command as ipmi_command
from pyghmi.ipmi.private import constants as ipmi_constants

from ironworks import errors
from ironworks.drivers.bmc.policy import BMCLimiter, BMCPolicy, with_retries
from ironworks.drivers.ipmi.info import IPMIAccess

PowerAction = Literal["on", "off", "cycle", "reset", "soft"]
_CHASSIS_CONTROL = {"off": 0x00, "on": 0x01, "cycle": 0x02, "reset": 0x03, "soft": 0x05}
_PULSE_DIAG = 0x04  # chassis control: pulse diagnostic interrupt (NMI)

# boot flags (IPMI 2.0 table 28-14) device selector <-> Ironic boot device
BOOT_SELECTORS = {"pxe": 0x1, "disk": 0x2, "safe": 0x3, "cdrom": 0x5, "bios": 0x6, "floppy": 0xF}
_SELECTOR_NAMES = {selector: name for name, selector in BOOT_SELECTORS.items()}

# pyghmi's session set-up failures (it raises them as text only)
_AUTH_FAILURES = frozenset({
    "Incorrect password provided",
    *(ipmi_constants.rmcp_codes[code] + " in RAKP2" for code in (0x09, 0x0A, 0x0C, 0x0D, 0x0E)),
    *(ipmi_constants.rmcp_codes[code] for code in (0x09, 0x0A, 0x0D)),
    "Invalid RAKP4 integrity code (wrong Kg?)",
})
_NO_ANSWER = frozenset({"", "None", "timeout", "Session no longer connected",
                        "Unable to transmit to specified address", "Session failed to initialize"})
_TIMEOUT_CODE = 0xFFFF  # pyghmi's completion code for "no response"


@dataclasses.dataclass(frozen=True)
class BootSetting:
    device: str | None  # Ironic name, None when no override is set
    persistent: bool
    uefi: bool


def translate(exc: BaseException, access: IPMIAccess, what: str) -> errors.BMCError:
    """The Ironworks error for an exception raised by pyghmi while doing ``what``."""
    bmc = access.bmc
    if isinstance(exc, errors.BMCError):
        return exc
    if isinstance(exc, pyghmi_exc.IpmiException):
        text = str(exc.args[0]) if exc.args and exc.args[0] is not None else ""
        code = getattr(exc, "ipmicode", 0) or 0
        if code == _TIMEOUT_CODE or text in _NO_ANSWER:
            return errors.BMCConnectionError(bmc=bmc, reason=f"no IPMI answer to {what} (UDP port {access.port})")
        if text in _AUTH_FAILURES:
            return errors.BMCAuthError(bmc=bmc, user=access.username, reason=f"{text.rstrip('.')}")
        if code:
            return errors.BMCCommandError(bmc=bmc, command=what, reason=f"completion code {code:#04x}: {text}")
        return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: {text or type(exc).__name__}")
    if isinstance(exc, OSError):
        return errors.BMCConnectionError(bmc=bmc, reason=f"{what}: {exc.strerror or exc}")
    if isinstance(exc, pyghmi_exc.PyghmiException):
        return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: {exc}")
    # pyghmi indexes and asserts on the reply bytes: a malformed answer surfaces as one of these
    return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: malformed reply ({type(exc).__name__})")


class IPMIClient:
    """Operations on one BMC. Cheap to create; holds no session between operations."""

    def __init__(self, access: IPMIAccess, policy: BMCPolicy, limiter: BMCLimiter) -> None:
        self.access = access
        self.policy = policy
        self.limiter = limiter

    # --- plumbing ---------------------------------------------------------------------------------------------
    def _command(self) -> ipmi_command.Command:
        a = self.access
        # bytes credentials: pyghmi keys its half-open sessions by the values given, and only forgets a failed
        # login when they are bytes (with str a dead BMC's session is cached broken forever)
        cmd = ipmi_command.Command(bmc=a.address, userid=a.username.encode(), password=a.password.encode(),
                                   port=a.port, kg=a.kg, privlevel=a.privlevel)
        if cmd.ipmi_session.broken:
            raise errors.BMCConnectionError(bmc=a.bmc, reason="the IPMI session could not be established")
        return cmd

    def _call(self, what: str, operation: Any) -> Any:
        """``operation(command)`` in one fresh RMCP+ session, logged out afterwards, retried per the policy.

        A session per operation (as ipmitool does) rather than pyghmi's long-lived ones: pyghmi keeps idle
        sessions alive from whichever thread runs its loop, and a keepalive racing a command on the same session
        takes over the command's reply (the command then stalls ~30 s until pyghmi re-logs in). Logging out
        also frees the BMC's session slot at once.
        """
        def once() -> Any:
            with self.limiter.slot(self.access.bmc):
                command = None
                try:
                    command = self._command()
                    return operation(command)
                except errors.BMCError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the one translation boundary for pyghmi
                    raise translate(exc, self.access, what) from exc
                finally:
                    if command is not None:
                        _logout(command)

        return with_retries(once, self.policy)

    def _raw(self, what: str, netfn: int, command: int, data: tuple[int, ...] = (), min_len: int = 0) -> bytes:
        bridge = {"channel": self.access.bridge[0], "addr": self.access.bridge[1]} if self.access.bridge else None

        def operation(ipmi: ipmi_command.Command) -> bytes:
            response = ipmi.raw_command(netfn=netfn, command=command, data=data,
                                                   bridge_request=bridge)
            code = response.get("code", 0)
            if code == _TIMEOUT_CODE:
                raise errors.BMCConnectionError(bmc=self.access.bmc, reason=f"no IPMI answer to {what}")
            if code:
                raise errors.BMCCommandError(bmc=self.access.bmc, command=what,
                                             reason=f"completion code {code:#04x} ({response.get('error')})")
            payload = bytes(response.get("data") or b"")
            if len(payload) < min_len:
                raise errors.BMCProtocolError(bmc=self.access.bmc, reason=f"{what}: answer of {len(payload)} "
                                              f"bytes, expected at least {min_len}")
            return payload

        result: bytes = self._call(what, operation)
        return result

    # --- power ------------------------------------------------------------------------------------------------
    def power_state(self) -> str:
        """``"on"`` or ``"off"`` (Get Chassis Status, byte 1 bit 0)."""
        data = self._raw("get chassis status", 0x00, 0x01, min_len=3)
        return "on" if data[0] & 0x01 else "off"

    def power(self, action: PowerAction) -> None:
        """Send a chassis control command; verification is the caller's (``policy.wait_for_power``)."""
        self._raw(f"chassis power {action}", 0x00, 0x02, (_CHASSIS_CONTROL[action],))

    def diagnostic_interrupt(self) -> None:
        """Chassis Control 0x04, "pulse diagnostic interrupt": an NMI (``ipmitool chassis power diag``)."""
        self._raw("chassis power diag", 0x00, 0x02, (_PULSE_DIAG,))

    # --- vendor passthru (``send_raw``, ``bmc_reset``) ----------------------------------------------------------
    def raw_request(self, netfn: int, command: int, data: tuple[int, ...] = ()) -> bytes:
        """Any request, as ``ipmitool raw``: the answer's data bytes (a completion code is a BMCCommandError)."""
        return self._raw(f"raw netfn {netfn:#04x} command {command:#04x}", netfn, command, data)

    def bmc_reset(self, warm: bool) -> None:
        """App netfn 0x06, Cold Reset 0x02 / Warm Reset 0x03 (``ipmitool bmc reset cold|warm``)."""
        self._raw(f"bmc reset {'warm' if warm else 'cold'}", 0x06, 0x03 if warm else 0x02)

    # --- boot -------------------------------------------------------------------------------------------------
    def boot_setting(self) -> BootSetting:
        data = self._raw("get boot options", 0x00, 0x09, (0x05, 0x00, 0x00), min_len=4)
        if data[1] & 0x7F != 0x05:
            raise errors.BMCProtocolError(bmc=self.access.bmc, reason=f"get boot options: answered parameter "
                                          f"{data[1] & 0x7F}, asked for 5")
        flags, selector = data[2], (data[3] >> 2) & 0x0F
        valid = bool(flags & 0x80) and not data[1] & 0x80
        device = _SELECTOR_NAMES.get(selector) if valid and selector else None
        return BootSetting(device=device, persistent=bool(flags & 0x40) if valid else False,
                           uefi=bool(flags & 0x20))

    def set_boot(self, device: str | None, persistent: bool, uefi: bool) -> None:
        """Write boot flags (parameter 5). ``device`` None clears the override but keeps the mode bit."""
        # stop the BMC's 60-second timer from clearing the flags before the machine boots (parameter 3)
        self._raw("set boot flag valid bit clearing", 0x00, 0x08, (0x03, 0x08))
        if device is None:
            flags, selector = (0x20 if uefi else 0x00), 0
        else:
            flags = 0x80 | (0x40 if persistent else 0) | (0x20 if uefi else 0)
            selector = BOOT_SELECTORS[device]
        self._raw(f"set boot device {device or 'none'}", 0x00, 0x08, (0x05, flags, selector << 2, 0, 0, 0))

    # --- sensors ----------------------------------------------------------------------------------------------
    def sensors(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{sensor type: {sensor name: {value, units, health, states}}}`` from the SDR repository."""
        if self.access.bridge:
            raise errors.BMCCommandError(bmc=self.access.bmc, command="read sensors",
                                         reason="sensor readout through a bridge is not supported")

        def operation(ipmi: ipmi_command.Command) -> dict[str, dict[str, dict[str, Any]]]:
            out: dict[str, dict[str, dict[str, Any]]] = {}
            for reading in ipmi.get_sensor_data():
                entry = {"value": getattr(reading, "value", None), "units": getattr(reading, "units", ""),
                         "health": _health(getattr(reading, "health", 0)),
                         "states": list(getattr(reading, "states", []) or []),
                         "unavailable": bool(getattr(reading, "unavailable", 0))}
                out.setdefault(str(reading.type), {})[str(reading.name)] = entry
            return out

        result: dict[str, dict[str, dict[str, Any]]] = self._call("read sensors", operation)
        return result


def _logout(command: ipmi_command.Command) -> None:
    """Close the session (one unacknowledged Close Session; pyghmi does not wait for the answer)."""
    try:
        command.ipmi_session.logout()
    except Exception:  # noqa: BLE001 - best effort: the BMC expires the session by itself otherwise
        return


def _health(value: int) -> str:
    if value & 0b100:
        return "failed"
    if value & 0b010:
        return "critical"
    if value & 0b001:
        return "warning"
    return "ok"

