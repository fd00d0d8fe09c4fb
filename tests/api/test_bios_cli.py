"""``openstack baremetal node bios setting list/show`` (python-ironicclient at its newest version) against
Ironworks, after a manual clean applied BIOS settings on fake-hardware."""

from __future__ import annotations

import json
import os
import subprocess

from ironworks import states
from tests.api.test_clients import _openstack_cli


def test_openstack_baremetal_node_bios_setting(service):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    base = [_openstack_cli(), "--os-auth-type", "none", "--os-endpoint", service.url]

    def cli(*args: str) -> str:
        proc = subprocess.run([*base, "baremetal", *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    node = json.loads(cli("node", "create", "--driver", "fake-hardware", "--name", "bios1", "-f", "json"))
    cli("node", "manage", "bios1", "--wait", "30")
    steps = [
        {
            "interface": "bios",
            "step": "apply_configuration",
            "args": {"settings": [{"name": "ProcVirtualization", "value": "Disabled"}]},
        }
    ]
    cli("node", "clean", "bios1", "--clean-steps", json.dumps(steps), "--disable-ramdisk", "--wait", "30")
    with service.client("1.115") as api:
        assert api.get(f"/v1/nodes/{node['uuid']}").json()["provision_state"] == states.MANAGEABLE
    listed = json.loads(cli("node", "bios", "setting", "list", "bios1", "-f", "json"))
    values = {s.get("Name", s.get("name")): s.get("Value", s.get("value")) for s in listed}
    assert values["ProcVirtualization"] == "Disabled" and values["BootMode"] == "Uefi"
    shown = json.loads(cli("node", "bios", "setting", "show", "bios1", "ProcVirtualization", "-f", "json"))
    assert shown["value"] == "Disabled" and shown["attribute_type"] == "Enumeration"
    assert shown["allowable_values"] == ["Enabled", "Disabled"]
    proc = subprocess.run(
        [*base, "baremetal", "node", "bios", "setting", "show", "bios1", "Nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode != 0 and "Nope" in proc.stderr
