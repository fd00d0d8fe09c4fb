"""Node firmware components (``GET /v1/nodes/{node}/firmware``, API 1.86; identity fields 1.114) through HTTP,
SQLite and PostgreSQL, with fake-hardware's ``fake`` firmware interface (drivers/firmware/fake.py): the cache is
filled when cleaning starts and refreshed by the manual clean step ``firmware.update``; the
``openstack baremetal node firmware list`` command reads it."""

from __future__ import annotations

import json

import pytest

from ironworks import states
from tests.api.helpers import baremetal_cli, fault
from tests.conductor.helpers import enroll, move, provision, settle


def _update(api, node: str, settings) -> dict:
    step = {"interface": "firmware", "step": "update", "args": {"settings": settings}}
    r = provision(api, node, "clean", clean_steps=[step], disable_ramdisk=True)
    assert r.status_code == 202, r.text
    return settle(api, node)


def _manageable(api, **fields) -> str:
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", **fields})
    assert r.status_code == 201, r.text
    node = r.json()["uuid"]
    move(api, node, "manage")
    return node


def _by_component(api, node: str, query: str = "") -> dict[str, dict]:
    r = api.get(f"/v1/nodes/{node}/firmware{query}")
    assert r.status_code == 200, r.text
    return {c["component"]: c for c in r.json()["firmware"]}


def test_update_step_flashes_and_the_cache_follows(api):
    node = _manageable(api)
    assert api.get(f"/v1/nodes/{node}/firmware").json() == {"firmware": []}  # nothing read yet
    shown = _update(api, node, [{"component": "bios", "url": "https://fw.example.org/bios/bios-1.2.0.bin"}])
    assert shown["provision_state"] == states.MANAGEABLE and shown["last_error"] is None, shown
    items = _by_component(api, node)
    assert set(items) == {"bios", "bmc", "nic:NIC.Slot.1"}
    assert items["bios"]["initial_version"] == "1.0.0"  # cached when cleaning started, before the flash
    assert (items["bios"]["current_version"], items["bios"]["last_version_flashed"]) == ("1.2.0", "1.2.0")
    assert items["bios"]["created_at"] and items["bios"]["updated_at"]
    assert items["bmc"] == {
        **items["bmc"],
        "initial_version": "2.10.1",
        "current_version": "2.10.1",
        "last_version_flashed": None,
        "updated_at": None,
    }
    created = items["bios"]["created_at"]

    _update(
        api,
        node,
        [
            {"component": "bmc", "url": "http://fw.example.org/bmc.bin", "version": "2.11.0"},
            {"component": "bios", "url": "http://fw.example.org/bios-1.3.1.bin"},
        ],
    )
    items = _by_component(api, node)
    assert (items["bios"]["initial_version"], items["bios"]["current_version"]) == ("1.0.0", "1.3.1")
    assert items["bios"]["created_at"] == created
    assert (items["bmc"]["current_version"], items["bmc"]["last_version_flashed"]) == ("2.11.0", "2.11.0")


@pytest.mark.parametrize(
    "settings",
    [
        [{"component": "raid-controller", "url": "http://fw.example.org/r.bin"}],
        [{"component": "bios", "url": "file:///etc/passwd"}],
        [{"component": "bios", "url": "ftp://fw.example.org/b.bin"}],
        [{"component": "bios"}],
        [{"component": "bios", "url": "http://fw.example.org/b.bin", "password": "x"}],
        [{"component": "bios", "url": "http://fw.example.org/" + "b" * 5000}],
        [],
        "bios",
    ],
)
def test_bad_update_fails_the_step_and_flashes_nothing(api, settings):
    node = _manageable(api)
    shown = _update(api, node, settings)
    assert shown["provision_state"] == states.CLEANFAIL, shown
    assert shown["last_error"] and len(shown["last_error"]) < 2000
    items = _by_component(api, node)  # the cache read when cleaning started: factory versions
    assert items["bios"]["current_version"] == "1.0.0" and items["bios"]["last_version_flashed"] is None


