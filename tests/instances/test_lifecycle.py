"""An instance's state follows its node through failures, and its delete is a durable intent.

- a deploy that fails shows ``error`` with the node's last_error, and can still be deleted;
- a teardown whose cleaning fails shows ``error``; once an operator fixes the node, the next read finishes
  the delete (VIFs detached, row gone);
- a delete recorded just before the service died is finished by the restarted service's next read.
"""

from __future__ import annotations

from pathlib import Path

from ironworks.db.repos.instances import InstanceRepo
from tests.conductor.helpers import move, patch_info
from tests.fixtures.servers import ServiceUnderTest, make_settings
from tests.instances.helpers import ok, server_node, wait_instance, world

CREATE = {"name": "web-1", "flavor": "small", "image": "debian-12", "networks": ["web"]}


def test_failed_deploy_shows_error_and_can_be_deleted(api):
    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01", driver_info={"fake_fail_deploy": "disk on fire"})
    made = ok(api.post("/v1/instances", json=CREATE), 202)
    failed = wait_instance(api, made["uuid"], ("error",))
    assert "disk on fire" in failed["last_error"]
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["provision_state"] == "deploy failed"
    assert ok(api.delete(f"/v1/instances/{made['uuid']}"), 202)["state"] in ("deleting", "error")
    wait_instance(api, made["uuid"], ("gone",))
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert shown["provision_state"] == "available" and shown["instance_uuid"] is None
    assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []


def test_failed_teardown_is_finished_once_the_node_is_fixed(api):
    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    made = ok(api.post("/v1/instances", json=CREATE), 202)
    wait_instance(api, made["uuid"], ("active",))
    patch_info(api, node["uuid"], fake_fail_clean_step="wipe failed")
    ok(api.delete("/v1/instances/web-1"), 202)
    broken = wait_instance(api, "web-1", ("error",))
    assert "wipe failed" in broken["last_error"]
    # the VIF (and its address) is kept while the node is not back
    assert len(api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"]) == 1
    patch_info(api, node["uuid"], fake_fail_clean_step=None)
    move(api, node["uuid"], "manage")
    wait_instance(api, "web-1", ("gone",))
    assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []
    assert api.get("/v1/allocations").json()["allocations"] == []


def test_delete_intent_survives_a_restart(tmp_path: Path):
    settings = make_settings(str(tmp_path), f"sqlite:///{tmp_path}/iw.sqlite")
    first = ServiceUnderTest(settings).start()
    try:
        with first.client() as api:
            world(api)
            node = server_node(api, "gold-1", "52:54:00:00:01:01")
            made = ok(api.post("/v1/instances", json=CREATE), 202)
            wait_instance(api, made["uuid"], ("active",))
        # the process dies right after recording the intent, before anything else happened
        InstanceRepo(first.services.db).request_delete(made["uuid"])
    finally:
        first.stop()
    second = ServiceUnderTest(make_settings(str(tmp_path), settings.database_url)).start()
    try:
        with second.client() as api:
            assert api.get(f"/v1/nodes/{node['uuid']}").json()["provision_state"] == "active"
            listed = api.get("/v1/instances").json()["instances"]
            assert [(i["name"], i["state"]) for i in listed] == [("web-1", "deleting")]
            wait_instance(api, "web-1", ("gone",))
            shown = api.get(f"/v1/nodes/{node['uuid']}").json()
            assert shown["provision_state"] == "available" and shown["allocation_uuid"] is None
            assert api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []
    finally:
        second.stop()
