"""``ironworks demo``: the whole provisioning path on a fresh virtual lab, with the time of each phase.

1. ``lab up`` with N servers (two disks each) and its own service (see ``cluster.py``);
2. a whole-disk image: ``ironworks.images.build("tiny")`` when that module is available (it prints its
   hostname from the config drive), else a one-sector BIOS disk that prints ``IRONWORKS-DISK-BOOT``; it is
   served by the service's own boot file server inside the lab (``images/`` under its HTTP root);
3. for every server at once, through the HTTP API only: manage → inspect (the agent reports the hardware)
   → provide (automated cleaning: the agent erases the disks' metadata) → deploy with a config drive
   (hostname ``demo-N``) → wait until the server has booted from its disk and printed the image's marker on
   its serial console;
4. a table of each server's phases and their times; then ``lab down``, or with ``--keep`` how to reach the API
   and each console.

Software RAID-1 across a server's two disks is not part of it yet: it needs the ``debian`` image (the tiny
one's initramfs does not assemble md arrays).
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

from ironworks.lab import cluster
from ironworks.lab.state import LabState, Server

BIOS_MARKER = "IRONWORKS-DISK-BOOT"
# xor ax,ax; mov ds,ax; mov si,0x7c14; lodsb; or al,al; jz +6; mov ah,0x0e; int 0x10; jmp -11; jmp $
_BOOT_CODE = bytes.fromhex("31c08ed8be147cac08c07406b40ecd10ebf5ebfe")
TIMEOUT = 900.0


@dataclasses.dataclass(frozen=True)
class DemoOptions:
    lab_dir: Path
    servers: int = 2
    keep: bool = False
    port: int = 6385
    netns: str = "iwlab-demo"


@dataclasses.dataclass
class Phase:
    server: str
    name: str
    seconds: float
    result: str


def bios_disk_image(path: Path) -> Path:
    """A 4 MiB whole-disk image whose boot sector prints the marker through the BIOS (mirrored to serial)."""
    sector = bytearray(512)
    message = f"{BIOS_MARKER} bios\r\n".encode() + b"\0"
    sector[: len(_BOOT_CODE)] = _BOOT_CODE
    sector[0x14 : 0x14 + len(message)] = message
    sector[510:512] = b"\x55\xaa"
    with open(path, "wb") as handle:
        handle.write(sector)
        handle.truncate(4 << 20)
    return path


def image(directory: Path, say: Callable[[str], None]) -> tuple[Path, Callable[[str], tuple[str, ...]]]:
    """The image file in ``directory`` and, per hostname, the texts its boot prints on the console."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        from ironworks import images
    except ImportError:  # the images work is not installed: a disk that still proves the boot from disk
        return bios_disk_image(directory / "demo-disk.raw"), lambda _hostname: (f"{BIOS_MARKER} bios",)
    built = images.build("tiny", say=say)
    target = directory / f"tiny-{built.sha256_raw[:12]}.raw"
    if not target.exists():
        shutil.copyfile(built.raw, target)
    return target, lambda hostname: (images.marker_line(hostname),)


