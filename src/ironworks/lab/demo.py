"""``ironworks demo``: the whole provisioning path on a fresh virtual lab, with the time of each phase.

1. ``lab up`` with N servers (two virtio disks each) and its own service (see ``cluster.py``);
2. the ``tiny`` whole-disk image (``ironworks.images.build("tiny")``: it prints its hostname from the config
   drive and what its root is on), served by the service's own boot file server inside the lab;
3. for every server at once, through the HTTP API only:

   - manage → inspect (the agent reports the hardware);
   - on the first server (``raid``, the default), software RAID-1 across its two disks, as Ironic documents it
     for the ``agent`` RAID interface: ``PUT /states/raid`` with a ``target_raid_config`` (one RAID-1 root
     volume, ``controller: software``), then *manual* cleaning with ``raid.delete_configuration`` →
     ``deploy.erase_devices_metadata`` → ``raid.create_configuration`` (the RAID steps have priority 0 in
     Ironic, so automated cleaning never runs them), then ``automated_clean: false`` on that node before
     ``provide``: automated cleaning's ``erase_devices_metadata`` (priority 99) would zero the superblocks the
     manual clean just wrote. The deploy then writes the image onto the md array, the config drive inside it,
     and grub onto both members;
   - every other server: ``provide`` with automated cleaning (the agent erases the disks' metadata) and a plain
     deploy onto its first disk;
   - deploy with a config drive (hostname ``demo-N``) → wait until the server has booted from its disk and
     printed the image's marker on its serial console. For the RAID server the console must also say that the
     root is on a RAID-1 of two members, not degraded (``raid=raid1:2 members=vda3,vdb3 degraded=0``);
4. a table of each server's phases and their times; then ``lab down``, or with ``--keep`` how to reach the API
   and each console.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ironworks import images
from ironworks.lab import cluster
from ironworks.lab.state import LabState, Server

TIMEOUT = 900.0
BOOT_TIMEOUT = 600.0
RAID_TARGET: dict[str, Any] = {
    "logical_disks": [
        {"raid_level": "1", "size_gb": 0.25, "controller": "software", "volume_name": "root", "is_root_volume": True}
    ]
}
RAID_CLEAN_STEPS = [
    {"interface": "raid", "step": "delete_configuration"},
    {"interface": "deploy", "step": "erase_devices_metadata"},
    {"interface": "raid", "step": "create_configuration"},
]


@dataclasses.dataclass(frozen=True)
class DemoOptions:
    lab_dir: Path
    servers: int = 2
    keep: bool = False
    port: int = 6385
    netns: str = "iwlab-demo"
    #: software RAID-1 root across both disks of the first server
    raid: bool = True


@dataclasses.dataclass
class Phase:
    server: str
    name: str
    seconds: float
    result: str


def image(directory: Path, say: Callable[[str], None]) -> Path:
    """The tiny image, copied into ``directory`` (served by the lab service's boot file server)."""
    directory.mkdir(parents=True, exist_ok=True)
    built = images.build("tiny", say=say)
    target = directory / f"tiny-{built.sha256_raw[:12]}.raw"
    if not target.exists():
        shutil.copyfile(built.raw, target)
    return target


def healthy_raid1(report: images.ConsoleReport) -> bool:
    """The console says the root is on a RAID-1 assembled from two members, not degraded."""
    raid = report.raid or ""
    members = raid.split("members=", 1)[1].split()[0].split(",") if "members=" in raid else []
    return raid.startswith("raid1:2 ") and len(members) == 2 and raid.endswith("degraded=0")


class Run:
    """One server's way through the phases (runs in its own thread)."""

    def __init__(
        self, lab: LabState, server: Server, image_url: str, checksum: str, raid: bool, say: Callable[[str], None]
    ) -> None:
        self.lab, self.server, self.say, self.raid = lab, server, say, raid
        self.image_url, self.checksum = image_url, checksum
        self.phases: list[Phase] = []
        self.console = Path(server.serial_log)
        self.mark = 0
        #: the ``ironworks-os:`` lines of the boot from disk after the deploy (None until the marker was seen)
        self.report: images.ConsoleReport | None = None
        self.api = httpx.Client(base_url=lab.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=30)

    @property
    def hostname(self) -> str:
        return self.server.name.replace("lab-", "demo-")

    @property
    def node(self) -> str:
        return self.server.node_uuid

    def _record(self, name: str, started: float, result: str, ok: bool) -> bool:
        self.phases.append(Phase(self.server.name, name, time.monotonic() - started, result))
        self.say(f"{self.server.name}: {name} {'done' if ok else 'FAILED'} in {self.phases[-1].seconds:.0f} s")
        return ok

    def _phase(self, name: str, target: str, done: tuple[str, ...], **extra: Any) -> bool:
        started = time.monotonic()
        self.say(f"{self.server.name}: {name}…")
        self.mark = self.console.stat().st_size if self.console.exists() else 0
        r = self.api.put(f"/v1/nodes/{self.node}/states/provision", json={"target": target, **extra})
        body: dict[str, Any] = {}
        if r.status_code == 202:
            deadline = started + TIMEOUT
            while time.monotonic() < deadline:
                body = self.api.get(f"/v1/nodes/{self.node}").json()
                if body["provision_state"] in done and body["reservation"] is None:
                    break
                time.sleep(1)
        ok = r.status_code == 202 and body.get("provision_state") == done[0]
        result = body.get("provision_state", "?") if ok else (body.get("last_error") or r.text or "timed out")
        if ok and target == "inspect":
            props = body.get("properties") or {}
            result = " ".join(f"{k}={props.get(k)}" for k in ("cpus", "memory_mb", "local_gb", "cpu_arch"))
        if ok and target == "clean":
            root = ((body.get("raid_config") or {}).get("logical_disks") or [{}])[0]
            members = list(root.get("members") or ())
            ok = len(members) == 2
            result = f"raid{root.get('raid_level')} {root.get('device')} on {','.join(members)}"
        return self._record(name, started, str(result), ok)

    def _patch(self, name: str, ops: list[dict[str, Any]]) -> bool:
        r = self.api.patch(f"/v1/nodes/{self.node}", json=ops)
        return r.status_code == 200 or self._record(name, time.monotonic(), r.text, False)

    def _raid(self) -> bool:
        """Manual cleaning that builds ``target_raid_config``; then no automated clean that would erase it."""
        r = self.api.put(f"/v1/nodes/{self.node}/states/raid", json=RAID_TARGET)
        if r.status_code != 204:
            return self._record("raid config", time.monotonic(), r.text, False)
        if not self._phase("clean (RAID-1)", "clean", ("manageable", "clean failed"), clean_steps=RAID_CLEAN_STEPS):
            return False
        return self._patch("automated_clean", [{"op": "replace", "path": "/automated_clean", "value": False}])

    def _booted(self) -> bool:
        started = time.monotonic()
        marker = images.marker_line(self.hostname)
        self.say(f"{self.server.name}: waiting for {marker!r} on the console…")
        while time.monotonic() < started + BOOT_TIMEOUT:
            with open(self.console, "rb") as handle:
                handle.seek(self.mark)  # from the start of the deploy
                text = handle.read().decode(errors="replace").rsplit("ironworks-init: finishing", 1)[-1]
            if marker in text:
                self.report = images.parse_console(text)
                root = f"root {self.report.root_device} raid={self.report.raid}"
                ok = not self.raid or healthy_raid1(self.report)
                return self._record("boot from disk", started, f"marker seen, {root}", ok)
            time.sleep(0.5)
        return self._record("boot from disk", started, "no marker", False)

    def __call__(self) -> None:
        ops = [
            {"op": "add", "path": "/instance_info/image_source", "value": self.image_url},
            {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
            {"op": "add", "path": "/instance_info/image_os_hash_value", "value": self.checksum},
        ]
        if not self._patch("instance_info", ops):
            return
        if not self._phase("manage", "manage", ("manageable",)):
            return
        if not self._phase("inspect", "inspect", ("manageable", "inspect failed")):
            return
        if self.raid and not self._raid():
            return
        provide = "provide" if self.raid else "provide (clean)"
        if not self._phase(provide, "provide", ("available", "clean failed")):
            return
        drive = {"meta_data": {"uuid": self.node, "hostname": self.hostname}}
        if self._phase("deploy", "active", ("active", "deploy failed"), configdrive=drive):
            self._booted()

    @property
    def ok(self) -> bool:
        return (
            bool(self.phases)
            and self.phases[-1].name == "boot from disk"
            and self.report is not None
            and (not self.raid or healthy_raid1(self.report))
        )


def table(phases: list[Phase]) -> str:
    lines = [f"{'server':8} {'phase':18} {'time':>8}  result", "-" * 60]
    lines += [f"{p.server:8} {p.name:18} {p.seconds:7.1f}s  {p.result[:72]}" for p in phases]
    return "\n".join(lines)


@dataclasses.dataclass
class Outcome:
    lab: LabState
    runs: list[Run]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)


def execute(options: DemoOptions, say: Callable[[str], None] = print) -> Outcome:
    """Lab up, every server through its phases, the table; lab down unless ``options.keep``."""
    say(f"bringing the lab up: {options.servers} servers, 2 disks each…")
    lab = cluster.up(
        cluster.LabOptions(
            lab_dir=options.lab_dir, servers=options.servers, disks=2, api_port=options.port, netns=options.netns
        ),
        say=say,
    )
    try:
        path = image(options.lab_dir / "service" / "netboot" / "http" / "images", say)
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        url = f"http://{lab.address.split('/')[0]}:{cluster.HTTP_PORT}/images/{path.name}"
        runs = [Run(lab, s, url, checksum, options.raid and i == 0, say) for i, s in enumerate(lab.servers)]
        if options.raid:
            say(f"{lab.servers[0].name}: software RAID-1 root across both disks; the others: a plain deploy")
        threads = [threading.Thread(target=r, name=f"demo-{r.server.name}") for r in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for r in runs:
            r.api.close()
        say(table([p for r in runs for p in r.phases]))
        if options.keep:
            say(f"the lab keeps running: API {lab.api_url}; `ironworks lab status --lab-dir {options.lab_dir}`")
            for server in lab.servers:
                say(f"  {server.name}: console {server.serial_log}")
            say(f"stop it with `ironworks lab down --lab-dir {options.lab_dir}`")
        return Outcome(lab, runs)
    finally:
        if not options.keep:
            cluster.down(options.lab_dir, say=say)


def run(options: DemoOptions, say: Callable[[str], None] = print) -> int:
    """``ironworks demo``: 0 when every server printed its marker (and the RAID server a healthy RAID-1)."""
    return 0 if execute(options, say).ok else 1
