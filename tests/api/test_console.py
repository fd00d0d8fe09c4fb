"""Node console state (API 1.1): ``GET/PUT /v1/nodes/{node}/states/console`` and the ``console_enabled`` field, as
Ironic answers them. The serial console itself is issue 15: ``fake`` starts and stops nothing, ``no-console``
(what ``ipmi`` and ``redfish`` offer today) refuses with Ironic's 400. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, make_node


def test_console_disabled_by_default_then_enabled_and_disabled(service):
    with service.client("1.1") as c:  # the endpoint and the field are there from the first version
        node = make_node(c)
        assert node["console_enabled"] is False
        path = f"/v1/nodes/{node['uuid']}/states/console"
        assert c.get(path).json() == {"console_enabled": False, "console_info": None}

        r = c.put(path, json={"enabled": True})
        assert r.status_code == 202, r.text
        assert r.headers["Location"] == f"{service.url}{path}"
        assert c.get(path).json() == {"console_enabled": True, "console_info": {"type": "fake", "url": None}}
        assert c.get(f"/v1/nodes/{node['uuid']}").json()["console_enabled"] is True
        assert c.get(f"/v1/nodes/{node['uuid']}/states").json()["console_enabled"] is True

        assert c.put(path, json={"enabled": True}).status_code == 202  # already enabled: nothing to do
        r = c.put(path, json={"enabled": "false"})  # Ironic's boolean argument takes strings too
        assert r.status_code == 202, r.text
        assert c.get(path).json() == {"console_enabled": False, "console_info": None}


@pytest.mark.parametrize("enabled", [True, False])
def test_no_console_interface_answers_400(service, api, enabled):
    node = make_node(api, driver="ipmi", driver_info={"ipmi_address": "192.0.2.1"})
    assert node["console_interface"] == "no-console"
    path = f"/v1/nodes/{node['uuid']}/states/console"
    r = api.put(path, json={"enabled": enabled})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == "Driver ipmi does not support console (disabled or not implemented)."
    assert api.get(path).json() == {"console_enabled": False, "console_info": None}
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["console_enabled"] is False


@pytest.mark.parametrize("body", [{}, {"enabled": "maybe"}, {"enabled": True, "extra": 1}, [True]])
def test_bad_bodies_are_400_and_change_nothing(service, api, body):
    node = make_node(api)
    r = api.put(f"/v1/nodes/{node['uuid']}/states/console", json=body)
    assert r.status_code == 400, r.text
    fault(r)
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["console_enabled"] is False


def test_unknown_node_is_404(service, api):
    r = api.get("/v1/nodes/nope/states/console")
    assert r.status_code == 404, r.text
    fault(r)
    r = api.put("/v1/nodes/nope/states/console", json={"enabled": True})
    assert r.status_code == 404, r.text
