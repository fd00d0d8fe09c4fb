"""BIOS settings (API 1.40, registry fields 1.74) through HTTP with fake-hardware, SQLite and PostgreSQL.

The ``fake`` BIOS interface simulates a firmware with an attribute registry (drivers/bios/fake.py); the manual
clean steps ``bios.apply_configuration`` / ``bios.factory_reset`` change it and refresh the cache that
``GET /v1/nodes/{node}/bios`` serves, and any cleaning refreshes it when it starts.
"""

from __future__ import annotations

from ironworks import states
from tests.api.helpers import fault
from tests.conductor.helpers import enroll, move, provision, settle


def _apply(api, node: str, settings) -> dict:
    step = {"interface": "bios", "step": "apply_configuration", "args": {"settings": settings}}
    r = provision(api, node, "clean", clean_steps=[step], disable_ramdisk=True)
    assert r.status_code == 202, r.text
    return settle(api, node)


def _manageable(api) -> str:
    node = enroll(api)
    move(api, node, "manage")
    return node


def test_version_gates_and_shapes(service, api):
    node = _manageable(api)
    with service.client("1.39") as c:
        assert c.get(f"/v1/nodes/{node}/bios").status_code == 404
        assert c.get(f"/v1/nodes/{node}/bios/NumCores").status_code == 404
    assert api.get(f"/v1/nodes/{node}/bios").json() == {"bios": []}  # nothing cached before the first read
    _apply(api, node, [{"name": "NumCores", "value": 16}, {"name": "AssetTag", "value": "rack-7"}])
    with service.client("1.40") as c:
        items = c.get(f"/v1/nodes/{node}/bios").json()["bios"]
        by_name = {item["name"]: item for item in items}
        assert by_name["NumCores"]["value"] == "16" and by_name["AssetTag"]["value"] == "rack-7"
        assert by_name["BootMode"]["value"] == "Uefi"
        assert set(by_name["NumCores"]) == {"name", "value", "created_at", "updated_at", "links"}
        assert by_name["NumCores"]["links"][0]["href"].endswith(f"/v1/nodes/{node}/bios/NumCores")
        r = c.get(f"/v1/nodes/{node}/bios?detail=true")
        assert r.status_code == 400, r.text
        fault(r)
        assert c.get(f"/v1/nodes/{node}/bios?fields=name").status_code == 400
        one = c.get(f"/v1/nodes/{node}/bios/NumCores").json()
        assert set(one) == {"NumCores"} and one["NumCores"]["value"] == "16"
        assert "attribute_type" not in one["NumCores"]
    with service.client("1.74") as c:
        one = c.get(f"/v1/nodes/{node}/bios/NumCores").json()["NumCores"]
        assert one["attribute_type"] == "Integer" and (one["lower_bound"], one["upper_bound"]) == (1, 64)
        assert one["read_only"] is False and one["reset_required"] is True and one["allowable_values"] is None
        detail = {i["name"]: i for i in c.get(f"/v1/nodes/{node}/bios?detail=true").json()["bios"]}
        assert detail["BootMode"]["allowable_values"] == ["Bios", "Uefi"]
        assert detail["SerialNumber"]["read_only"] is True
        only = c.get(f"/v1/nodes/{node}/bios?fields=name,attribute_type").json()["bios"][0]
        assert set(only) == {"name", "attribute_type", "created_at", "updated_at", "links"}
        for bad in ("?fields=bogus", "?detail=true&fields=name", "?detail=maybe", "?other=1"):
            r = c.get(f"/v1/nodes/{node}/bios{bad}")
            assert r.status_code == 400, (bad, r.text)
            fault(r)
        r = c.get(f"/v1/nodes/{node}/bios/NoSuchSetting")
        assert r.status_code == 404, r.text
        assert "doesn't have a BIOS setting 'NoSuchSetting'" in fault(r)["faultstring"]
        assert c.get("/v1/nodes/nope/bios").status_code == 404


def test_invalid_setting_fails_the_step_and_changes_nothing(service, api):
    node = _manageable(api)
    _apply(api, node, [{"name": "ProcVirtualization", "value": "Disabled"}])
    for bad in (
        [{"name": "SerialNumber", "value": "X"}],
        [{"name": "Nope", "value": "1"}],
        [{"name": "NumCores", "value": 65}],
        [{"name": "BootMode", "value": "Legacy"}],
        [{"name": "NumCores", "value": 4}, {"name": "BootMode", "value": "Legacy"}],
    ):
        shown = _apply(api, node, bad)
        assert shown["provision_state"] == states.CLEANFAIL, shown
        assert shown["last_error"], shown
        move(api, node, "manage")
    values = {i["name"]: i["value"] for i in api.get(f"/v1/nodes/{node}/bios").json()["bios"]}
    assert values["NumCores"] == "8" and values["ProcVirtualization"] == "Disabled"


def test_factory_reset_and_caching_at_clean_start(service, api):
    node = _manageable(api)
    _apply(api, node, [{"name": "BootMode", "value": "Bios"}])
    first = {i["name"]: i for i in api.get(f"/v1/nodes/{node}/bios").json()["bios"]}
    assert first["BootMode"]["value"] == "Bios"
    step = {"interface": "bios", "step": "factory_reset"}
    assert provision(api, node, "clean", clean_steps=[step], disable_ramdisk=True).status_code == 202
    shown = settle(api, node)
    assert shown["provision_state"] == states.MANAGEABLE, shown
    after = {i["name"]: i for i in api.get(f"/v1/nodes/{node}/bios").json()["bios"]}
    assert after["BootMode"]["value"] == "Uefi"
    assert after["BootMode"]["created_at"] == first["BootMode"]["created_at"]
    assert after["BootMode"]["updated_at"] is not None


def test_no_bios_refuses_the_steps(service, api):
    node = _manageable(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/bios_interface", "value": "no-bios"}])
    assert r.status_code == 200, r.text
    step = {"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "A", "value": 1}]}}
    r = provision(api, node, "clean", clean_steps=[step], disable_ramdisk=True)
    assert r.status_code == 400, r.text
    fault(r)
    assert api.get(f"/v1/nodes/{node}/bios").json() == {"bios": []}


def test_bios_steps_as_user_deploy_steps(service, api):
    node = _manageable(api)
    move(api, node, "provide")
    step = {
        "interface": "bios",
        "step": "apply_configuration",
        "priority": 90,
        "args": {"settings": [{"name": "AssetTag", "value": "deployed"}]},
    }
    with service.client("1.69") as c:
        assert provision(c, node, "active", deploy_steps=[step]).status_code == 202
    assert settle(api, node)["provision_state"] == states.ACTIVE
    values = {i["name"]: i["value"] for i in api.get(f"/v1/nodes/{node}/bios").json()["bios"]}
    assert values["AssetTag"] == "deployed"
