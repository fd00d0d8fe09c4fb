"""The ``ironworks lab up | down | status`` commands: argument parsing and what they print (logic in cluster.py).

``status`` shows, per server: its node (name, UUID, provision state, when the API answers), MACs, BMC address
and user (the password is masked; it is in ``lab.json``, mode 0600), the power state as the BMC reports it
(Debian's ``ipmitool``), and the serial console log.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from ironworks.lab import state as lab_state
from ironworks.lab.state import Server

DEFAULT_LAB_DIR = "/var/lib/ironworks/lab"
MASK = "******"


def add_arguments(sub: Any) -> None:
    """Add ``up``, ``down`` and ``status`` to the ``lab`` sub-parsers."""
    up = sub.add_parser("up", help="start a virtual lab: QEMU servers with BMCs in a namespace, enrolled")
    up.add_argument("--servers", type=int, default=2, help="number of servers (default 2)")
    up.add_argument("--disks", type=int, choices=(1, 2), default=1, help="virtio disks per server (default 1)")
    up.add_argument("--uefi", action="store_true", help="UEFI firmware (OVMF) instead of SeaBIOS")
    up.add_argument("--bmc", choices=("ipmi", "redfish"), default="ipmi", help="BMC emulator kind (default ipmi)")
    up.add_argument(
        "--api", default="", help="enroll into this running service (http://127.0.0.1:PORT) instead of starting one"
    )
    up.add_argument("--port", type=int, default=6385, help="port of the service the lab starts (default 6385)")
    up.add_argument("--memory", type=int, default=1024, help="MiB of RAM per server (default 1024)")
    up.add_argument("--disk-size", type=int, default=4096, help="MiB per disk (default 4096)")
    up.add_argument("--netns", default="iwlab-lab", help="name of the lab's network namespace")
    up.add_argument("--no-enroll", action="store_true", help="do not create nodes and ports")
    for name, text in (("down", "stop the lab and delete its namespace"), ("status", "show the lab")):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--lab-dir", default=DEFAULT_LAB_DIR, help=f"lab state directory ({DEFAULT_LAB_DIR})")
    up.add_argument("--lab-dir", default=DEFAULT_LAB_DIR, help=f"lab state directory ({DEFAULT_LAB_DIR})")


def power_state(server: Server, timeout: float = 10.0) -> str:
    """``on`` / ``off`` as the server's BMC answers Debian's ipmitool, or why it could not be asked."""
    if shutil.which("ipmitool") is None:
        return "unknown (ipmitool missing)"
    argv = [
        "ipmitool",
        "-I",
        "lanplus",
        "-H",
        server.bmc_address,
        "-p",
        str(server.bmc_port),
        "-U",
        server.bmc_username,
        "-E",
        "-R",
        "1",
        "-N",
        "2",
        "chassis",
        "power",
        "status",
    ]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"IPMI_PASSWORD": server.bmc_password, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
        )
    except subprocess.TimeoutExpired:
        return "no answer"
    text = proc.stdout.strip()
    return text.rsplit(" ", 1)[-1] if proc.returncode == 0 and text else "no answer"


def _nodes(api_url: str) -> dict[str, dict[str, Any]]:
    try:
        r = httpx.get(
            f"{api_url}/v1/nodes",
            params={"detail": "true"},
            timeout=5,
            headers={"X-OpenStack-Ironic-API-Version": "latest"},
        )
    except httpx.HTTPError:
        return {}
    return {n["uuid"]: n for n in r.json().get("nodes", [])} if r.status_code == 200 else {}


def status(lab_dir: Path) -> list[dict[str, Any]] | None:
    current = lab_state.load(lab_dir)
    if current is None:
        return None
    nodes = _nodes(current.api_url) if current.api_url else {}
    rows = []
    for server in current.servers:
        node = nodes.get(server.node_uuid, {})
        rows.append(
            {
                "name": server.name,
                "node": server.node_uuid,
                "provision_state": node.get("provision_state"),
                "macs": list(server.macs),
                "bmc": f"redfish {server.redfish_url}{server.redfish_system}"
                if server.bmc == "redfish"
                else f"ipmi {server.bmc_address}:{server.bmc_port}",
                "bmc_user": server.bmc_username,
                "bmc_password": MASK,
                "bmc_running": server.bmc_proc.alive(),
                "power": power_state(server),
                "console": server.serial_log,
            }
        )
    return rows


def run_from_args(args: argparse.Namespace) -> int:
    from ironworks.lab import cluster

    lab_dir = Path(args.lab_dir)
    if args.lab_command == "up":
        options = cluster.LabOptions(
            lab_dir=lab_dir,
            servers=args.servers,
            disks=args.disks,
            uefi=args.uefi,
            bmc=args.bmc,
            api=args.api,
            api_port=args.port,
            netns=args.netns,
            memory_mb=args.memory,
            disk_mib=args.disk_size,
            enroll=not args.no_enroll,
        )
        try:
            current = cluster.up(options)
        except cluster.LabError as exc:
            print(f"lab up failed: {exc}")
            return 1
        print(
            f"lab up: {len(current.servers)} servers in namespace {current.netns}; API {current.api_url} "
            f"(from inside the lab: {current.agent_api_url}); state in {lab_state.path(lab_dir)}"
        )
        print("see them with `ironworks lab status`, stop everything with `ironworks lab down`")
        return 0
    if args.lab_command == "down":
        if not cluster.down(lab_dir):
            print(f"no lab recorded in {lab_dir}")
        return 0
    rows = status(lab_dir)
    if rows is None:
        print(f"no lab recorded in {lab_dir}")
        return 1
    recorded = lab_state.load(lab_dir)
    assert recorded is not None
    print(
        f"namespace {recorded.netns}, bridge {recorded.bridge} {recorded.address} (VLAN filtering: "
        f"{'on' if recorded.vlan_filtering else 'off, per-VLAN bridges'}), firmware {recorded.firmware}"
    )
    print(f"API {recorded.api_url}; agents use {recorded.agent_api_url}")
    for row in rows:
        print(
            f"{row['name']}: node {row['node'] or '-'} ({row['provision_state'] or 'unknown'}), "
            f"MAC {', '.join(row['macs'])}, BMC {row['bmc']} user {row['bmc_user']} password {row['bmc_password']}"
            f"{'' if row['bmc_running'] else ' (BMC NOT RUNNING)'}, power {row['power']}, "
            f"console {row['console']}"
        )
    return 0


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servers", type=int, default=2, help="number of servers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the lab running afterwards")
    parser.add_argument("--port", type=int, default=6385, help="port of the service (default 6385)")
    parser.add_argument("--lab-dir", default="/var/lib/ironworks/demo", help="lab state directory")
    parser.add_argument("--netns", default="iwlab-demo", help="name of the lab's network namespace")
    parser.add_argument(
        "--no-raid", action="store_true", help="no software RAID-1 on the first server (a plain deploy everywhere)"
    )


def run_demo(args: argparse.Namespace) -> int:
    from ironworks.images import ImageBuildError
    from ironworks.lab import cluster, demo
    from ironworks.lab.ramdisk import RamdiskBuildError

    options = demo.DemoOptions(
        lab_dir=Path(args.lab_dir),
        servers=args.servers,
        keep=args.keep,
        port=args.port,
        netns=args.netns,
        raid=not args.no_raid,
    )
    try:
        return demo.run(options)
    except (cluster.LabError, ImageBuildError, RamdiskBuildError) as exc:
        print(f"demo failed: {exc}")
        return 1
