"""openstacksdk's allocation calls work unchanged: create, wait, list, update, backfill-free release."""

from __future__ import annotations

import openstack
import pytest
from openstack import exceptions as sdk_exc

from tests.scheduler.helpers import available_node


@pytest.fixture
def conn(service):
    connection = openstack.connect(
        auth_type="none", baremetal_endpoint_override=service.url + "/", load_yaml_config=False, load_envvars=False
    )
    yield connection
    connection.close()


def test_sdk_allocation_lifecycle(conn, api):
    node = available_node(api, name="sdk-gold", resource_class="gold", traits=("CUSTOM_A",))
    alloc = conn.baremetal.create_allocation(
        resource_class="gold", traits=["CUSTOM_A"], name="sdk-alloc", owner="p1", extra={"k": "v"}
    )
    alloc = conn.baremetal.wait_for_allocation(alloc, timeout=30)
    assert alloc.state == "active" and alloc.node_id == node["uuid"] and alloc.owner == "p1"
    assert conn.baremetal.get_node(node["uuid"]).allocation_id == alloc.id
    assert [a.id for a in conn.baremetal.allocations(node=node["uuid"])] == [alloc.id]
    updated = conn.baremetal.update_allocation(alloc, name="renamed")
    assert updated.name == "renamed"
    conn.baremetal.delete_allocation(alloc)
    assert conn.baremetal.get_node(node["uuid"]).instance_id is None
    with pytest.raises(sdk_exc.NotFoundException):
        conn.baremetal.get_allocation(alloc.id)


def test_sdk_sees_a_failed_allocation(conn, api):
    available_node(api, resource_class="gold")
    alloc = conn.baremetal.create_allocation(resource_class="silver")
    with pytest.raises(sdk_exc.SDKException) as err:
        conn.baremetal.wait_for_allocation(alloc, timeout=30)
    assert "silver" in str(err.value)
