"""Issue 8's lab check (``-m lab``): three QEMU servers on a ``linux-bridge`` switch, two in VLAN 100, one in 200.

``cluster.up`` brings up three servers behind IPMI BMCs in a fresh namespace, with the service configured with
the lab's switch (``cluster.switch_toml``: per-VLAN bridges ``brv<vlan>`` in the namespace, the provisioning
VLAN 10 being the main bridge ``br0`` where dnsmasq answers). Through the HTTP API only, the test then:

1. creates networks ``prov`` (VLAN 10: provisioning, cleaning), ``green`` (VLAN 100) and ``red`` (VLAN 200);
   green and red share one CIDR on purpose, so only the switch (L2), not routing, can keep red from green;
2. gives each node the ``vlan`` network interface and its port the ``local_link_connection`` of its tap on
   the lab switch, and attaches one VIF with a fixed IP (lab-0, lab-1 → green; lab-2 → red);
3. deploys all three at once with the ``tiny`` image and a config drive of ``meta_data.public_keys`` (one SSH
   key each) and a ``#!/bin/sh`` user_data; ``network_data`` is generated from the VIFs by the conductor.
   One ramdisk boot per server: automated cleaning is off.

The deployed tiny OS sets its hostname and authorized key from the drive, puts the fixed IP on the NIC with the
VIF's MAC, and runs the user_data, which pings the two other servers every few seconds for as long as the
server runs, printing ``lab-ping: round=N <ip>=reached|unreachable …`` on the serial console. Asserted on the
consoles: the green servers reach each other in a round printed after all three were up; red never reaches
either, in every round (at least three after all were up); each console shows its hostname, address and the
SSH key's fingerprint and comment. The switch ports end on ``brv100``/``brv200``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ironworks.lab import cluster
from ironworks.lab.state import LabState
from ironworks.netboot.httpd import FileServer
from tests.fixtures.servers import free_port

pytestmark = [pytest.mark.vm, pytest.mark.lab, pytest.mark.timeout(1800)]
IMAGE_PORT = 8081
PROVISIONING_VLAN = 10
#: server index -> (network, VLAN, fixed IP)
PLAN = {0: ("green", 100, "10.77.0.10"), 1: ("green", 100, "10.77.0.11"), 2: ("red", 200, "10.77.0.12")}
ROUND = re.compile(r"lab-ping: round=(\d+)((?: [0-9.]+=(?:reached|unreachable))+)\s*$")
# The user_data: a background loop, so the boot goes on to its marker while the rounds keep coming.
PINGER = """#!/bin/sh
(
    n=0
    while true; do
        n=$((n + 1))
        line=""
        for ip in {peers}; do
            result=unreachable
            ping -c 1 -W 1 "$ip" >/dev/null 2>&1 && result=reached
            line="$line $ip=$result"
        done
        echo "lab-ping: round=$n$line"
        sleep 2
    done
) </dev/null &
echo "lab-ping: started"
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq", "ssh-keygen"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lab_dir = tmp_path_factory.mktemp("lab")
    netns = f"iwlab-v{secrets.token_hex(3)}"
    switches = lab_dir / "switches.toml"
    switches.write_text(cluster.switch_toml(netns, PROVISIONING_VLAN))
    options = cluster.LabOptions(
        lab_dir=lab_dir,
        servers=3,
        api_port=free_port(),
        netns=netns,
        extra_settings=(("switches_file", str(switches)),),
    )
    current = cluster.up(options, say=lambda line: print(line, file=sys.stderr))
    try:
        yield current
    finally:
        cluster.down(lab_dir, say=lambda line: print(line, file=sys.stderr))


def _ok(r: httpx.Response, status: int = 201) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _ssh_key(directory: Path, comment: str) -> tuple[str, str]:
    """(public key line, its SHA256 fingerprint) of a fresh ed25519 key."""
    key = directory / f"id-{comment.split('@')[0]}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)], check=True)
    listed = subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], check=True, capture_output=True, text=True)
    return Path(f"{key}.pub").read_text().strip(), listed.stdout.split()[1]


