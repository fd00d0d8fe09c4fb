"""``PUT /v1/nodes/{node}/states/boot_mode`` and ``/states/secure_boot`` (API 1.76) through HTTP, SQLite and
PostgreSQL: fake-hardware (the simulated firmware keeps boot mode and secure boot), an ``ipmi`` node (secure boot
is not supported: Ironic's error in ``last_error``), Ironic's checks and codes, hostile targets.
The Redfish implementation is tested against sushy-emulator in tests/drivers/test_redfish_boot_mode.py.
"""

from __future__ import annotations

import pytest

from ironworks import states
from tests.api.helpers import baremetal_cli, fault
from tests.conductor.helpers import enroll, move, provision, settle


def _put(api, node: str, what: str, target) -> object:
    return api.put(f"/v1/nodes/{node}/states/{what}", json={"target": target})


def test_version_boundary_and_location(service, api):
    node = enroll(api)
    with service.client("1.75") as c:
        for what, target in (("boot_mode", "uefi"), ("secure_boot", True)):
            r = _put(c, node, what, target)
            assert r.status_code == 404, r.text
            assert "supported starting with the API version 1.76" in fault(r)["faultstring"]
    with service.client("1.76") as c:
        r = _put(c, node, "boot_mode", "bios")
        assert r.status_code == 202, r.text
        assert r.headers["Location"].endswith(f"/v1/nodes/{node}/states")
        assert settle(c, node)["boot_mode"] == "bios"
    r = _put(api, "no-such-node", "boot_mode", "uefi")
    assert r.status_code == 404


def test_boot_mode_and_secure_boot_follow_the_fake_firmware(api):
    node = enroll(api)
    assert api.get(f"/v1/nodes/{node}").json()["boot_mode"] is None
    assert _put(api, node, "boot_mode", "uefi").status_code == 202  # already UEFI: recorded, nothing changed
    shown = settle(api, node)
    assert (shown["boot_mode"], shown["secure_boot"], shown["last_error"]) == ("uefi", None, None)

    assert _put(api, node, "boot_mode", "bios").status_code == 202
    assert settle(api, node)["boot_mode"] == "bios"
    # secure boot needs UEFI: the request is accepted, the change fails, last_error and history say why
    assert _put(api, node, "secure_boot", True).status_code == 202
    shown = settle(api, node)
    assert shown["secure_boot"] is None
    assert shown["last_error"].startswith("Failed to change secure_boot state to 'True': ")
    assert "requires UEFI" in shown["last_error"]
    events = [e["event"] for e in api.get(f"/v1/nodes/{node}/history").json()["history"]]
    assert any("requires UEFI" in e for e in events)

    assert _put(api, node, "boot_mode", "uefi").status_code == 202
    shown = settle(api, node)
    assert shown["boot_mode"] == "uefi" and shown["last_error"] is None  # a new request clears the old error
    assert _put(api, node, "secure_boot", "true").status_code == 202  # Ironic's boolean parsing
    shown = settle(api, node)
    assert shown["secure_boot"] is True and shown["last_error"] is None
    assert shown["driver_internal_info"]["fake_secure_boot"] is True
    assert _put(api, node, "secure_boot", False).status_code == 202
    assert settle(api, node)["secure_boot"] is False


def test_a_failing_bmc_leaves_the_fields_and_sets_last_error(api):
    node = enroll(api, fake_fail_boot_mode="the BMC said no")
    assert _put(api, node, "boot_mode", "bios").status_code == 202
    shown = settle(api, node)
    assert shown["boot_mode"] is None
    assert shown["last_error"] == "Failed to change boot mode to 'bios: Driver error: the BMC said no"


def test_ipmi_secure_boot_is_unsupported(api):
    r = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"ipmi_address": "192.0.2.10"}})
    assert r.status_code == 201, r.text
    node = r.json()["uuid"]
    assert _put(api, node, "secure_boot", True).status_code == 202
    shown = settle(api, node)
    assert shown["secure_boot"] is None
    assert shown["last_error"] == (
        "Failed to change secure_boot state to 'True': Driver ipmi does not support "
        "set_secure_boot_state (disabled or not implemented)."
    )


