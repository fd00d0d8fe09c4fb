"""Node and driver vendor passthru (API 1.1), as Ironic: ``GET …/vendor_passthru/methods`` in Ironic's shape,
``?method=`` calls with the body as arguments (async 202, sync 200 with the return value), Ironic's 400s for a
missing/unknown method and a wrong HTTP method, argument validation, the node lock. SQLite and PostgreSQL
(``service``). The ``ipmitool`` methods against the IPMI emulator: tests/drivers/test_ipmi_vendor.py."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, make_node

FAKE_METHODS = {
    "second_method": {
        "http_methods": ["POST"],
        "async": True,
        "description": "Test if the value of bar is kazoo",
        "attach": False,
        "require_exclusive_lock": True,
    },
    "third_method_sync": {
        "http_methods": ["POST"],
        "async": False,
        "description": "Test if the value of bar is meow",
        "attach": False,
        "require_exclusive_lock": True,
    },
    "fourth_method_shared_lock": {
        "http_methods": ["POST"],
        "async": True,
        "description": "Test if the value of bar is woof",
        "attach": False,
        "require_exclusive_lock": False,
    },
    "log_passthrough": {
        "http_methods": ["POST"],
        "async": True,
        "description": "Test pass-through to wait.",
        "attach": False,
        "require_exclusive_lock": True,
    },
}


def _calls(api, uuid: str) -> int:
    return int(api.get(f"/v1/nodes/{uuid}").json()["driver_internal_info"].get("fake_vendor_calls", 0))


def test_node_methods_by_vendor_interface(service, api):
    fake = make_node(api, name="vend", vendor_interface="fake")
    assert api.get("/v1/nodes/vend/vendor_passthru/methods").json() == FAKE_METHODS
    none = make_node(api, vendor_interface="no-vendor")
    assert api.get(f"/v1/nodes/{none['uuid']}/vendor_passthru/methods").json() == {}
    ipmi = make_node(api, driver="ipmi")
    assert ipmi["vendor_interface"] == "ipmitool"  # Ironic's default for the ipmi hardware type
    methods = api.get(f"/v1/nodes/{ipmi['uuid']}/vendor_passthru/methods").json()
    assert set(methods) == {"send_raw", "bmc_reset"}
    assert methods["send_raw"]["http_methods"] == ["POST"] and methods["send_raw"]["async"] is True
    redfish = make_node(api, driver="redfish")
    assert redfish["vendor_interface"] == "redfish"
    assert list(api.get(f"/v1/nodes/{redfish['uuid']}/vendor_passthru/methods").json()) == ["eject_vmedia"]
    r = api.get("/v1/nodes/nope/vendor_passthru/methods")
    assert r.status_code == 404, r.text
    assert fake["vendor_interface"] == "fake"


def test_sync_and_async_calls(service, api):
    node = make_node(api, vendor_interface="fake")
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    r = api.post(path, params={"method": "third_method_sync"}, json={"bar": "meow"})
    assert r.status_code == 200, r.text
    assert r.json() is True
    r = api.post(path, params={"method": "third_method_sync"}, json={"bar": "purr"})
    assert r.status_code == 200 and r.json() is False
    r = api.post(path, params={"method": "second_method"}, json={"bar": "kazoo"})
    assert r.status_code == 202, r.text
    assert r.content == b""
    r = api.post(path, params={"method": "fourth_method_shared_lock"}, json={"bar": "woof"})
    assert r.status_code == 202, r.text
    assert _calls(api, node["uuid"]) == 0
    r = api.post(path, params={"method": "log_passthrough"})  # no body: no arguments
    assert r.status_code == 202, r.text
    assert _calls(api, node["uuid"]) == 1  # it ran


def test_method_in_the_path_as_python_ironicclient_sends_it(service, api):
    node = make_node(api, vendor_interface="fake")
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    r = api.post(f"{path}/third_method_sync", json={"bar": "meow"})
    assert r.status_code == 200 and r.json() is True, r.text
    r = api.post(f"{path}/nope", json={})
    assert r.status_code == 400 and fault(r)["faultstring"] == "No handler for method nope"
    r = api.post("/v1/drivers/fake-hardware/vendor_passthru/second_method", json={})
    assert r.status_code == 400 and fault(r)["faultstring"] == "No handler for method second_method"


@pytest.mark.parametrize(
    ("params", "method", "body", "message"),
    [
        ({}, "POST", {}, "Method not specified"),
        ({"method": ""}, "POST", {}, "Method not specified"),
        ({"method": "nope"}, "POST", {}, "No handler for method nope"),
        ({"method": "third_method_sync"}, "GET", None, "The method third_method_sync does not support HTTP GET"),
        (
            {"method": "third_method_sync"},
            "PUT",
            {"bar": "x"},
            "The method third_method_sync does not support HTTP PUT",
        ),
        ({"method": "third_method_sync"}, "POST", {}, "Parameter 'bar' not passed to method 'third_method_sync'."),
        ({"method": "third_method_sync", "other": "1"}, "POST", {"bar": "x"}, "Unknown argument(s): other."),
        ({"method": "third_method_sync"}, "POST", ["bar"], "must be a JSON object"),
    ],
)
def test_bad_calls_are_400(service, api, params, method, body, message):
    node = make_node(api, vendor_interface="fake")
    r = api.request(
        method, f"/v1/nodes/{node['uuid']}/vendor_passthru", params=params, json=body if body is not None else None
    )
    assert r.status_code == 400, r.text
    assert message in fault(r)["faultstring"]


def test_no_vendor_has_no_handler(service, api):
    node = make_node(api, vendor_interface="no-vendor")
    r = api.post(f"/v1/nodes/{node['uuid']}/vendor_passthru", params={"method": "second_method"}, json={"bar": 1})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == "No handler for method second_method"


def test_locked_node_is_409_unless_shared(service, api):
    node = make_node(api, vendor_interface="fake")
    service.services.nodes.update(node["uuid"], lambda current: {"reservation": service.services.conductor.name})
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    r = api.post(path, params={"method": "third_method_sync"}, json={"bar": "meow"})
    assert r.status_code == 409, r.text
    fault(r)
    r = api.post(path, params={"method": "fourth_method_shared_lock"}, json={"bar": "woof"})
    assert r.status_code == 202, r.text  # require_exclusive_lock false: a shared lock is enough


def test_ipmi_methods_validate_arguments_before_the_bmc(service, api):
    node = make_node(
        api, driver="ipmi", driver_info={"ipmi_address": "192.0.2.1", "ipmi_username": "u", "ipmi_password": "p"}
    )
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    for body, message in [
        ({}, "Parameter raw_bytes (string of bytes) was not specified."),
        ({"raw_bytes": "0x06"}, "at least a network function and a command"),
        ({"raw_bytes": "0x06 0x1zz"}, "is not a byte"),
        ({"raw_bytes": "0x06 0x100"}, "is not a byte"),
        ({"raw_bytes": "0x40 0x01"}, "network function 0x40"),
        ({"raw_bytes": " ".join(["0x00"] * 65)}, "at most 64 bytes"),
        ({"raw_bytes": 6}, "raw_bytes"),
    ]:
        r = api.post(path, params={"method": "send_raw"}, json=body)
        assert r.status_code == 400, (body, r.text)
        assert message in fault(r)["faultstring"], body
    r = api.post(path, params={"method": "bmc_reset"}, json={"warm": "maybe"})
    assert r.status_code == 400, r.text
    assert "warm must be a boolean" in fault(r)["faultstring"]
    r = api.get(path, params={"method": "bmc_reset"})
    assert r.status_code == 400, r.text
    incomplete = make_node(api, driver="ipmi")  # no BMC address: refused before anything is sent
    r = api.post(
        f"/v1/nodes/{incomplete['uuid']}/vendor_passthru",
        params={"method": "send_raw"},
        json={"raw_bytes": "0x06 0x01"},
    )
    assert r.status_code == 400, r.text
    fault(r)


def test_driver_passthru(service, api):
    for driver in ("fake-hardware", "ipmi", "redfish"):
        r = api.get(f"/v1/drivers/{driver}/vendor_passthru/methods")
        assert r.status_code == 200, r.text
        assert r.json() == {}  # as Ironic: none of these vendor interfaces has driver-level methods
    r = api.post("/v1/drivers/fake-hardware/vendor_passthru", params={"method": "second_method"}, json={})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == "No handler for method second_method"
    r = api.post("/v1/drivers/fake-hardware/vendor_passthru", json={})
    assert r.status_code == 400 and fault(r)["faultstring"] == "Method not specified"
    for path in ("/v1/drivers/nope/vendor_passthru/methods", "/v1/drivers/nope/vendor_passthru?method=x"):
        r = api.get(path)
        assert r.status_code == 404, r.text
        fault(r)