def test_version_boundaries_and_query(service, api):
    node = _manageable(api)
    _update(api, node, [{"component": "bmc", "url": "http://fw.example.org/bmc-3.0.bin"}])
    with service.client("1.85") as c:
        assert c.get(f"/v1/nodes/{node}/firmware").status_code == 404
    with service.client("1.86") as c:
        items = _by_component(c, node)
        assert set(items["nic:NIC.Slot.1"]) == {
            "created_at",
            "updated_at",
            "component",
            "initial_version",
            "current_version",
            "last_version_flashed",
        }
        only = _by_component(c, node, "?fields=component,current_version")
        assert set(only["bmc"]) == {"created_at", "updated_at", "component", "current_version"}
    with service.client("1.113") as c:
        r = c.get(f"/v1/nodes/{node}/firmware?fields=component,vendor,model")
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == (
            "Fields model, vendor are not allowed in this API version. They require at least API version 1.114."
        )
    with service.client("1.114") as c:
        nic = _by_component(c, node)["nic:NIC.Slot.1"]
        assert (nic["vendor"], nic["model"], nic["serial_number"]) == ("Fake Networks", "FN-25G", "FN0001")
        assert _by_component(c, node)["bios"]["model"] is None
        bmc = _by_component(c, node, "?fields=component,model")["bmc"]
        assert set(bmc) == {"created_at", "updated_at", "component", "model"} and bmc["model"] == "Fake BMC"
        # Ironic's code passes no field list with detail=true: only the timestamps remain
        detail = c.get(f"/v1/nodes/{node}/firmware?detail=true").json()["firmware"]
        assert detail and all(set(item) == {"created_at", "updated_at"} for item in detail)
        for bad in (
            "?fields=bogus",
            "?fields=component&detail=true",
            "?detail=maybe",
            "?other=1",
            "?fields=" + "x" * 10_000,
        ):
            r = c.get(f"/v1/nodes/{node}/firmware{bad}")
            assert r.status_code == 400, (bad, r.text)
            assert len(fault(r)["faultstring"]) < 1000
        assert c.get("/v1/nodes/no-such-node/firmware").status_code == 404


def test_no_firmware_interface_caches_nothing(api):
    node = _manageable(api, firmware_interface="no-firmware")
    r = provision(
        api, node, "clean", clean_steps=[{"interface": "deploy", "step": "erase_devices"}], disable_ramdisk=True
    )
    assert r.status_code == 202, r.text
    assert settle(api, node)["provision_state"] == states.MANAGEABLE
    assert api.get(f"/v1/nodes/{node}/firmware").json() == {"firmware": []}
    r = provision(
        api,
        node,
        "clean",
        disable_ramdisk=True,
        clean_steps=[{"interface": "firmware", "step": "update", "args": {"settings": []}}],
    )
    assert r.status_code == 400, r.text  # no such step on no-firmware: refused before any state change


def test_openstack_cli_firmware_list(service, api):
    node = _manageable(api)
    _update(api, node, [{"component": "bios", "url": "http://fw.example.org/bios-9.9.bin"}])
    cli = baremetal_cli(service.url)
    rows = json.loads(cli("node", "firmware", "list", node, "-f", "json"))
    by_name = {row["component"]: row for row in rows}
    assert by_name["bios"]["current_version"] == "9.9" and by_name["bios"]["initial_version"] == "1.0.0"
    assert by_name["bios"]["last_version_flashed"] == "9.9" and by_name["bmc"]["last_version_flashed"] is None


def test_firmware_rows_go_with_the_node(api):
    node = _manageable(api)
    _update(api, node, [{"component": "bios", "url": "http://fw.example.org/bios-2.bin"}])
    assert api.delete(f"/v1/nodes/{node}").status_code == 204
    again = enroll(api)
    assert api.get(f"/v1/nodes/{again}/firmware").json() == {"firmware": []}
