"""Virtual media (``/v1/nodes/{node}/vmedia``: attach/detach API 1.89, list 1.93) through HTTP, SQLite and
PostgreSQL: fake-hardware's simulated slots, Ironic's answers for drivers without virtual media (ipmi, and
redfish until its virtual media lands), the version boundaries, hostile URLs, and openstacksdk's calls."""

from __future__ import annotations

import logging

import openstack
import pytest

from tests.api.helpers import fault
from tests.conductor.helpers import enroll, settle

ISO = "https://images.example.org/boot/ramdisk.iso"


def _slots(api, node: str) -> dict[str, dict]:
    r = api.get(f"/v1/nodes/{node}/vmedia")
    assert r.status_code == 200, r.text
    devices = r.json()
    assert isinstance(devices, list)  # Ironic answers the bare list
    return {d["media_types"][0]: d for d in devices}


def test_version_boundaries(service):
    with service.client("latest") as api:
        node = enroll(api)
    with service.client("1.88") as c:
        assert c.get(f"/v1/nodes/{node}/vmedia").status_code == 404
        assert c.post(f"/v1/nodes/{node}/vmedia", json={"device_type": "cdrom", "image_url": ISO}).status_code == 404
        assert c.delete(f"/v1/nodes/{node}/vmedia").status_code == 404
    with service.client("1.89") as c:
        assert c.get(f"/v1/nodes/{node}/vmedia").status_code == 404  # GET from 1.93
        r = c.post(f"/v1/nodes/{node}/vmedia", json={"device_type": "cdrom", "image_url": ISO})
        assert r.status_code == 204, r.text
        settle(c, node)
    with service.client("1.93") as c:
        assert _slots(c, node)["CD"] == {"media_types": ["CD", "DVD"], "inserted": True, "image": ISO}


def test_attach_detach_and_credentials_never_shown(api, caplog):
    caplog.set_level(logging.DEBUG)
    node = enroll(api)
    assert not any(d["inserted"] for d in _slots(api, node).values())
    secret_url = "https://builder:hunter2-pw@images.example.org/a.img?token=abc"
    for device, url in (("cdrom", ISO), ("disk", secret_url), ("floppy", "http://images.example.org/f.img")):
        r = api.post(
            f"/v1/nodes/{node}/vmedia", json={"device_type": device, "image_url": url, "image_download_source": "http"}
        )
        assert r.status_code == 204, r.text
        assert settle(api, node)["last_error"] is None
    slots = _slots(api, node)
    assert all(d["inserted"] for d in slots.values())
    assert slots["USBStick"]["image"] == "https://builder:******@images.example.org/a.img?token=abc"
    shown = api.get(f"/v1/nodes/{node}").text
    assert "hunter2" not in shown and "hunter2" not in api.get(f"/v1/nodes/{node}/vmedia").text

    r = api.delete(f"/v1/nodes/{node}/vmedia?device_types=cdrom,floppy")
    assert r.status_code == 204, r.text
    settle(api, node)
    slots = _slots(api, node)
    assert (slots["CD"]["inserted"], slots["Floppy"]["inserted"], slots["USBStick"]["inserted"]) == (False, False, True)
    assert api.delete(f"/v1/nodes/{node}/vmedia").status_code == 204  # no types: everything
    settle(api, node)
    assert not any(d["inserted"] for d in _slots(api, node).values())
    assert not [r.getMessage() for r in caplog.records if "hunter2" in r.getMessage()]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"device_type": "CDROM", "image_url": ISO}, "is not one of"),
        ({"device_type": "usb", "image_url": ISO}, "is not one of"),
        ({"image_url": ISO}, "'device_type' is a required property"),
        ({"device_type": "cdrom"}, "'image_url' is a required property"),
        ({"device_type": "cdrom", "image_url": ISO, "username": "u"}, "Additional properties are not allowed"),
        ({"device_type": "cdrom", "image_url": ISO, "image_download_source": "ftp"}, "is not one of"),
        ({"device_type": "cdrom", "image_url": 42}, "is not of type 'string'"),
        ({"device_type": "cdrom", "image_url": "file:///etc/shadow"}, "Unsupported or missing URL scheme: file"),
        ({"device_type": "cdrom", "image_url": "ftp://h/x.iso"}, "Unsupported or missing URL scheme: ftp"),
        ({"device_type": "cdrom", "image_url": "nfs://h/x.iso"}, "Unsupported or missing URL scheme: nfs"),
        ({"device_type": "cdrom", "image_url": "/var/lib/x.iso"}, "Unsupported or missing URL scheme"),
        ({"device_type": "cdrom", "image_url": "http:///no-host.iso"}, "Unsupported or missing URL scheme"),
        ({"device_type": "cdrom", "image_url": "http://h/x.iso\r\nX-Injected: 1"}, "whitespace or control"),
        ({"device_type": "cdrom", "image_url": "http://h/" + "a" * 200_000}, "longer than 4096"),
        ({"device_type": "cdrom", "image_url": "http://[::1/x.iso"}, "not a valid URL"),
    ],
)
def test_hostile_attach_bodies_are_400_and_change_nothing(api, body, words):
    node = enroll(api)
    r = api.post(f"/v1/nodes/{node}/vmedia", json=body)
    assert r.status_code == 400, r.text
    message = fault(r)["faultstring"]
    assert words in message and len(message) < 1000
    assert not any(d["inserted"] for d in _slots(api, node).values())
    assert api.get(f"/v1/nodes/{node}").json()["last_error"] is None