def _rounds(text: str) -> list[dict[str, bool]]:
    found = []
    for raw in text.replace("\r", "").splitlines():
        m = ROUND.search(raw)
        if m:
            found.append({ip: result == "reached" for ip, result in (w.split("=") for w in m.group(2).split())})
    return found


def _master(netns: str, dev: str) -> str | None:
    out = subprocess.run(["ip", "-n", netns, "-j", "link", "show", "dev", dev], capture_output=True, text=True)
    return json.loads(out.stdout)[0].get("master")


def _prepare(api: httpx.Client, lab: LabState, keys: dict[str, tuple[str, str]]) -> None:
    """Networks; per node: the vlan interface, no automated cleaning, its port on the lab switch; manage."""
    _ok(
        api.post(
            "/v1/networks", json={"name": "prov", "vlan_id": PROVISIONING_VLAN, "roles": ["provisioning", "cleaning"]}
        )
    )
    for name, vlan in (("green", 100), ("red", 200)):
        _ok(api.post("/v1/networks", json={"name": name, "vlan_id": vlan, "cidr": "10.77.0.0/24"}))
    for server in lab.servers:
        node = server.node_uuid
        patch = [
            {"op": "replace", "path": "/network_interface", "value": "vlan"},
            {"op": "replace", "path": "/automated_clean", "value": False},
        ]
        _ok(api.patch(f"/v1/nodes/{node}", json=patch), 200)
        port = _ok(api.get(f"/v1/ports?node={node}"), 200)["ports"][0]
        llc = {"switch_id": "52:54:00:ff:00:10", "switch_info": cluster.LAB_SWITCH, "port_id": server.tap}
        _ok(
            api.patch(
                f"/v1/ports/{port['uuid']}", json=[{"op": "add", "path": "/local_link_connection", "value": llc}]
            ),
            200,
        )
        _ok(api.put(f"/v1/nodes/{node}/states/provision", json={"target": "manage"}), 202)
        keys[server.name] = _ssh_key(Path(lab.lab_dir), f"{server.name}@ironworks-lab")