@pytest.mark.parametrize(
    ("what", "body", "words"),
    [
        (
            "boot_mode",
            {"target": "legacy"},
            "Invalid boot mode legacy requested for node. Allowed boot modes are: bios, uefi",
        ),
        ("boot_mode", {"target": "UEFI"}, "Invalid boot mode UEFI"),
        ("boot_mode", {}, "Invalid boot mode None"),
        ("boot_mode", {"target": None}, "Invalid boot mode None"),
        ("boot_mode", {"target": 1}, "Expected string"),
        ("boot_mode", {"target": ["uefi"]}, "Expected string"),
        ("boot_mode", {"target": "x" * 100_000}, "Invalid boot mode"),
        ("boot_mode", {"target": "uefi", "persistent": True}, "Unknown argument"),
        ("secure_boot", {"target": "maybe"}, "Invalid boolean value"),
        (
            "secure_boot",
            {"target": None},
            "Invalid secure_boot None requested for node. Allowed secure_boot states are: True, False)",
        ),
        ("secure_boot", {"target": {"on": True}}, "Invalid boolean value"),
        ("secure_boot", {"target": 2.5}, "Invalid boolean value"),
        ("secure_boot", ["true"], "must be a JSON object"),
    ],
)
def test_bad_targets_are_400_and_change_nothing(api, what, body, words):
    node = enroll(api)
    before = api.get(f"/v1/nodes/{node}").json()
    r = api.put(f"/v1/nodes/{node}/states/{what}", json=body)
    assert r.status_code == 400, r.text
    message = fault(r)["faultstring"]
    assert words in message and len(message) < 1000
    after = api.get(f"/v1/nodes/{node}").json()
    assert (after["boot_mode"], after["secure_boot"], after["updated_at"]) == (
        before["boot_mode"],
        before["secure_boot"],
        before["updated_at"],
    )


def test_transitioning_node_is_409(api):
    node = enroll(api, fake_wait_clean=True)
    move(api, node, "manage")
    r = provision(api, node, "clean", clean_steps=[{"interface": "deploy", "step": "erase_devices"}])
    assert r.status_code == 202, r.text
    assert settle(api, node)["provision_state"] == states.CLEANWAIT
    for what, target in (("boot_mode", "bios"), ("secure_boot", False)):
        r = _put(api, node, what, target)
        assert r.status_code == 409, r.text
        assert "Node is in clean wait state. Since node is transitioning" in fault(r)["faultstring"]


def test_locked_node_is_409_and_no_interface_validation_is_400(api):
    node = enroll(api, fake_sleep_boot_mode=1.5)
    assert _put(api, node, "boot_mode", "bios").status_code == 202
    r = _put(api, node, "boot_mode", "uefi")  # the first change still holds the lock
    assert r.status_code == 409, r.text
    assert "locked" in fault(r)["faultstring"]
    assert settle(api, node)["boot_mode"] == "bios"
    # a redfish node without its BMC address: the management interface's validation answers 400, nothing queued
    r = api.post("/v1/nodes", json={"driver": "redfish", "driver_info": {}})
    assert r.status_code == 201, r.text
    r = _put(api, r.json()["uuid"], "boot_mode", "uefi")
    assert r.status_code == 400, r.text
    assert "redfish_address" in fault(r)["faultstring"]


def test_openstack_cli_boot_mode_and_secure_boot(service, api):
    node = enroll(api)
    cli = baremetal_cli(service.url)
    cli("node", "boot", "mode", "set", node, "bios")  # `openstack` starts slowly: two calls only
    assert settle(api, node)["boot_mode"] == "bios"
    cli("node", "secure", "boot", "on", node)
    shown = settle(api, node)
    assert shown["secure_boot"] is None and "requires UEFI" in shown["last_error"]
