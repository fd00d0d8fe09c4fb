"""``ironworks lab up | down | status``: a persistent virtual lab of QEMU servers with BMCs, and its service.

``up`` builds, in this order (and undoes all of it if a step fails):

1. the deploy ramdisk (``lab/ramdisk``, cached by its inputs);
2. network namespace ``iwlab-lab`` with the provisioning bridge ``br0`` (10.213.0.1/24 and an IPv6 ULA for
   router advertisements; VLAN filtering when the kernel has it, else ``LabNetwork.add_segment`` bridges);
3. per server: a tap on the bridge, 1–2 sparse raw virtio disks, and its own BMC emulator
   (``python -m ironworks.lab.bmc.runner --qemu …``) on 127.0.0.1 that starts QEMU (TCG, virtio NIC with a
   known MAC, serial console appended to ``<server>/console.log``) *inside* the namespace on power on;
4. the agent relay (``lab/apiproxy.py``): ``10.213.0.1:6385`` inside the namespace → the API on 127.0.0.1, so
   the ramdisk agent reaches the service without any route out of the namespace. It passes only the agent's
   calls, each with the machine's real address in ``X-Forwarded-For`` and the key of ``<lab>/relay.key``
   (0600), which the service trusts through ``agent_relay_key_file``; BMC passwords go to the emulators in
   their environment, never on a command line;
5. unless ``--api`` names a running service: the service itself (``ironworks serve --config
   <lab>/service.toml``), whose netboot (dnsmasq + file server) runs on ``br0`` in the namespace;
6. enrollment through the HTTP API: one ``ipmi`` (``--bmc redfish``: ``redfish``) node per server (``ipxe``
   boot, ``direct`` deploy, agent RAID/inspect) with its port.

Every process is started in its own session and recorded (pid + command-line marker) in ``lab.json``; ``down``
stops exactly those, deletes the namespace (whatever still runs inside dies with it) and the disks.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ironworks.lab import state as lab_state
from ironworks.lab.bmc.options import PASSWORD_ENV
from ironworks.lab.network import LabNetwork, delete_namespace
from ironworks.lab.qemu import OVMF_VARS, Disk, Nic, TapNet, VmSpec, command_line
from ironworks.lab.state import LabState, Proc, Server

DEFAULT_NETNS = "iwlab-lab"  # not iwlab-<pid>-…: LabNetwork.sweep_stale must not take it for a leftover
ADDRESS = "10.213.0.1/24"
IPV6 = "fd5e:1b0a:77::1/64"
IPV6_PREFIX = "fd5e:1b0a:77::/64"
RELAY_PORT = 6385
HTTP_PORT = 8080


class LabError(RuntimeError):
    """The lab cannot be brought up (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class LabOptions:
    lab_dir: Path
    servers: int = 2
    disks: int = 1
    uefi: bool = False
    bmc: str = "ipmi"
    #: URL of a running service to enroll into (127.0.0.1 only); empty: the lab starts its own
    api: str = ""
    #: port of the service the lab starts
    api_port: int = 6385
    netns: str = DEFAULT_NETNS
    memory_mb: int = 1024
    disk_mib: int = 4096
    enroll: bool = True
    #: (kernel, initrd) of the deploy ramdisk; None: build it (or take it from the shared cache)
    ramdisk: tuple[Path, Path] | None = None
    #: more settings for the service the lab starts (e.g. ``switches_file``: see :func:`switch_toml`)
    extra_settings: tuple[tuple[str, Any], ...] = ()


def server_mac(index: int) -> str:
    return f"52:54:00:1a:{index:02x}:01"


def _wait(predicate: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise LabError(f"{what} did not happen within {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


def _spawn(
    argv: list[str], log: Path, stdout: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    if stdout is not None:
        stdout.touch(mode=0o600)  # the BMC's announcement names its password
        stdout.chmod(0o600)
    with open(log, "ab") as err, open(stdout or log, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            env=None if env is None else {**os.environ, **env},
        )


def _secret_file(path: Path) -> Path:
    """A fresh random key in ``path`` (0600): the relay's key, which the lab's service trusts."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def _ramdisk(options: LabOptions, say: Callable[[str], None]) -> tuple[Path, Path]:
    if options.ramdisk is not None:
        return options.ramdisk
    from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir

    built = build_ramdisk(shared_cache_dir(), say=say)
    return built.kernel, built.initrd


def _check_host(options: LabOptions) -> None:
    import os

    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, taps)")
    missing = [t for t in ("ip", "dnsmasq", "qemu-system-x86_64") if shutil.which(t) is None]
    if missing:
        raise LabError(f"not installed: {', '.join(missing)} (see scripts/apt-packages.txt)")
    if options.bmc not in ("ipmi", "redfish"):
        raise LabError("--bmc must be ipmi or redfish")
    if not 1 <= options.servers <= 32 or options.disks not in (1, 2):
        raise LabError("--servers must be 1..32 and --disks 1 or 2")
    if options.api and not options.api.startswith("http://127.0.0.1:"):
        raise LabError("--api must be http://127.0.0.1:PORT: the lab relays to the host's loopback only")


def _server(options: LabOptions, net: LabNetwork, index: int) -> Server:
    name = f"lab-{index}"
    workdir = options.lab_dir / name
    workdir.mkdir(parents=True, exist_ok=True)
    tap = net.add_tap(f"tap{index}")
    disks = []
    for j in range(options.disks):
        disk = workdir / f"disk{j}.raw"
        with open(disk, "wb") as handle:
            handle.truncate(options.disk_mib << 20)
        disks.append(Disk(disk, "raw", serial=f"{name}-d{j}", id=f"disk{j}", bootindex=1 + j, cache="unsafe"))
    mac = server_mac(index)
    spec = VmSpec(
        name=name,
        workdir=workdir,
        memory_mb=options.memory_mb,
        firmware="uefi" if options.uefi else "bios",
        disks=tuple(disks),
        nics=(Nic(mac, TapNet(tap), id="net0", bootindex=9),),
        serial_append=True,
    )
    if options.uefi and not spec.uefi_vars.exists():
        shutil.copyfile(OVMF_VARS, spec.uefi_vars)
    qemu = ["ip", "netns", "exec", net.name, *command_line(spec)]
    password = secrets.token_urlsafe(12)
    announce = workdir / "bmc.json"
    announce.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "ironworks.lab.bmc.runner",
        "--count",
        "1",
        "--qemu",
        shlex.join(qemu),
        "--workdir",
        str(workdir),
        "--username",
        "admin",
        "--address",
        "127.0.0.1",
        *(["--redfish"] if options.bmc == "redfish" else []),
    ]
    # the password in the child's environment, never on its command line (ps shows those to every user)
    proc = _spawn(argv, workdir / "bmc.log", stdout=announce, env={PASSWORD_ENV: password})
    _wait(
        lambda: announce.exists() and announce.read_text().endswith("\n"),
        30,
        f"BMC of {name} starting",
        workdir / "bmc.log",
    )
    import json

    announced = json.loads(announce.read_text())
    described = announced["ipmi"][0]
    redfish = announced.get("redfish") or {}
    return Server(
        name=name,
        macs=(mac,),
        tap=tap,
        disks=tuple(str(d.path) for d in disks),
        serial_log=str(spec.serial_log),
        workdir=str(workdir),
        bmc=options.bmc,
        bmc_address=described["address"],
        bmc_port=int(described["port"]),
        redfish_url=str(redfish.get("url", "")),
        redfish_system=str((redfish.get("systems") or [""])[0]),
        bmc_username="admin",
        bmc_password=password,
        bmc_proc=Proc(proc.pid, f"--workdir {workdir}"),
    )


def relay_key_file(options: LabOptions) -> Path:
    return options.lab_dir / "relay.key"


def service_settings(options: LabOptions, net: LabNetwork, kernel: Path, initrd: Path) -> dict[str, Any]:
    """The settings the service needs to netboot the lab (written to service.toml, or printed for --api)."""
    return {
        "agent_relay_key_file": str(relay_key_file(options)),
        "netboot_interface": net.main.bridge,
        "netboot_address": str(net.main.ipv4),
        "netboot_netns": net.name,
        "netboot_ipv6_prefix": IPV6_PREFIX,
        "netboot_http_port": HTTP_PORT,
        "netboot_api_url": f"http://{net.main.ipv4.ip}:{RELAY_PORT}",
        "netboot_ping_check": False,
        "deploy_kernel": str(kernel),
        "deploy_ramdisk": str(initrd),
        # local deploy images are accepted only from these directories (images/local.py)
        "local_image_dirs": ",".join(sorted({str(kernel.parent.resolve()), str(initrd.parent.resolve())})),
    }


#: the switch name a lab port's ``local_link_connection`` (``switch_info``) gives for :func:`switch_toml`
LAB_SWITCH = "lab-switch"


def switch_toml(netns: str, provisioning_vlan: int) -> str:
    """A ``switches_file`` whose ``linux-bridge`` switch :data:`LAB_SWITCH` drives the lab's bridges.

    Per-VLAN bridges (``brv<vlan>``, made on first use) work on every kernel; the provisioning VLAN is the main
    bridge ``br0``, where the service's dnsmasq answers. A port's ``port_id`` is its server's tap.
    """
    return (
        f'[switches.{LAB_SWITCH}]\ndriver = "linux-bridge"\nbridge = "br0"\nnetns = "{netns}"\n'
        f'mode = "per-vlan-bridges"\nvlan_bridges = {{ "{provisioning_vlan}" = "br0" }}\n'
    )


def _toml(values: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v) if isinstance(v, int) else f'"{v}"'

    return "[ironworks]\n" + "".join(f"{k} = {value(v)}\n" for k, v in values.items())


def _start_service(options: LabOptions, settings: dict[str, Any]) -> tuple[Proc, Path, Path, str]:
    config = options.lab_dir / "service.toml"
    values = {"host": "127.0.0.1", "port": options.api_port, "state_dir": str(options.lab_dir / "service"), **settings}
    values.update(options.extra_settings)
    config.write_text(_toml(values))
    log = options.lab_dir / "service.log"
    proc = _spawn([sys.executable, "-m", "ironworks.cli", "serve", "--config", str(config)], log)
    url = f"http://127.0.0.1:{options.api_port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise LabError(f"the service exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            return httpx.get(f"{url}/v1/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait(answers, 60, "the service answering", log)
    return Proc(proc.pid, f"serve --config {config}"), config, log, url


def enroll(api_url: str, server: Server, kernel: Path, initrd: Path) -> str:
    """Create the node and its port through the HTTP API; returns the node's UUID."""
    headers = {"X-OpenStack-Ironic-API-Version": "latest"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as api:
        body = {
            "name": server.name,
            "driver": server.bmc,
            "boot_interface": "ipxe",
            "deploy_interface": "direct",
            "raid_interface": "agent",
            "inspect_interface": "agent",
            "driver_info": {**server.driver_info(), "deploy_kernel": str(kernel), "deploy_ramdisk": str(initrd)},
        }
        r = api.post("/v1/nodes", json=body)
        if r.status_code != 201:
            raise LabError(f"enrolling {server.name} failed: {r.status_code} {r.text}")
        uuid = str(r.json()["uuid"])
        for mac in server.macs:
            r = api.post("/v1/ports", json={"address": mac, "node_uuid": uuid, "pxe_enabled": True})
            if r.status_code != 201:
                raise LabError(f"enrolling the port {mac} of {server.name} failed: {r.status_code} {r.text}")
    return uuid


def up(options: LabOptions, say: Callable[[str], None] = print) -> LabState:
    """Bring the lab up (see the module docstring); on failure everything started so far is undone."""
    _check_host(options)
    existing = lab_state.load(options.lab_dir)
    if existing is not None and any(p.alive() for p in existing.processes()):
        raise LabError(f"a lab is already up in {options.lab_dir}: run `ironworks lab down` first")
    options.lab_dir.mkdir(parents=True, exist_ok=True)
    kernel, initrd = _ramdisk(options, say)
    delete_namespace(options.netns)  # a leftover of a lab whose `down` never ran
    net = LabNetwork(ADDRESS, IPV6, name=options.netns).create()
    partial = LabState(
        lab_dir=str(options.lab_dir),
        netns=net.name,
        bridge=net.main.bridge,
        address=ADDRESS,
        ipv6=IPV6,
        vlan_filtering=net.vlan_filtering,
        api_url=options.api,
        agent_api_url=f"http://{net.main.ipv4.ip}:{RELAY_PORT}",
        firmware="uefi" if options.uefi else "bios",
        servers=(),
    )
    lab_state.save(partial)
    try:
        _secret_file(relay_key_file(options))
        servers = []
        for index in range(options.servers):
            servers.append(_server(options, net, index))
            partial = dataclasses.replace(partial, servers=tuple(servers))
            lab_state.save(partial)
            say(f"server {servers[-1].name}: MAC {servers[-1].macs[0]}, BMC 127.0.0.1:{servers[-1].bmc_port}")
        settings = service_settings(options, net, kernel, initrd)
        if options.api:
            api_url = options.api
        else:
            service, config, log, api_url = _start_service(options, settings)
            partial = dataclasses.replace(
                partial, service_proc=service, service_config=str(config), service_log=str(log)
            )
            lab_state.save(partial)
            say(f"service: {api_url} (log {log})")
        target_port = api_url.rsplit(":", 1)[1].rstrip("/")
        relay_log = options.lab_dir / "relay.log"
        relay = _spawn(
            [
                sys.executable,
                "-m",
                "ironworks.lab.apiproxy",
                "--netns",
                net.name,
                "--listen",
                f"{net.main.ipv4.ip}:{RELAY_PORT}",
                "--target",
                f"127.0.0.1:{target_port}",
                "--key-file",
                str(relay_key_file(options)),
            ],
            relay_log,
        )
        partial = dataclasses.replace(
            partial, api_url=api_url, proxy_proc=Proc(relay.pid, f"apiproxy --netns {net.name}")
        )
        lab_state.save(partial)
        _wait(lambda: "relaying" in relay_log.read_text(errors="replace"), 15, "the API relay", relay_log)
        if options.enroll:
            enrolled = tuple(dataclasses.replace(s, node_uuid=enroll(api_url, s, kernel, initrd)) for s in servers)
            partial = dataclasses.replace(partial, servers=enrolled)
        lab_state.save(partial)
        if options.api:
            say("start (or restart) the service at --api with these settings to netboot the lab:")
            for key, value in settings.items():
                say(f"  IRONWORKS_{key.upper()}={value}")
        return partial
    except BaseException:
        down(options.lab_dir, say=lambda _line: None)
        raise


def down(lab_dir: Path, say: Callable[[str], None] = print) -> bool:
    """Stop exactly what ``up`` started, delete the namespace and the disks. False when no lab was recorded."""
    current = lab_state.load(lab_dir)
    if current is None:
        return False
    for proc in current.processes():
        proc.stop()
    if delete_namespace(current.netns):
        say(f"namespace {current.netns} deleted")
    for server in current.servers:
        for disk in server.disks:
            Path(disk).unlink(missing_ok=True)
    lab_state.remove(lab_dir)
    say(f"lab in {lab_dir} is down")
    return True
