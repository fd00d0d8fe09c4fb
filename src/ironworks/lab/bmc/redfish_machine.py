"""A small Redfish service in front of the same machines the IPMI BMCs drive (QEMU through QMP).

sushy-tools' fake driver has no real machine behind it and its libvirt driver needs libvirtd; the lab's servers
are QEMU processes owned by :class:`~ironworks.lab.bmc.machines.QemuMachine`. This server exposes each machine
as ``/redfish/v1/Systems/<uuid>`` with just what the Ironworks Redfish driver (sushy) uses:

* ``GET /redfish/v1/`` (service root), ``/redfish/v1/Systems`` (collection), ``/redfish/v1/Systems/<id>``
  (``PowerState``, ``Boot`` with ``BootSourceOverrideTarget``/``Enabled``/``Mode`` and their allowable values);
* ``POST …/Actions/ComputerSystem.Reset`` (``On``, ``ForceOff``, ``GracefulShutdown``, ``ForceRestart``,
  ``GracefulRestart``, ``PowerCycle``, ``Nmi`` refused);
* ``PATCH /redfish/v1/Systems/<id>`` with ``Boot`` (``Pxe`` → IPMI ``network``, ``Hdd`` → ``hd``, ``Cd``,
  ``BiosSetup``; ``Once`` consumed by the next boot, as on real firmware).

HTTP basic authentication (401 otherwise); unknown paths 404; bad values 400 with a Redfish error body.
Runs in a daemon thread of ``ironworks lab bmc --qemu … --redfish``; machines are thread-safe (an RLock).
"""

from __future__ import annotations

import base64
import hmac
import http.server
import json
import threading
from typing import Any

from ironworks.lab.bmc.machines import Machine
from ironworks.lab.bmc.redfish import system_uuid

TARGETS = {"None": "default", "Pxe": "network", "Hdd": "hd", "Cd": "optical", "BiosSetup": "setup"}
_DEVICE_TARGET = {device: target for target, device in TARGETS.items()}
RESETS = ("On", "ForceOff", "GracefulShutdown", "ForceRestart", "GracefulRestart", "PowerCycle")


def _error(message: str) -> dict[str, Any]:
    return {"error": {"code": "Base.1.0.GeneralError", "message": message}}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: RedfishMachineServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass

    def _send(self, status: int, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="ironworks-lab"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.server.username}:{self.server.password}".encode()).decode()
        given = self.headers.get("Authorization", "").removeprefix("Basic ").strip()
        return hmac.compare_digest(given, expected)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}") if length else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def _machine(self, path: str) -> tuple[str, Machine] | None:
        for uuid, machine in self.server.machines.items():
            if path.rstrip("/") == f"/redfish/v1/Systems/{uuid}":
                return uuid, machine
        return None

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/redfish/v1":
            self._send(
                200,
                {
                    "@odata.id": "/redfish/v1/",
                    "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
                    "Id": "RootService",
                    "Name": "Ironworks lab Redfish",
                    "RedfishVersion": "1.8.0",
                    "UUID": system_uuid(10_000),
                    "Systems": {"@odata.id": "/redfish/v1/Systems"},
                },
            )
            return
        if not self._authorised():
            self._send(401, _error("authentication required"))
            return
        if path == "/redfish/v1/Systems":
            members = [{"@odata.id": f"/redfish/v1/Systems/{uuid}"} for uuid in self.server.machines]
            self._send(
                200,
                {
                    "@odata.id": "/redfish/v1/Systems",
                    "Name": "Systems",
                    "Members": members,
                    "Members@odata.count": len(members),
                    "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
                },
            )
            return
        found = self._machine(path)
        if found is None:
            self._send(404, _error(f"{path} not found"))
            return
        self._send(200, self.server.system(*found))

    def do_PATCH(self) -> None:  # noqa: N802 - http.server's naming
        try:
            body = self._body()
        except ValueError as exc:
            self._send(400, _error(str(exc)))
            return
        found = self._machine(self.path)
        if not self._authorised():
            self._send(401, _error("authentication required"))
            return
        if found is None:
            self._send(404, _error(f"{self.path} not found"))
            return
        try:
            boot = body.get("Boot") or {}
            target, enabled = boot.get("BootSourceOverrideTarget"), boot.get("BootSourceOverrideEnabled")
            if target is not None and target not in TARGETS:
                raise ValueError(f"BootSourceOverrideTarget {target!r} is not allowed")
            if enabled is not None and enabled not in ("Once", "Continuous", "Disabled"):
                raise ValueError(f"BootSourceOverrideEnabled {enabled!r} is not allowed")
        except ValueError as exc:
            self._send(400, _error(str(exc)))
            return
        machine = found[1]
        if target is not None:
            machine.boot_device = TARGETS[target]
        if enabled is not None:
            machine.boot_persistent = enabled == "Continuous"
            if enabled == "Disabled":
                machine.boot_device = "default"
        if boot.get("BootSourceOverrideMode") in ("UEFI", "Legacy"):
            machine.boot_uefi = boot["BootSourceOverrideMode"] == "UEFI"
        self._send(204)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        try:
            kind = self._body().get("ResetType")
        except ValueError as exc:
            self._send(400, _error(str(exc)))
            return
        if not self._authorised():
            self._send(401, _error("authentication required"))
            return
        base, _, action = self.path.rstrip("/").rpartition("/Actions/")
        found = self._machine(base)
        if found is None or action != "ComputerSystem.Reset":
            self._send(404, _error(f"{self.path} not found"))
            return
        if kind not in RESETS:
            self._send(400, _error(f"ResetType {kind!r} is not allowed"))
            return
        machine = found[1]
        {
            "On": machine.power_on,
            "ForceOff": machine.power_off,
            "GracefulShutdown": machine.power_soft,
            "ForceRestart": machine.power_reset,
            "GracefulRestart": machine.power_reset,
            "PowerCycle": machine.power_cycle,
        }[kind]()
        self._send(204)


class RedfishMachineServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, machines: list[Machine], username: str, password: str, address: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__((address, port), _Handler)
        self.machines = {system_uuid(i): machine for i, machine in enumerate(machines)}
        self.username, self.password = username, password

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}" if isinstance(host, str) else f"http://{host.decode()}:{port}"

    def system_path(self, index: int) -> str:
        return f"/redfish/v1/Systems/{system_uuid(index)}"

    def system(self, uuid: str, machine: Machine) -> dict[str, Any]:
        power = machine.power_state()
        path = f"/redfish/v1/Systems/{uuid}"
        override = machine.boot_device != "default"
        return {
            "@odata.id": path,
            "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
            "Id": uuid,
            "Name": uuid,
            "UUID": uuid,
            "PowerState": "On" if power == "on" else "Off",
            "Status": {"State": "Enabled", "Health": "OK"},
            "Boot": {
                "BootSourceOverrideEnabled": ("Continuous" if machine.boot_persistent else "Once")
                if override
                else "Disabled",
                "BootSourceOverrideTarget": _DEVICE_TARGET.get(machine.boot_device, "None"),
                "BootSourceOverrideTarget@Redfish.AllowableValues": list(TARGETS),
                "BootSourceOverrideMode": "UEFI" if machine.boot_uefi else "Legacy",
            },
            "Actions": {
                "#ComputerSystem.Reset": {
                    "target": f"{path}/Actions/ComputerSystem.Reset",
                    "ResetType@Redfish.AllowableValues": list(RESETS),
                }
            },
        }

    def start(self) -> RedfishMachineServer:
        threading.Thread(target=self.serve_forever, name="redfish-machines", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
