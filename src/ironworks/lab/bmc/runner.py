"""``ironworks lab bmc``: run N emulated IPMI BMCs (and optionally a Redfish emulator) in this process.

Once every socket is bound, one JSON line goes to stdout — the ports, user, password and any Redfish URL — so a
test or script that started the process knows where to connect; then pyghmi's loop runs until SIGTERM/SIGINT.
The password comes from ``--password-file`` or the environment (``IRONWORKS_LAB_BMC_PASSWORD``), never from the
command line, where ``ps`` would show it.

With ``qemu`` and ``redfish`` the Redfish service fronts the same QEMU machines (``redfish_machine.py``).

``faults`` entries are ``KIND`` (every BMC) or ``INDEX:KIND`` (the BMC with that index), KIND one of
``no-answer``, ``wrong-password``, ``ignore-power``, ``garbage``. ``qemu`` is a QEMU command line (without
``-qmp``); with it every BMC fronts its own QEMU process instead of a simulated server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from ironworks.lab.bmc import options
from ironworks.lab.bmc.ipmi import EmulatedBmc, Fault, serve_forever
from ironworks.lab.bmc.machines import Machine, QemuMachine, SimulatedMachine
from ironworks.lab.bmc.redfish import RedfishEmulator
from ironworks.lab.bmc.redfish_machine import RedfishMachineServer

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LabSpec:
    count: int = 1
    address: str = "127.0.0.1"
    base_port: int = 0  # 0: let the kernel choose each port
    username: str = "admin"
    password: str = "password"
    power: str = "off"
    faults: tuple[str, ...] = ()
    qemu: str = ""
    workdir: str = ""
    redfish: bool = False


def parse_faults(entries: tuple[str, ...], count: int) -> list[frozenset[Fault]]:
    """``("ignore-power", "2:no-answer")`` -> one fault set per BMC index. ValueError on a bad entry."""
    per_bmc: list[set[Fault]] = [set() for _ in range(count)]
    for entry in entries:
        index_text, _, kind = entry.rpartition(":")
        try:
            fault = Fault(kind)
        except ValueError:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(f.value for f in Fault)}") from None
        if not index_text:
            for faults in per_bmc:
                faults.add(fault)
            continue
        if not index_text.isdigit() or int(index_text) >= count:
            raise ValueError(f"fault {entry!r}: index must be 0..{count - 1}")
        per_bmc[int(index_text)].add(fault)
    return [frozenset(faults) for faults in per_bmc]


def build(spec: LabSpec) -> list[EmulatedBmc]:
    """Create and bind the BMCs of ``spec`` (the pyghmi loop is not started)."""
    faults = parse_faults(spec.faults, spec.count)
    workdir = Path(spec.workdir or tempfile.mkdtemp(prefix="ironworks-bmc-"))
    bmcs: list[EmulatedBmc] = []
    for index in range(spec.count):
        machine: Machine
        if spec.qemu:
            machine = QemuMachine(shlex.split(spec.qemu), workdir / f"bmc-{index}")
        else:
            machine = SimulatedMachine(power=spec.power)
        port = spec.base_port + index if spec.base_port else 0
        bmcs.append(
            EmulatedBmc(
                machine,
                spec.username,
                spec.password,
                port=port,
                address=spec.address,
                faults=faults[index],
                name=f"bmc-{index}",
            )
        )
    return bmcs


def describe(
    bmcs: list[EmulatedBmc], spec: LabSpec, redfish: RedfishEmulator | RedfishMachineServer | None
) -> dict[str, Any]:
    return {
        "ipmi": [
            {
                "index": i,
                "address": bmc.address,
                "port": bmc.port,
                "username": spec.username,
                "password": spec.password,
                "faults": sorted(f.value for f in bmc.faults),
            }
            for i, bmc in enumerate(bmcs)
        ],
        "redfish": None
        if redfish is None
        else {
            "url": redfish.url,
            "username": spec.username,
            "password": spec.password,
            "systems": [redfish.system_path(i) for i in range(spec.count)],
        },
    }


def run(spec: LabSpec) -> int:
    """Bind, announce on stdout, serve until a signal. Returns the exit status."""
    bmcs = build(spec)
    redfish: RedfishEmulator | RedfishMachineServer | None = None
    if spec.redfish and spec.qemu:  # the same QEMU machines as the IPMI BMCs, through Redfish
        redfish = RedfishMachineServer(
            [bmc.machine for bmc in bmcs], spec.username, spec.password, spec.address
        ).start()
    elif spec.redfish:
        redfish = RedfishEmulator(
            count=spec.count, username=spec.username, password=spec.password, address=spec.address
        ).start()

    def _stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    print(json.dumps(describe(bmcs, spec, redfish)), flush=True)
    try:
        serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        for bmc in bmcs:
            try:
                bmc.close()
            except Exception:  # noqa: BLE001 - best effort while exiting
                LOG.exception("closing %s", bmc.name)
        if redfish is not None:
            redfish.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m ironworks.lab.bmc.runner`` (the same options as ``ironworks lab bmc``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="ironworks-lab-bmc")
    options.add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def password_from(path: str) -> str:
    """The BMC password: from ``--password-file``, else the environment (``options.PASSWORD_ENV``), else the
    emulator's default. Never from the command line, which ``ps`` shows to every user."""
    if path:
        return Path(path).read_text().rstrip("\n")
    return os.environ.get(options.PASSWORD_ENV) or "password"


def run_from_args(args: Any) -> int:
    logging.basicConfig(level=str(args.log_level).upper(), stream=sys.stderr)
    if args.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return 2
    spec = LabSpec(
        count=args.count,
        address=args.address,
        base_port=args.base_port,
        username=args.username,
        password=password_from(args.password_file),
        power=args.power,
        faults=tuple(args.fault),
        qemu=args.qemu,
        workdir=args.workdir,
        redfish=args.redfish,
    )
    try:
        return run(spec)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
