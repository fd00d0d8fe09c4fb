"""Existing OpenStack clients work unchanged: openstacksdk and the ``openstack baremetal`` CLI."""

from __future__ import annotations

import json
import os
import subprocess

import openstack
import pytest
from openstack import exceptions as sdk_exc

from tests.api.helpers import openstack_cli


@pytest.fixture
def conn(service):
    connection = openstack.connect(auth_type="none", baremetal_endpoint_override=service.url + "/",
                                   load_yaml_config=False, load_envvars=False)
    yield connection
    connection.close()


def test_sdk_node_lifecycle(conn):
    node = conn.baremetal.create_node(driver="fake-hardware", name="sdk-node",
                                      driver_info={"ipmi_password": "pw"}, properties={"cpus": 4})
    assert node.provision_state == "enroll"
    assert node.driver_info["ipmi_password"] == "******"
    found = conn.baremetal.get_node("sdk-node")
    assert found.id == node.id
    updated = conn.baremetal.update_node(node, extra={"rack": "r7"}, resource_class="gold")
    assert updated.extra == {"rack": "r7"} and updated.resource_class == "gold"
    patched = conn.baremetal.patch_node(node, [{"op": "add", "path": "/properties/memory_mb", "value": 1024}])
    assert patched.properties == {"cpus": 4, "memory_mb": 1024}
    conn.baremetal.set_node_traits(node, ["CUSTOM_A", "CUSTOM_B"])
    assert sorted(conn.baremetal.get_node(node.id).traits) == ["CUSTOM_A", "CUSTOM_B"]
    conn.baremetal.set_node_maintenance(node, reason="testing")
    assert conn.baremetal.get_node(node.id).is_maintenance
    conn.baremetal.unset_node_maintenance(node)
    assert [n.name for n in conn.baremetal.nodes(resource_class="gold")] == ["sdk-node"]
    validation = conn.baremetal.validate_node(node, required=None)
    assert validation["power"].result is True
    conn.baremetal.delete_node(node)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.baremetal.get_node(node.id)


def test_sdk_pagination_and_details(conn):
    for i in range(5):
        conn.baremetal.create_node(driver="fake-hardware", name=f"p{i}")
    names = [n.name for n in conn.baremetal.nodes(details=True, limit=2)]
    assert sorted(names) == [f"p{i}" for i in range(5)]


def test_sdk_errors_are_parsed(conn):
    conn.baremetal.create_node(driver="fake-hardware", name="twice")
    with pytest.raises(sdk_exc.ConflictException) as err:
        conn.baremetal.create_node(driver="fake-hardware", name="twice")
    assert "already exists" in str(err.value)
    with pytest.raises(sdk_exc.BadRequestException):
        conn.baremetal.create_node(driver="no-such-driver")


def test_openstack_baremetal_cli_smoke(service):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    base = [openstack_cli(), "--os-auth-type", "none", "--os-endpoint", service.url]

    def cli(*args: str) -> str:
        proc = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    created = json.loads(cli("baremetal", "node", "create", "--driver", "fake-hardware", "--name", "cli-node",
                             "--property", "cpus=8", "-f", "json"))
    assert created["provision_state"] == "enroll"
    cli("baremetal", "node", "set", "cli-node", "--extra", "rack=r1", "--resource-class", "silver")
    shown = json.loads(cli("baremetal", "node", "show", "cli-node", "-f", "json"))
    assert shown["extra"] == {"rack": "r1"} and shown["resource_class"] == "silver"
    listed = json.loads(cli("baremetal", "node", "list", "-f", "json"))
    assert [n["name"] for n in listed] == ["cli-node"]
    cli("baremetal", "node", "delete", "cli-node")
    assert json.loads(cli("baremetal", "node", "list", "-f", "json")) == []
