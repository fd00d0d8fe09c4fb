"""/v1/ports through HTTP: create, show, list (filters, pagination), patch and delete with Ironic's rules."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.helpers import fault, make_node, snapshot

MAC = "52:54:00:12:34:56"


def make_port(api, node, address, **fields):
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": address, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def make_pg(api, node, **fields):
    r = api.post("/v1/portgroups", json={"node_uuid": node["uuid"], **fields})
    assert r.status_code == 201, r.text
    return r.json()


def set_node(service, node, **columns):
    """Put the node in a state no API call can reach yet (active, locked...)."""
    service.services.nodes.update(node["uuid"], lambda _rec: columns)


def test_create_normalises_mac_and_shows_ironic_fields(api):
    node = make_node(api)
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": "52-54-00-AB-CD-EF", "extra": {"a": 1}})
    assert r.status_code == 201, r.text
    port = r.json()
    assert port["address"] == "52:54:00:ab:cd:ef"
    assert r.headers["Location"].endswith(f"/v1/ports/{port['uuid']}")
    assert port["node_uuid"] == node["uuid"]
    assert port["pxe_enabled"] is True and port["is_smartnic"] is False
    assert port["local_link_connection"] == {} and port["internal_info"] == {} and port["portgroup_uuid"] is None
    assert port["extra"] == {"a": 1} and port["created_at"] and port["updated_at"] is None
    assert {link["rel"] for link in port["links"]} == {"self", "bookmark"}
    shown = api.get(f"/v1/ports/{port['uuid']}").json()
    assert shown == port
    assert api.get(f"/v1/ports/{port['uuid']}", params={"fields": "address,extra"}).json() == {
        "address": "52:54:00:ab:cd:ef",
        "extra": {"a": 1},
        "links": port["links"],
    }


def test_given_uuid_local_link_and_smartnic(api):
    node = make_node(api)
    given = str(uuid.uuid4())
    llc = {"switch_id": "0A:1B:2C:3D:4E:5F", "port_id": "Ethernet1/7", "switch_info": "tor-1"}
    port = make_port(
        api, node, MAC, uuid=given, local_link_connection=llc, physical_network="physnet1", pxe_enabled="false"
    )
    assert port["uuid"] == given
    assert port["local_link_connection"]["switch_id"] == "0a:1b:2c:3d:4e:5f"
    assert port["physical_network"] == "physnet1" and port["pxe_enabled"] is False
    datapath = make_port(
        api, node, "52:54:00:00:00:02", local_link_connection={"switch_id": "00001A2B3C4D5E6F", "port_id": "p2"}
    )
    assert datapath["local_link_connection"]["switch_id"] == "00001a2b3c4d5e6f"
    nic = make_port(
        api,
        node,
        "52:54:00:00:00:03",
        is_smartnic=True,
        local_link_connection={"hostname": "host-1", "port_id": "rep0-0"},
    )
    assert nic["is_smartnic"] is True
    unmanaged = make_port(api, node, "52:54:00:00:00:04", local_link_connection={"network_type": "unmanaged"})
    assert unmanaged["local_link_connection"] == {"network_type": "unmanaged"}


def test_old_versions_hide_and_refuse_newer_fields(service, api):
    node = make_node(api)
    port = make_port(api, node, MAC)
    with service.client("1.1") as old:
        shown = old.get(f"/v1/ports/{port['uuid']}").json()
        assert "pxe_enabled" not in shown and "local_link_connection" not in shown
        assert "internal_info" not in shown and "portgroup_uuid" not in shown and "is_smartnic" not in shown
        assert shown["address"] == MAC
    with service.client("1.52") as v52:
        shown = v52.get(f"/v1/ports/{port['uuid']}").json()
        assert "physical_network" in shown and "is_smartnic" not in shown
    cases = [
        ("1.18", {"pxe_enabled": False}),
        ("1.18", {"local_link_connection": {"switch_id": MAC, "port_id": "p"}}),
        ("1.23", {"portgroup_uuid": str(uuid.uuid4())}),
        ("1.33", {"physical_network": "physnet1"}),
        ("1.52", {"is_smartnic": False}),
        ("1.63", {"local_link_connection": {"network_type": "unmanaged"}}),
    ]
    for version, extra in cases:
        with service.client(version) as client:
            before = snapshot(api)
            r = client.post("/v1/ports", json={"node_uuid": node["uuid"], "address": "52:54:00:99:99:99", **extra})
            assert r.status_code == 406, (version, extra, r.text)
            fault(r)
            assert snapshot(api) == before
    with service.client("1.18") as client:
        r = client.patch(f"/v1/ports/{port['uuid']}", json=[{"op": "replace", "path": "/pxe_enabled", "value": False}])
        assert r.status_code == 406
        assert client.get("/v1/ports", params={"fields": "pxe_enabled"}).status_code == 406
        assert client.get("/v1/ports", params={"sort_key": "pxe_enabled"}).status_code == 406
    with service.client("1.23") as client:
        assert client.get("/v1/ports", params={"portgroup": str(uuid.uuid4())}).status_code == 406
    with service.client("1.4") as client:
        assert client.get("/v1/ports", params={"node": "by-name"}).status_code == 406
        assert client.get("/v1/ports", params={"node": node["uuid"]}).status_code == 200


def test_concurrent_creates_of_one_mac_give_one_port(service, api):
    node = make_node(api)

    def create(i):
        with service.client("latest") as client:
            return client.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC, "extra": {"i": i}})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(create, range(8)))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7
    for r in answers:
        if r.status_code == 409:
            fault(r)
    assert len(api.get("/v1/ports").json()["ports"]) == 1


def test_pagination_follows_next_links(api):
    node = make_node(api)
    created = [make_port(api, node, f"52:54:00:00:01:{i:02x}")["uuid"] for i in range(7)]
    for path in ("/v1/ports", "/v1/ports/detail", f"/v1/nodes/{node['uuid']}/ports"):
        seen, url, pages = [], path + "?limit=3", 0
        while url:
            body = api.get(url).json()
            seen += [p["uuid"] for p in body["ports"]]
            url, pages = body.get("next"), pages + 1
            assert pages <= 4
        assert seen == created, path
    desc = api.get("/v1/ports", params={"sort_key": "address", "sort_dir": "desc"}).json()["ports"]
    assert [p["uuid"] for p in desc] == created[::-1]
    plain = api.get("/v1/ports").json()["ports"][0]
    assert set(plain) == {"uuid", "address", "links"}
    detailed = api.get("/v1/ports", params={"detail": "true"}).json()["ports"][0]
    assert "extra" in detailed and "node_uuid" in detailed


def test_filters(api):
    one, two = make_node(api, name="one"), make_node(api, name="two")
    p1 = make_port(api, one, "52:54:00:00:00:01")
    p2 = make_port(api, two, "52:54:00:00:00:02")
    pg = make_pg(api, two, name="bond0")
    p3 = make_port(api, two, "52:54:00:00:00:03", portgroup_uuid=pg["uuid"])

    def uuids(path, **params):
        r = api.get(path, params=params)
        assert r.status_code == 200, r.text
        return [p["uuid"] for p in r.json()["ports"]]

    assert uuids("/v1/ports", node="one") == [p1["uuid"]]
    assert uuids("/v1/ports", node=two["uuid"]) == [p2["uuid"], p3["uuid"]]
    assert uuids("/v1/ports", node_uuid=one["uuid"]) == [p1["uuid"]]
    assert uuids("/v1/ports", address="52-54-00-00-00-02") == [p2["uuid"]]
    assert uuids("/v1/ports", address="52:54:00:00:00:99") == []
    assert uuids("/v1/ports", portgroup="bond0") == [p3["uuid"]]
    assert uuids("/v1/ports/detail", portgroup=pg["uuid"]) == [p3["uuid"]]
    assert uuids("/v1/nodes/two/ports") == [p2["uuid"], p3["uuid"]]
    assert uuids(f"/v1/nodes/{one['uuid']}/ports/detail") == [p1["uuid"]]
    assert uuids(f"/v1/portgroups/{pg['uuid']}/ports") == [p3["uuid"]]
    assert uuids("/v1/portgroups/bond0/ports/detail") == [p3["uuid"]]
    for path, params, status in [
        ("/v1/ports", {"node": "nobody"}, 404),
        (f"/v1/nodes/{uuid.uuid4()}/ports", {}, 404),
        ("/v1/ports", {"node_uuid": "not-a-uuid"}, 400),
        ("/v1/ports", {"address": "zz:zz"}, 400),
        ("/v1/ports", {"portgroup": str(uuid.uuid4())}, 404),
        ("/v1/ports", {"node": "one", "portgroup": "bond0"}, 403),  # OperationNotPermitted, as Ironic
        ("/v1/ports", {"colour": "red"}, 400),
        ("/v1/ports", {"limit": "0"}, 400),
        ("/v1/ports", {"marker": str(uuid.uuid4())}, 404),
        ("/v1/ports", {"sort_key": "extra"}, 400),
        ("/v1/ports", {"sort_dir": "up"}, 400),
        ("/v1/ports", {"fields": "address,colour"}, 400),
        ("/v1/ports/detail", {"detail": "true"}, 400),
        ("/v1/ports", {"detail": "true", "fields": "uuid"}, 400),
    ]:
        r = api.get(path, params=params)
        assert r.status_code == status, (path, params, r.text)
        fault(r)


def test_patch(api):
    node, other = make_node(api), make_node(api)
    port = make_port(api, node, MAC, extra={"keep": 1, "drop": 2})
    url = f"/v1/ports/{port['uuid']}"
    r = api.patch(
        url,
        json=[
            {"op": "replace", "path": "/address", "value": "52:54:00:AA:AA:AA"},
            {"op": "remove", "path": "/extra/drop"},
            {"op": "add", "path": "/extra/new", "value": [1]},
            {"op": "add", "path": "/local_link_connection", "value": {"switch_id": MAC, "port_id": "xe-0/0/1"}},
            {"op": "replace", "path": "/pxe_enabled", "value": False},
            {"op": "add", "path": "/physical_network", "value": "physnet2"},
        ],
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["address"] == "52:54:00:aa:aa:aa" and patched["extra"] == {"keep": 1, "new": [1]}
    assert patched["pxe_enabled"] is False and patched["physical_network"] == "physnet2"
    assert patched["local_link_connection"] == {"switch_id": MAC, "port_id": "xe-0/0/1"}
    assert patched["updated_at"] is not None
    assert api.get(url).json() == patched
    moved = api.patch(url, json=[{"op": "replace", "path": "/node_uuid", "value": other["uuid"]}]).json()
    assert moved["node_uuid"] == other["uuid"]
    assert [p["uuid"] for p in api.get(f"/v1/nodes/{other['uuid']}/ports").json()["ports"]] == [port["uuid"]]
    cleared = api.patch(
        url, json=[{"op": "remove", "path": "/physical_network"}, {"op": "remove", "path": "/extra"}]
    ).json()
    assert cleared["physical_network"] is None and cleared["extra"] == {}


def test_duplicate_mac_is_409_on_create_and_patch(api):
    node = make_node(api)
    make_port(api, node, MAC)
    second = make_port(api, node, "52:54:00:00:00:09")
    before = snapshot(api)
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC.upper()})
    assert r.status_code == 409
    assert "already exists" in fault(r)["faultstring"]
    r = api.patch(f"/v1/ports/{second['uuid']}", json=[{"op": "replace", "path": "/address", "value": MAC}])
    assert r.status_code == 409
    fault(r)
    assert snapshot(api) == before


def test_node_state_and_lock_rules(service, api):
    node = make_node(api)
    port = make_port(api, node, MAC)
    url = f"/v1/ports/{port['uuid']}"
    set_node(service, node, provision_state="active")
    before = snapshot(api)
    for patch in (
        [{"op": "replace", "path": "/address", "value": "52:54:00:00:00:77"}],
        [{"op": "replace", "path": "/pxe_enabled", "value": False}],
        [{"op": "add", "path": "/local_link_connection", "value": {"switch_id": MAC, "port_id": "1"}}],
    ):
        r = api.patch(url, json=patch)
        assert r.status_code == 409, r.text
        fault(r)
    assert snapshot(api) == before
    # extra may change on an active node; in maintenance the connectivity too
    assert api.patch(url, json=[{"op": "add", "path": "/extra/x", "value": 1}]).status_code == 200
    set_node(service, node, maintenance=True)
    assert api.patch(url, json=[{"op": "replace", "path": "/pxe_enabled", "value": False}]).status_code == 200
    set_node(service, node, provision_state="manageable", maintenance=False, reservation="conductor-7")
    before = snapshot(api)
    r = api.patch(url, json=[{"op": "add", "path": "/extra/y", "value": 2}])
    assert r.status_code == 409 and "locked" in fault(r)["faultstring"]
    assert api.delete(url).status_code == 409
    assert snapshot(api) == before
    set_node(service, node, reservation=None)
    assert api.delete(url).status_code == 204


def test_delete_refused_while_a_vif_is_attached(service, api):
    node = make_node(api)
    port = make_port(api, node, MAC, extra={"vif_port_id": "vif-1"})
    r = api.delete(f"/v1/ports/{port['uuid']}")
    assert r.status_code == 409
    fault(r)
    set_node(service, node, maintenance=True)
    assert api.delete(f"/v1/ports/{port['uuid']}").status_code == 204
    r = api.get(f"/v1/ports/{port['uuid']}")
    assert r.status_code == 404
    fault(r)


def test_portgroup_membership_rules(api):
    node, other = make_node(api), make_node(api)
    strict = make_pg(api, node, name="strict", standalone_ports_supported=False)
    foreign = make_pg(api, other, name="foreign")
    before = snapshot(api)
    r = api.post(
        "/v1/ports",
        json={"node_uuid": node["uuid"], "address": MAC, "portgroup_uuid": strict["uuid"], "pxe_enabled": True},
    )
    assert r.status_code == 409 and "standalone" in fault(r)["faultstring"]
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC, "portgroup_uuid": foreign["uuid"]})
    assert r.status_code == 400 and "different node" in fault(r)["faultstring"]
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC, "portgroup_uuid": str(uuid.uuid4())})
    assert r.status_code == 400
    fault(r)
    assert snapshot(api) == before
    member = make_port(api, node, MAC, portgroup_uuid=strict["uuid"], pxe_enabled=False, physical_network="net-a")
    assert member["portgroup_uuid"] == strict["uuid"]
    r = api.patch(f"/v1/ports/{member['uuid']}", json=[{"op": "replace", "path": "/pxe_enabled", "value": True}])
    assert r.status_code == 409
    fault(r)
    # every member of a portgroup shares one physical network
    r = api.post(
        "/v1/ports",
        json={
            "node_uuid": node["uuid"],
            "address": "52:54:00:00:00:02",
            "portgroup_uuid": strict["uuid"],
            "pxe_enabled": False,
            "physical_network": "net-b",
        },
    )
    assert r.status_code == 409
    fault(r)
    loose = make_port(api, node, "52:54:00:00:00:03")
    r = api.patch(
        f"/v1/ports/{loose['uuid']}", json=[{"op": "add", "path": "/portgroup_uuid", "value": foreign["uuid"]}]
    )
    assert r.status_code == 400
    fault(r)
    left = api.patch(f"/v1/ports/{member['uuid']}", json=[{"op": "remove", "path": "/portgroup_uuid"}])
    assert left.status_code == 200 and left.json()["portgroup_uuid"] is None


GOOD_LLC = {"switch_id": MAC, "port_id": "p1"}

CREATE_CASES = [
    ("not json", b"{address: 1", 400),
    ("array body", b"[]", 400),
    ("empty body", b"", 400),
    ("missing address", {"node_uuid": "{node}"}, 400),
    ("missing node", {"address": MAC}, 400),
    ("unknown node", {"node_uuid": str(uuid.uuid4()), "address": MAC}, 400),
    ("node not a uuid", {"node_uuid": "node-name", "address": MAC}, 400),
    ("node wrong type", {"node_uuid": 7, "address": MAC}, 400),
    ("invalid mac", {"node_uuid": "{node}", "address": "52:54:00:12:34"}, 400),
    ("mac with letters", {"node_uuid": "{node}", "address": "zz:54:00:12:34:56"}, 400),
    ("mac wrong type", {"node_uuid": "{node}", "address": 525400123456}, 400),
    ("duplicate mac", {"node_uuid": "{node}", "address": "52:54:00:00:00:01"}, 409),
    ("duplicate uuid", {"node_uuid": "{node}", "address": MAC, "uuid": "{port}"}, 409),
    ("invalid uuid", {"node_uuid": "{node}", "address": MAC, "uuid": "123"}, 400),
    ("unknown field", {"node_uuid": "{node}", "address": MAC, "colour": "red"}, 400),
    ("read-only internal_info", {"node_uuid": "{node}", "address": MAC, "internal_info": {}}, 400),
    ("extra not object", {"node_uuid": "{node}", "address": MAC, "extra": "x"}, 400),
    ("pxe_enabled not bool", {"node_uuid": "{node}", "address": MAC, "pxe_enabled": "maybe"}, 400),
    ("pxe_enabled number", {"node_uuid": "{node}", "address": MAC, "pxe_enabled": 3}, 400),
    ("physical_network too long", {"node_uuid": "{node}", "address": MAC, "physical_network": "p" * 65}, 400),
    ("physical_network empty", {"node_uuid": "{node}", "address": MAC, "physical_network": ""}, 400),
    ("llc not object", {"node_uuid": "{node}", "address": MAC, "local_link_connection": "sw1"}, 400),
    (
        "llc unknown key",
        {"node_uuid": "{node}", "address": MAC, "local_link_connection": {**GOOD_LLC, "vlan": "1"}},
        400,
    ),
    ("llc missing port_id", {"node_uuid": "{node}", "address": MAC, "local_link_connection": {"switch_id": MAC}}, 400),
    (
        "llc bad switch_id",
        {"node_uuid": "{node}", "address": MAC, "local_link_connection": {"switch_id": "switch-1", "port_id": "p"}},
        400,
    ),
    (
        "llc value not string",
        {"node_uuid": "{node}", "address": MAC, "local_link_connection": {"switch_id": MAC, "port_id": 5}},
        400,
    ),
    (
        "llc bad network_type",
        {"node_uuid": "{node}", "address": MAC, "local_link_connection": {"network_type": "wild"}},
        400,
    ),
    (
        "smartnic without hostname",
        {"node_uuid": "{node}", "address": MAC, "is_smartnic": True, "local_link_connection": GOOD_LLC},
        400,
    ),
    ("portgroup not a uuid", {"node_uuid": "{node}", "address": MAC, "portgroup_uuid": "pg"}, 400),
]


def _fill(value, ids):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, str):
        return value.format(**ids)
    return value


@pytest.fixture
def inventory(api):
    node = make_node(api)
    port = make_port(api, node, "52:54:00:00:00:01")
    return {"node": node["uuid"], "port": port["uuid"]}


@pytest.mark.parametrize(("label", "body", "status"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_refused(api, inventory, label, body, status):
    before = snapshot(api)
    if isinstance(body, bytes):
        r = api.post("/v1/ports", content=body, headers={"Content-Type": "application/json"})
    else:
        r = api.post("/v1/ports", json=_fill(body, inventory))
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


PATCH_CASES = [
    ("not a list", {"op": "add", "path": "/extra/a", "value": 1}, 400),
    ("empty", [], 400),
    ("bad op", [{"op": "move", "path": "/extra", "from": "/x"}], 400),
    ("internal field", [{"op": "replace", "path": "/internal_info", "value": {}}], 400),
    ("uuid", [{"op": "replace", "path": "/uuid", "value": str(uuid.uuid4())}], 400),
    ("unknown root", [{"op": "add", "path": "/colour", "value": "red"}], 400),
    ("remove address", [{"op": "remove", "path": "/address"}], 400),
    ("remove node", [{"op": "remove", "path": "/node_uuid"}], 400),
    ("invalid mac", [{"op": "replace", "path": "/address", "value": "xx"}], 400),
    ("unknown node", [{"op": "replace", "path": "/node_uuid", "value": str(uuid.uuid4())}], 400),
    ("node not uuid", [{"op": "replace", "path": "/node_uuid", "value": "n"}], 400),
    ("extra not object", [{"op": "replace", "path": "/extra", "value": 5}], 400),
    ("missing member", [{"op": "remove", "path": "/extra/nothing"}], 400),
    ("pxe not bool", [{"op": "replace", "path": "/pxe_enabled", "value": "perhaps"}], 400),
    ("llc invalid", [{"op": "add", "path": "/local_link_connection", "value": {"port_id": "x"}}], 400),
    ("physnet too long", [{"op": "add", "path": "/physical_network", "value": "n" * 65}], 400),
    ("unknown portgroup", [{"op": "add", "path": "/portgroup_uuid", "value": str(uuid.uuid4())}], 400),
    ("duplicate mac", [{"op": "replace", "path": "/address", "value": "52:54:00:00:00:02"}], 409),
]


@pytest.mark.parametrize(("label", "patch", "status"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_refused(api, inventory, label, patch, status):
    make_port(api, {"uuid": inventory["node"]}, "52:54:00:00:00:02")
    before = snapshot(api)
    r = api.patch(f"/v1/ports/{inventory['port']}", json=patch)
    assert r.status_code == status, (label, r.text)
    fault(r)
    assert snapshot(api) == before


def test_bad_identifiers_and_methods(api, inventory):
    before = snapshot(api)
    for method, path, status in [
        ("GET", "/v1/ports/not-a-uuid", 404),  # from 1.88 a port may be named: no such name
        ("GET", f"/v1/ports/{uuid.uuid4()}", 404),
        ("PATCH", f"/v1/ports/{uuid.uuid4()}", 404),
        ("DELETE", f"/v1/ports/{uuid.uuid4()}", 404),
        ("DELETE", "/v1/ports/abc", 400),
        ("PUT", f"/v1/ports/{inventory['port']}", 405),
    ]:
        body = [{"op": "add", "path": "/extra/a", "value": 1}] if method == "PATCH" else None
        r = api.request(method, path, json=body)
        assert r.status_code == status, (method, path, r.text)
        fault(r)
    r = api.patch(f"/v1/ports/{inventory['port']}", content=b"[{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    fault(r)
    assert snapshot(api) == before


def test_openstacksdk_creates_and_lists_ports_and_portgroups(service):
    import openstack

    conn = openstack.connect(
        auth_type="none",
        baremetal_endpoint_override=service.url + "/",
        baremetal_api_version="1.65",
        load_yaml_config=False,
        load_envvars=False,
    )
    try:
        node = conn.baremetal.create_node(driver="fake-hardware", name="sdk-ports")
        pg = conn.baremetal.create_port_group(
            node_id=node.id, name="sdk-bond", mode="802.3ad", properties={"miimon": "100"}, address="52:54:00:00:10:00"
        )
        port = conn.baremetal.create_port(
            node_id=node.id,
            address="52:54:00:00:10:01",
            port_group_id=pg.id,
            local_link_connection={"switch_id": MAC, "port_id": "ge-0/0/1"},
        )
        assert port.port_group_id == pg.id and port.address == "52:54:00:00:10:01"
        assert [p.id for p in conn.baremetal.ports(details=True, node=node.id)] == [port.id]
        assert [g.name for g in conn.baremetal.port_groups(details=True)] == ["sdk-bond"]
        assert conn.baremetal.get_port_group("sdk-bond").mode == "802.3ad"
        updated = conn.baremetal.update_port(port, extra={"rack": "r1"})
        assert updated.extra == {"rack": "r1"}
        conn.baremetal.delete_port(port)
        conn.baremetal.delete_port_group(pg)
        assert list(conn.baremetal.ports()) == [] and list(conn.baremetal.port_groups()) == []
    finally:
        conn.close()


def test_ovn_vtep_keys_are_refused(api):
    """Ironic 1.105 removed the OVN VTEP keys of local_link_connection (406, as Ironic outside 1.90-1.104);
    Ironworks never took them."""
    node = make_node(api)
    for key in ("vtep-logical-switch", "vtep-physical-switch"):
        llc = {"port_id": "p1", key: "ls-1"}
        r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": MAC, "local_link_connection": llc})
        assert r.status_code == 406, r.text
        assert key in fault(r)["faultstring"]
    assert api.get("/v1/ports").json()["ports"] == []