def _wait_states(api: httpx.Client, nodes: list[str], done: tuple[str, ...], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        bodies = [api.get(f"/v1/nodes/{n}").json() for n in nodes]
        if all(b["provision_state"] in done and b["reservation"] is None for b in bodies):
            return bodies
        assert time.monotonic() < deadline, [(b["name"], b["provision_state"], b["last_error"]) for b in bodies]
        time.sleep(1)


def test_vlan_100_servers_reach_each_other_and_vlan_200_reaches_neither(lab: LabState, tmp_path: Path) -> None:
    from ironworks import images

    api = httpx.Client(base_url=lab.api_url, headers={"X-OpenStack-Ironic-API-Version": "latest"}, timeout=30)
    nodes = [s.node_uuid for s in lab.servers]
    keys: dict[str, tuple[str, str]] = {}
    _prepare(api, lab, keys)
    _wait_states(api, nodes, ("manageable",), 120)
    for node in nodes:
        _ok(api.put(f"/v1/nodes/{node}/states/provision", json={"target": "provide"}), 202)
    _wait_states(api, nodes, ("available",), 120)
    for index, server in enumerate(lab.servers):
        network, _vlan, ip = PLAN[index]
        vif = {"id": f"vif-{server.name}", "network": network, "fixed_ip": ip}
        _ok(api.post(f"/v1/nodes/{server.node_uuid}/vifs", json=vif), 204)

    built = images.build("tiny")
    www = tmp_path / "www"
    www.mkdir()
    image = www / built.raw.name
    shutil.copyfile(built.raw, image)
    checksum = hashlib.sha256(image.read_bytes()).hexdigest()
    address = lab.address.split("/")[0]
    consoles = [Path(s.serial_log) for s in lab.servers]
    marks = [len(c.read_bytes()) if c.exists() else 0 for c in consoles]
    started = time.monotonic()
    with FileServer(www, address, IMAGE_PORT, tmp_path / "images.log", netns=lab.netns):
        for index, server in enumerate(lab.servers):
            info = [
                {
                    "op": "add",
                    "path": "/instance_info/image_source",
                    "value": f"http://{address}:{IMAGE_PORT}/{image.name}",
                },
                {"op": "add", "path": "/instance_info/image_os_hash_algo", "value": "sha256"},
                {"op": "add", "path": "/instance_info/image_os_hash_value", "value": checksum},
            ]
            _ok(api.patch(f"/v1/nodes/{server.node_uuid}", json=info), 200)
            peers = " ".join(ip for j, (_n, _v, ip) in PLAN.items() if j != index)
            configdrive = {
                "meta_data": {"public_keys": {"lab": keys[server.name][0]}},
                "user_data": PINGER.replace("{peers}", peers),
            }
            body = {"target": "active", "configdrive": configdrive}
            _ok(api.put(f"/v1/nodes/{server.node_uuid}/states/provision", json=body), 202)
        bodies = _wait_states(api, nodes, ("active", "deploy failed"), 1200)
        deployed = time.monotonic() - started
    for body, console in zip(bodies, consoles, strict=True):
        assert body["provision_state"] == "active", (body["last_error"], console.read_text(errors="replace")[-3000:])

    def after(i: int) -> str:
        return consoles[i].read_bytes()[marks[i] :].decode(errors="replace")

    deadline = time.monotonic() + 300
    while not all(images.marker_line(s.name) in after(i) for i, s in enumerate(lab.servers)):
        assert time.monotonic() < deadline, [after(i)[-2000:] for i in range(3)]
        time.sleep(1)
    booted = time.monotonic() - started - deployed
    all_up = [len(c.read_bytes()) for c in consoles]  # rounds printed after this saw all three servers up

    for index, server in enumerate(lab.servers):
        report = images.parse_console(after(index))
        network, vlan, ip = PLAN[index]
        public_key, fingerprint = keys[server.name]
        assert report.hostname == server.name
        assert report.fields["addresses"] == f"eth0={ip}/24"
        assert report.ssh_keys == (f"ssh-ed25519 {fingerprint} {server.name}@ironworks-lab",)
        assert report.fields["user-data"] == "exit 0"
        node = api.get(f"/v1/nodes/{server.node_uuid}").json()
        assert node["driver_internal_info"]["switch_ports"]["ports"][0]["vlans"] == [vlan]
        assert _master(lab.netns, server.tap) == f"brv{vlan}"

    green, red = ("10.77.0.10", "10.77.0.11"), "10.77.0.12"
    deadline = time.monotonic() + 300
    while True:
        later = [_rounds(consoles[i].read_bytes()[all_up[i] :].decode(errors="replace")) for i in range(3)]
        reached = [any(r.get(peer) for r in later[i]) for i, peer in ((0, green[1]), (1, green[0]))]
        if all(reached) and len(later[2]) >= 3:
            break
        assert time.monotonic() < deadline, (reached, [after(i)[-1500:] for i in range(3)])
        time.sleep(2)
    every = [_rounds(after(i)) for i in range(3)]
    assert not any(r[red] for i in (0, 1) for r in every[i]), "a VLAN 100 server reached the VLAN 200 one"
    assert not any(r[g] for r in every[2] for g in green), "the VLAN 200 server reached a VLAN 100 one"
    print(
        f"\nlab VLANs: 3 servers deployed in parallel in {deployed:.1f} s; active → all markers {booted:.1f} s; "
        f"rounds after all up: {[len(r) for r in later]}",
        file=sys.stderr,
    )
