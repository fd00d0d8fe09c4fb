"""``openstack baremetal node bios setting list/show`` (python-ironicclient at its newest version) against
Ironworks, after a manual clean applied BIOS settings on fake-hardware."""

from __future__ import annotations

import json

from ironworks import states
from tests.api.helpers import baremetal_cli


def test_openstack_baremetal_node_bios_setting(service):
    cli = baremetal_cli(service.url)

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
    assert "Nope" in cli("node", "bios", "setting", "show", "bios1", "Nope", fails=True)