class Run:
    """One server's way through the phases (runs in its own thread)."""

    def __init__(
        self,
        lab: LabState,
        server: Server,
        image_url: str,
        checksum: str,
        marker: tuple[str, ...],
        say: Callable[[str], None],
    ) -> None:
        self.lab, self.server, self.say = lab, server, say
        self.image_url, self.checksum, self.marker = image_url, checksum, marker
        self.phases: list[Phase] = []
        self.console = Path(server.serial_log)
        self.mark = 0
        self.api = httpx.Client(base_url=lab.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=30)

    def _phase(self, name: str, target: str, done: tuple[str, ...], **extra: Any) -> bool:
        started = time.monotonic()
        self.say(f"{self.server.name}: {name}…")
        self.mark = self.console.stat().st_size if self.console.exists() else 0
        r = self.api.put(f"/v1/nodes/{self.server.node_uuid}/states/provision", json={"target": target, **extra})
        body: dict[str, Any] = {}
        if r.status_code == 202:
            deadline = started + TIMEOUT
            while time.monotonic() < deadline:
                body = self.api.get(f"/v1/nodes/{self.server.node_uuid}").json()
                if body["provision_state"] in done and body["reservation"] is None:
                    break
                time.sleep(1)
        ok = r.status_code == 202 and body.get("provision_state") == done[0]
        result = body.get("provision_state", "?") if ok else (body.get("last_error") or r.text or "timed out")
        if ok and target == "inspect":
            props = body.get("properties") or {}
            result = " ".join(f"{k}={props.get(k)}" for k in ("cpus", "memory_mb", "local_gb", "cpu_arch"))
        self.phases.append(Phase(self.server.name, name, time.monotonic() - started, str(result)))
        self.say(f"{self.server.name}: {name} {'done' if ok else 'FAILED'} in {self.phases[-1].seconds:.0f} s")
        return ok

    def _booted(self) -> bool:
        started = time.monotonic()
        self.say(f"{self.server.name}: waiting for {' + '.join(self.marker)!r} on the console…")
        while time.monotonic() < started + 300:
            with open(self.console, "rb") as handle:
                handle.seek(self.mark)  # from the start of the deploy
                text = handle.read().decode(errors="replace").rsplit("ironworks-init: finishing", 1)[-1]
                if all(part in text for part in self.marker):
                    self.phases.append(
                        Phase(self.server.name, "boot from disk", time.monotonic() - started, "marker seen")
                    )
                    return True
            time.sleep(0.5)
        self.phases.append(Phase(self.server.name, "boot from disk", time.monotonic() - started, "no marker"))
        return False

    def __call__(self) -> None:
        node = self.server.node_uuid
        r = self.api.patch(
            f"/v1/nodes/{node}",
            json=[
                {"op": "add", "path": "/instance_info/image_source", "value": self.image_url},
                {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
                {"op": "add", "path": "/instance_info/image_os_hash_value", "value": self.checksum},
            ],
        )
        if r.status_code != 200:
            self.phases.append(Phase(self.server.name, "instance_info", 0.0, r.text))
            return
        steps = [
            ("manage", "manage", ("manageable",), {}),
            ("inspect", "inspect", ("manageable", "inspect failed"), {}),
            ("provide (clean)", "provide", ("available", "clean failed"), {}),
            (
                "deploy",
                "active",
                ("active", "deploy failed"),
                {"configdrive": {"meta_data": {"uuid": node, "hostname": self.hostname}}},
            ),
        ]
        for name, target, done, extra in steps:
            if not self._phase(name, target, done, **extra):
                return
        self._booted()

    @property
    def hostname(self) -> str:
        return self.server.name.replace("lab-", "demo-")


def table(phases: list[Phase]) -> str:
    lines = [f"{'server':8} {'phase':18} {'time':>8}  result", "-" * 60]
    lines += [f"{p.server:8} {p.name:18} {p.seconds:7.1f}s  {p.result[:60]}" for p in phases]
    return "\n".join(lines)


def run(options: DemoOptions, say: Callable[[str], None] = print) -> int:
    say(f"bringing the lab up: {options.servers} servers, 2 disks each…")
    lab = cluster.up(
        cluster.LabOptions(
            lab_dir=options.lab_dir, servers=options.servers, disks=2, api_port=options.port, netns=options.netns
        ),
        say=say,
    )
    try:
        http_root = options.lab_dir / "service" / "netboot" / "http"
        path, marker_for = image(http_root / "images", say)
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        url = f"http://{lab.address.split('/')[0]}:{cluster.HTTP_PORT}/images/{path.name}"
        runs = []
        for server in lab.servers:
            hostname = server.name.replace("lab-", "demo-")
            runs.append(Run(lab, server, url, checksum, marker_for(hostname), say))
        threads = [threading.Thread(target=r, name=f"demo-{r.server.name}") for r in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        phases = [p for r in runs for p in r.phases]
        say(table(phases))
        ok = all(
            r.phases and r.phases[-1].name == "boot from disk" and r.phases[-1].result == "marker seen" for r in runs
        )
        if options.keep:
            say(f"the lab keeps running: API {lab.api_url}; `ironworks lab status --lab-dir {options.lab_dir}`")
            for server in lab.servers:
                say(f"  {server.name}: console {server.serial_log}")
            say(f"stop it with `ironworks lab down --lab-dir {options.lab_dir}`")
        return 0 if ok else 1
    finally:
        if not options.keep:
            cluster.down(options.lab_dir, say=say)
