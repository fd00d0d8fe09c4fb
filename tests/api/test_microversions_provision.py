"""Provisioning requests of API 1.69–1.110 at their version boundary (fake-hardware, SQLite and PostgreSQL).

Below the version: 406 and nothing changes; at it: accepted and done, in Ironic's order of checks.
"""

from __future__ import annotations

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, patch_info, provision, settle

SLEEP = {"interface": "deploy", "step": "sleep", "args": {"seconds": 0}, "priority": 90}
ERASE_METADATA = [{"interface": "deploy", "step": "erase_devices_metadata"}]


def _available(api) -> str:
    node = enroll(api)
    move(api, node, "manage")
    move(api, node, "provide")
    return node


def test_deploy_steps_boundary(service, api):
    node = _available(api)
    with service.client("1.68") as c:
        r = provision(c, node, "active", deploy_steps=[SLEEP])
        assert r.status_code == 406, r.text
        fault(r)
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.AVAILABLE
    with service.client("1.73") as c:  # not with the 1.73 "deploy" alias (Ironic's quirk)
        assert provision(c, node, "deploy", deploy_steps=[SLEEP]).status_code == 400
        assert provision(c, node, "deploy", configdrive="Zm9v").status_code == 400
    with service.client("1.69") as c:
        assert provision(c, node, "active", deploy_steps=[SLEEP]).status_code == 202
    assert settle(api, node)["provision_state"] == states.ACTIVE


def test_disable_ramdisk_boundary(service, api):
    node = enroll(api)
    move(api, node, "manage")
    patch_info(api, node, fake_wait_clean=True)  # a cleaning that boots the ramdisk would park in clean wait
    body = {"clean_steps": ERASE_METADATA, "disable_ramdisk": True}
    with service.client("1.69") as c:
        r = provision(c, node, "clean", **body)
        assert r.status_code == 406, r.text
        fault(r)
    with service.client("1.70") as c:
        r = provision(c, node, "provide", disable_ramdisk=True)
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == "disable_ramdisk is supported only with manual cleaning or servicing"
        assert provision(c, node, "clean", **body).status_code == 202
    shown = settle(api, node)
    assert shown["provision_state"] == states.MANAGEABLE, shown
    assert "cleaning_disable_ramdisk" not in shown["driver_internal_info"]


def test_disable_ramdisk_refuses_steps_that_need_the_ramdisk(api):
    node = enroll(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/deploy_interface", "value": "direct"}])
    assert r.status_code == 200, r.text
    move(api, node, "manage")
    r = provision(api, node, "clean", clean_steps=ERASE_METADATA, disable_ramdisk=True)
    assert r.status_code == 400, r.text
    assert "requires booting a ramdisk" in fault(r)["faultstring"]
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.MANAGEABLE


def test_deploy_and_undeploy_verbs(service, api):
    node = _available(api)
    with service.client("1.72") as c:
        assert provision(c, node, "deploy").status_code == 406
    with service.client("1.73") as c:
        assert provision(c, node, "deploy").status_code == 202
    assert settle(api, node)["provision_state"] == states.ACTIVE
    with service.client("1.1") as c:  # Ironic checks "undeploy" under its event name: any version
        assert provision(c, node, "undeploy").status_code == 202
    assert settle(api, node)["provision_state"] == states.AVAILABLE


def test_unhold_and_service_are_checked_after_the_state_machine(service, api):
    node = _available(api)
    for version in ("1.84", "1.85"):  # no node is ever held: the state machine refuses first (400)
        with service.client(version) as c:
            r = provision(c, node, "unhold")
            assert r.status_code == 400, r.text
            assert "can not be performed" in fault(r)["faultstring"]
    move(api, node, "active")
    with service.client("1.86") as c:
        assert provision(c, node, "service", service_steps=[]).status_code == 406
    with service.client("1.87") as c:  # deploy.sleep is no service step: refused before any change
        r = provision(c, node, "service", service_steps=[{"interface": "deploy", "step": "sleep"}])
        assert r.status_code == 400, r.text
        assert "not supported" in fault(r)["faultstring"]
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.ACTIVE


def test_abort_in_deploy_wait_boundary(service, api):
    node = _available(api)
    patch_info(api, node, fake_wait_deploy=True)
    move(api, node, "active")
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.DEPLOYWAIT
    with service.client("1.109") as c:
        r = provision(c, node, "abort")
        assert r.status_code == 406, r.text
        fault(r)
    with service.client("1.110") as c:
        assert provision(c, node, "abort").status_code == 202
    shown = settle(api, node)
    assert shown["provision_state"] == states.DEPLOYFAIL and shown["last_error"]
