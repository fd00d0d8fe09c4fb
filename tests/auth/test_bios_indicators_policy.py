"""BIOS settings and indicators follow Ironic's project-scoped defaults: the owner's readers read them
(``baremetal:node:bios:get``, ``…:get_indicator_state``), the owner's members set an indicator
(``…:set_indicator_state``); a lessee or stranger gets the node's 404 or 403. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node


def test_owner_reads_bios_and_indicators_and_members_set_them(auth_service, admin):
    node = make_node(admin, owner="acme")
    bios = f"/v1/nodes/{node['uuid']}/bios"
    led = f"/v1/nodes/{node['uuid']}/management/indicators/led@system"
    with client(auth_service, READER) as c:
        assert c.get(bios).status_code == 200
        assert c.get(f"/v1/nodes/{node['uuid']}/management/indicators").status_code == 200
        assert c.get(led).json() == {"state": "OFF"}
        assert c.put(led, json={"state": "ON"}).status_code == 403
    with client(auth_service, MEMBER) as c:
        assert c.put(led, json={"state": "ON"}).status_code == 204
    with client(auth_service, OTHER_MEMBER) as c:
        for path in (bios, led):
            assert c.get(path).status_code == 404
        assert c.put(led, json={"state": "OFF"}).status_code == 404
    assert admin.get(led).json() == {"state": "ON"}
