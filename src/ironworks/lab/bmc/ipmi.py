"""An IPMI 2.0 (RMCP+, "lanplus") BMC on a UDP port, built on pyghmi's server class, fronting a :class:`Machine`.

What it adds to pyghmi's ``Bmc``:

* chassis power control and status mapped onto the machine;
* boot options (parameter 5) with device, persistent and EFI bits kept and reported back, the one-time
  override consumed by the next boot (pyghmi's own ignores both bits);
* an SDR repository and Get Sensor Reading (``sdr.py``), and a spec-sized Get Device ID answer;
* RMCP+ hygiene pyghmi's server lacks (see LAB-NOTES): proposals other than cipher suite 3 (HMAC-SHA1,
  HMAC-SHA1-96, AES-CBC-128) are refused with status 11h so clients fall back instead of mis-keying, and an
  unknown user name gets RAKP2 status 0Dh instead of silence;
* fault injection (:class:`Fault`): ``no-answer`` drops every packet, ``wrong-password`` makes the BMC hold a
  different password than configured, ``ignore-power`` acknowledges power commands and does nothing,
  ``garbage`` answers every command after login with a malformed (empty) payload.

pyghmi's I/O is process-global and single-threaded: construct BMCs and call :func:`serve_forever` in one
process (``runner.py``); never in a process that also uses pyghmi as a client.
"""

from __future__ import annotations

import enum
import logging
import struct
import uuid
from typing import Any

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.private.constants as ipmi_constants
import pyghmi.ipmi.private.serversession as serversession
import pyghmi.ipmi.private.session as ipmisession

from ironworks.lab.bmc.machines import BOOT_DEVICES, Machine
from ironworks.lab.bmc.sdr import SensorRepository

LOG = logging.getLogger(__name__)

# IPMI boot device selector (boot flags data 2, bits 5:2) <-> machine boot device names
_SELECTOR_TO_DEVICE = {0x0: "default", 0x1: "network", 0x2: "hd", 0x3: "safe", 0x5: "optical", 0x6: "setup",
                       0xF: "floppy"}
_DEVICE_TO_SELECTOR = {name: selector for selector, name in _SELECTOR_TO_DEVICE.items()}
assert set(_DEVICE_TO_SELECTOR) == set(BOOT_DEVICES)

_RMCP_NO_CIPHER_MATCH = 0x11
_RMCP_UNAUTHORIZED_NAME = 0x0D


class Fault(enum.StrEnum):
    NO_ANSWER = "no-answer"
    WRONG_PASSWORD = "wrong-password"
    IGNORE_POWER = "ignore-power"
    GARBAGE = "garbage"


class _Session(serversession.ServerSession):
    """One client's RMCP+ session, with the cipher and user-name checks pyghmi's server skips."""

    bmc: EmulatedBmc

    def create_open_session_response(self, request: bytearray) -> bytearray:
        response = super().create_open_session_response(request)
        # each algorithm payload: type, 2 reserved, length (0 = "any"), algorithm
        proposals = [(request[11], request[12]), (request[19], request[20]), (request[27], request[28])]
        if any(length and algorithm != 1 for length, algorithm in proposals):
            return bytearray([request[0], _RMCP_NO_CIPHER_MATCH, 0, 0]) + self.clientsessionid
        return response

    def _forget(self) -> None:
        handlers = ipmisession.Session.bmc_handlers.get(self.sockaddr, {})
        if handlers.get(self.bmc.port) is self:
            del handlers[self.bmc.port]
            if not handlers:
                ipmisession.Session.bmc_handlers.pop(self.sockaddr, None)

    def sessionless_data(self, data: Any, sockaddr: Any) -> None:
        # packets queued to this session after it was forgotten belong to the BMC (a new login)
        self.bmc.sessionless_data(data, sockaddr)

    def close_server_session(self) -> None:
        # pyghmi's server keeps a closed session routed to its client port, so the client's next login from
        # that port lands in the stale session's state (sequence numbers, keys) and is dropped
        self._forget()

    def _handle_ipmi_packet(self, data: Any, sockaddr: Any = None, qent: Any = None) -> Any:
        # A sessionless IPMI 1.5 packet (a client starting a new login from a UDP port that already has a
        # session here). pyghmi's own handling forgets every session of that client port on *every* BMC of the
        # process, so one client's re-login to BMC A silently kills its established session to BMC B. Forget
        # only this BMC's session, then let the BMC answer the packet.
        if data[4] in (0, 2) and len(data) >= 13 and qent is not None \
                and bytes(data[5:13]) == b"\x00" * 8 and qent[2] in ipmisession.Session.bmc_handlers:
            self._forget()
            self.bmc.pktqueue.append(qent)
            self.bmc.process_pktqueue()
            return None
        return super()._handle_ipmi_packet(data, sockaddr, qent)

    def _got_rakp1(self, data: Any) -> None:
        namelen = data[27]
        name = bytes(data[28:28 + namelen]).decode("utf-8", "replace")
        if namelen and self.authdata.get(name) is None:
            self.send_payload(bytearray([data[0], _RMCP_UNAUTHORIZED_NAME, 0, 0]) + self.clientsessionid,
                              ipmi_constants.payload_types["rakp2"], retry=False)
            return
        super()._got_rakp1(data)