def test_bad_detach_requests_are_400(api):
    node = enroll(api)
    for query in ("?device_types=cdrom,usb", "?device_types=" + "x" * 10_000, "?other=1"):
        r = api.delete(f"/v1/nodes/{node}/vmedia{query}")
        assert r.status_code == 400, (query, r.text)
        assert len(fault(r)["faultstring"]) < 1000


@pytest.mark.parametrize(
    ("driver", "info"),
    [
        ("ipmi", {"ipmi_address": "192.0.2.10"}),
        ("redfish", {"redfish_address": "http://192.0.2.11"}),
    ],
)
def test_drivers_without_virtual_media_answer_as_ironic(api, driver, info):
    r = api.post("/v1/nodes", json={"driver": driver, "driver_info": info})
    assert r.status_code == 201, r.text
    node = r.json()["uuid"]
    r = api.get(f"/v1/nodes/{node}/vmedia")
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == (
        f"Driver {driver} does not support get_virtual_media (disabled or not implemented)."
    )
    # attach and detach are accepted (Ironic's conductor answers before the work) and fail in last_error
    assert api.post(f"/v1/nodes/{node}/vmedia", json={"device_type": "cdrom", "image_url": ISO}).status_code == 204
    assert settle(api, node)["last_error"] == (
        f"Could not attach device cdrom to node {node}: Driver {driver} does not support attach_virtual_media "
        "(disabled or not implemented)."
    )
    assert api.delete(f"/v1/nodes/{node}/vmedia").status_code == 204
    assert "does not support detach_virtual_media" in settle(api, node)["last_error"]
    events = [e["event"] for e in api.get(f"/v1/nodes/{node}/history").json()["history"]]
    assert any("attach_virtual_media" in e for e in events)


def test_openstacksdk_attach_and_detach(service, api):
    node = enroll(api)
    conn = openstack.connect(
        auth_type="none", baremetal_endpoint_override=service.url + "/", load_yaml_config=False, load_envvars=False
    )
    try:
        conn.baremetal.attach_vmedia_to_node(node, device_type="cdrom", image_url=ISO)
        settle(api, node)
        assert _slots(api, node)["CD"]["image"] == ISO
        conn.baremetal.attach_vmedia_to_node(node, device_type="floppy", image_url=ISO)
        settle(api, node)
        conn.baremetal.detach_vmedia_from_node(node, device_types=["cdrom"])
        settle(api, node)
        slots = _slots(api, node)
        assert (slots["CD"]["inserted"], slots["Floppy"]["inserted"]) == (False, True)
    finally:
        conn.close()