class EmulatedBmc(pyghmi_bmc.Bmc):
    """One BMC: ``address:port`` with one user, fronting ``machine``."""

    def __init__(self, machine: Machine, username: str, password: str, port: int = 0,
                 address: str = "127.0.0.1", faults: frozenset[Fault] = frozenset(), name: str = "bmc") -> None:
        self.faults = frozenset(faults)
        self.username = username
        held_password = password + "-changed" if Fault.WRONG_PASSWORD in self.faults else password
        super().__init__({username: held_password}, port=port, address=address, bmcuuid=uuid.uuid4())
        self.port = self.serversocket.getsockname()[1]  # port 0: the kernel's choice
        ipmisession.Session.bmc_handlers[self.serversocket] = {0: self}
        self.address = address
        self.machine = machine
        self.name = name
        self.sensors = SensorRepository()
        self.mfgid, self.prodid = 0x0, 0x1
        self.commands = 0  # handled commands, for tests and the lab's status output

    # --- packets ------------------------------------------------------------------------------------------
    def sessionless_data(self, data: Any, sockaddr: Any) -> None:
        if Fault.NO_ANSWER in self.faults:
            return
        packet = bytearray(data)
        if len(packet) >= 22 and packet[0] == 6 and packet[2:4] == b"\xff\x07" and packet[4] == 6 \
                and packet[5] == 16:
            _Session(self.authdata, self.kg, sockaddr, self.serversocket, packet[16:], self.uuid, bmc=self)
            return
        super().sessionless_data(data, sockaddr)

    def handle_raw_request(self, request: dict[str, Any], session: Any) -> None:
        self.commands += 1
        if Fault.GARBAGE in self.faults:
            session.send_ipmi_response(data=[])
            return
        netfn, command, data = request["netfn"], request["command"], bytes(request["data"])
        try:
            if netfn == 0x0A and command == 0x20:
                return session.send_ipmi_response(data=self.sensors.info())
            if netfn == 0x0A and command == 0x22:
                return session.send_ipmi_response(data=self.sensors.reserve())
            if netfn == 0x0A and command == 0x23:
                code, payload = self.sensors.get(data)
                return session.send_ipmi_response(code=code, data=payload)
            if netfn == 0x06 and command == 0x03:  # Warm Reset: acknowledged (the emulator keeps no state to lose)
                LOG.info("%s: BMC warm reset", self.name)
                return session.send_ipmi_response(code=0)
            if netfn == 0x04 and command == 0x2D:
                code, payload = self.sensors.read(data[0] if data else -1)
                return session.send_ipmi_response(code=code, data=payload)
        except Exception:  # noqa: BLE001 - a BMC answers "unspecified error", it does not die
            LOG.exception("%s: failed to handle netfn %#x command %#x", self.name, netfn, command)
            return session.send_ipmi_response(code=0xFF)
        super().handle_raw_request(request, session)

    def send_device_id(self, session: Any) -> None:
        # IPMI 2.0 table 20-2: 15 bytes (pyghmi's server sends 4-byte manufacturer and product ids)
        data = [0x20, 0x01, 0x01, 0x00, 0x02, 0x83]  # device id, rev, fw 1.00, IPMI 2.0, chassis+SDR+sensor
        data += list(struct.pack("<I", self.mfgid))[:3] + list(struct.pack("<H", self.prodid)) + [0, 0, 0, 0]
        session.send_ipmi_response(data=data)

    # --- chassis ------------------------------------------------------------------------------------------
    def get_power_state(self) -> str:
        return self.machine.power_state()

    def get_chassis_status(self, session: Any) -> None:
        on = self.machine.power_state() == "on"
        session.send_ipmi_response(data=[0x01 if on else 0x00, 0x00, 0x00, 0x00])

    def _power(self, action: str) -> int:
        if Fault.IGNORE_POWER in self.faults:
            LOG.info("%s: ignoring power %s (fault injected)", self.name, action)
            return 0
        LOG.info("%s: power %s", self.name, action)
        getattr(self.machine, f"power_{action}")()
        return 0

    def power_on(self) -> int:
        return self._power("on")

    def power_off(self) -> int:
        return self._power("off")

    def power_cycle(self) -> int:
        return self._power("cycle")

    def power_reset(self) -> int:
        return self._power("reset")

    def power_shutdown(self) -> int:
        return self._power("soft")

    def pulse_diag(self) -> int:
        """Chassis control 0x04: an NMI to the running machine; 0xD5 (not in the present state) when it is off."""
        if not self.machine.inject_nmi():
            return 0xD5
        LOG.info("%s: diagnostic interrupt (NMI)", self.name)
        return 0

    def cold_reset(self) -> int:
        LOG.info("%s: BMC cold reset", self.name)
        return 0

    def get_system_guid(self) -> uuid.UUID:
        return self.uuid

    def is_active(self) -> bool:
        return self.machine.power_state() == "on"

    # --- boot options -------------------------------------------------------------------------------------
    def get_system_boot_options(self, request: dict[str, Any], session: Any) -> None:
        param = request["data"][0] & 0x7F if request["data"] else -1
        machine = self.machine
        if param == 5:
            flags = 0x80 if machine.boot_device != "default" else 0x00
            flags |= 0x40 if machine.boot_persistent else 0x00
            flags |= 0x20 if machine.boot_uefi else 0x00
            selector = _DEVICE_TO_SELECTOR.get(machine.boot_device, 0)
            return session.send_ipmi_response(data=[0x01, 0x05, flags, selector << 2, 0, 0, 0])
        if param in (0, 3):
            return session.send_ipmi_response(data=[0x01, param, 0x00])
        if param == 4:
            return session.send_ipmi_response(data=[0x01, 0x04, 0x00, 0x00])
        session.send_ipmi_response(code=0x80)  # parameter not supported

    def set_system_boot_options(self, request: dict[str, Any], session: Any) -> None:
        data = request["data"]
        param = data[0] & 0x7F if data else -1
        if param in (0, 3, 4):
            return session.send_ipmi_response()
        if param != 5 or len(data) < 3:
            return session.send_ipmi_response(code=0x80 if param != 5 else 0xC7)
        flags, selector = data[1], (data[2] >> 2) & 0x0F
        device = _SELECTOR_TO_DEVICE.get(selector)
        if device is None:
            return session.send_ipmi_response(code=0xCC)
        machine = self.machine
        machine.boot_uefi = bool(flags & 0x20)
        if flags & 0x80:
            machine.boot_device, machine.boot_persistent = device, bool(flags & 0x40)
        else:
            machine.boot_device, machine.boot_persistent = "default", False
        LOG.info("%s: boot device %s persistent=%s uefi=%s", self.name, machine.boot_device,
                 machine.boot_persistent, machine.boot_uefi)
        session.send_ipmi_response()

    def close(self) -> None:
        ipmisession.Session.bmc_handlers.pop(self.serversocket, None)
        if self.serversocket in ipmisession.iosockets:
            ipmisession.iosockets.remove(self.serversocket)
        self.serversocket.close()
        self.machine.close()


def serve_forever(poll: float = 5.0) -> None:
    """Run pyghmi's event loop for every BMC constructed in this process."""
    while True:
        ipmisession.Session.wait_for_rsp(poll)
