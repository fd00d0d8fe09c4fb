"""Ports and portgroups at API 1.67–1.111, each boundary one version below and at it, as Ironic 39 gates it.

Ironic's quirks are matched and named where a test relies on one (docs/dev/ironic-microversions.md §8):
port PATCH does not version-check name/description/vendor/category/available_for_dynamic_portgroup; portgroup
physical_network (1.102) and category (1.103) are only hidden below their versions, never refused; the
``conductor_groups`` filter (1.99) has no version check.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api.helpers import baremetal_cli, fault, make_node, snapshot
from tests.api.test_networks import make_network
from tests.api.test_ports import make_pg, make_port

M1, M2, M3, M4 = (f"52:54:00:00:01:0{i}" for i in range(1, 5))


# --- port fields 1.100, 1.101, 1.111 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "since"),
    [("vendor", "acme", 100), ("category", "storage", 101), ("available_for_dynamic_portgroup", False, 111)],
)
def test_port_field_boundary(service, api, field, value, since):
    node = make_node(api)
    with service.client(f"1.{since - 1}") as old, service.client(f"1.{since}") as new:
        body = {"node_uuid": node["uuid"], "address": M1, field: value}
        before = snapshot(api)
        r = old.post("/v1/ports", json=body)
        assert r.status_code == 406, r.text
        fault(r)
        assert snapshot(api) == before
        r = new.post("/v1/ports", json=body)
        assert r.status_code == 201, r.text
        port = r.json()
        assert port[field] == value
        assert field not in old.get(f"/v1/ports/{port['uuid']}").json()
        assert field not in old.get("/v1/ports/detail").json()["ports"][0]
        assert old.get("/v1/ports", params={"fields": f"uuid,{field}"}).status_code == 406
        assert old.get("/v1/ports", params={"sort_key": field}).status_code == 406
        assert new.get("/v1/ports", params={"fields": f"uuid,{field}"}).json()["ports"][0][field] == value
        assert new.get("/v1/ports", params={"sort_key": field}).status_code == 200
        # Ironic's PATCH does not check the version of these fields (quirk): accepted, still hidden in the answer
        replacement = "other" if isinstance(value, str) else True
        r = old.patch(f"/v1/ports/{port['uuid']}", json=[{"op": "replace", "path": f"/{field}", "value": replacement}])
        assert r.status_code == 200, r.text
        assert field not in r.json()
        assert new.get(f"/v1/ports/{port['uuid']}").json()[field] == replacement


def test_port_new_fields_defaults_and_limits(api):
    node = make_node(api)
    port = make_port(api, node, M1)
    assert port["vendor"] is None and port["category"] is None
    assert port["available_for_dynamic_portgroup"] is True  # Ironic's default
    for body in (
        {"vendor": "v" * 33},
        {"category": "c" * 81},
        {"available_for_dynamic_portgroup": "false"},  # a JSON boolean, as Ironic's schema
        {"vendor": 7},
    ):
        r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": M2, **body})
        assert r.status_code == 400, (body, r.text)
        fault(r)
    r = api.patch(f"/v1/ports/{port['uuid']}", json=[{"op": "replace", "path": "/vendor", "value": "v" * 33}])
    assert r.status_code == 400
    r = api.patch(
        f"/v1/ports/{port['uuid']}",
        json=[{"op": "replace", "path": "/available_for_dynamic_portgroup", "value": False}],
    )
    assert r.json()["available_for_dynamic_portgroup"] is False
    r = api.patch(f"/v1/ports/{port['uuid']}", json=[{"op": "remove", "path": "/available_for_dynamic_portgroup"}])
    assert r.status_code == 200 and r.json()["available_for_dynamic_portgroup"] is True


# --- portgroup fields 1.102, 1.103, 1.111 ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "since"), [("physical_network", "physnet1", 102), ("category", "bond", 103)]
)
def test_portgroup_field_boundary_hidden_not_refused(service, api, field, value, since):
    """Ironic only hides these below their versions: a body, a PATCH and ``fields=`` naming them are accepted."""
    node = make_node(api)
    with service.client(f"1.{since - 1}") as old, service.client(f"1.{since}") as new:
        r = old.post("/v1/portgroups", json={"node_uuid": node["uuid"], "name": "bond0", field: value})
        assert r.status_code == 201, r.text
        assert field not in r.json()
        pg = r.json()
        assert new.get(f"/v1/portgroups/{pg['uuid']}").json()[field] == value
        r = old.get("/v1/portgroups", params={"fields": f"uuid,{field}"})
        assert r.status_code == 200 and set(r.json()["portgroups"][0]) == {"uuid", "links"}
        assert new.get("/v1/portgroups", params={"fields": f"uuid,{field}"}).json()["portgroups"][0][field] == value
        r = old.patch("/v1/portgroups/bond0", json=[{"op": "replace", "path": f"/{field}", "value": "x2"}])
        assert r.status_code == 200, r.text
        assert field not in r.json() and new.get("/v1/portgroups/bond0").json()[field] == "x2"
        r = new.post("/v1/portgroups", json={"node_uuid": node["uuid"], field: "z" * 81})
        assert r.status_code == 400, r.text


def test_dynamic_portgroup_field_boundary(service, api):
    node = make_node(api)
    pg = make_pg(api, node, name="bond0")
    with service.client("1.110") as old, service.client("1.111") as new:
        assert "dynamic_portgroup" not in old.get("/v1/portgroups/bond0").json()
        assert new.get("/v1/portgroups/bond0").json()["dynamic_portgroup"] is False
        assert old.get("/v1/portgroups", params={"fields": "uuid,dynamic_portgroup"}).status_code == 406
        assert old.get("/v1/portgroups", params={"sort_key": "dynamic_portgroup"}).status_code == 406
        r = new.get("/v1/portgroups", params={"fields": "uuid,dynamic_portgroup"})
        assert r.json()["portgroups"] == [{"uuid": pg["uuid"], "dynamic_portgroup": False, "links": pg["links"]}]
        # read-only: only the conductor's trait-based networking makes one (Ironic: not in the schemas, 400)
        for client in (old, new):
            r = client.post("/v1/portgroups", json={"node_uuid": node["uuid"], "dynamic_portgroup": True})
            assert r.status_code == 400, r.text
            r = client.patch(
                "/v1/portgroups/bond0", json=[{"op": "replace", "path": "/dynamic_portgroup", "value": True}]
            )
            assert r.status_code == 400, r.text


# --- 1.94 node_ident --------------------------------------------------------------------------------------------
NODE_IDENT_CASES = [
    # (version, body keys: which node key names what, status)
    ("1.93", {"node_ident": "@uuid"}, 406),
    ("1.93", {"node_ident": "@name"}, 406),
    ("1.93", {"node_ident": "@uuid", "node_uuid": "@uuid"}, 400),  # Ironic's oneOf comes before the 406
    ("1.94", {"node_ident": "@name"}, 201),
    ("1.94", {"node_ident": "@uuid"}, 201),
    ("1.94", {"node_uuid": "@uuid"}, 201),
    ("1.94", {"node_ident": "nobody"}, 400),  # a missing node named in a body: 400, as Ironic
    ("1.94", {"node_ident": str(uuid.UUID(int=7))}, 400),
    ("1.94", {"node_ident": "@name", "node_uuid": "@uuid"}, 400),
    ("1.94", {}, 400),
]


def test_port_node_ident_boundary(service, api):
    node = make_node(api, name="n-ident")
    macs = iter(f"52:54:00:00:02:{i:02x}" for i in range(len(NODE_IDENT_CASES)))
    for version, keys, status in NODE_IDENT_CASES:
        body = {k: {"@uuid": node["uuid"], "@name": node["name"]}.get(v, v) for k, v in keys.items()}
        with service.client(version) as client:
            before = snapshot(api)
            r = client.post("/v1/ports", json={"address": next(macs), **body})
            assert r.status_code == status, (version, keys, r.text)
            if status != 201:
                fault(r)
                assert snapshot(api) == before
                continue
            assert r.json()["node_uuid"] == node["uuid"]
            assert "node_ident" not in r.json()


# --- 1.98 `~` and `/` in attribute keys ------------------------------------------------------------------------
@pytest.mark.parametrize("resource", ["ports", "portgroups", "nodes"])
def test_escaped_keys_in_patch_paths_boundary(service, api, resource):
    node = make_node(api)
    made = {"ports": lambda: make_port(api, node, M1), "portgroups": lambda: make_pg(api, node, name="bond0"),
            "nodes": lambda: node}[resource]()
    path = f"/v1/{resource}/{made['uuid']}"
    patch = [
        {"op": "add", "path": "/extra/rack~1row", "value": 1},
        {"op": "add", "path": "/extra/a~0b", "value": 2},
    ]
    with service.client("1.97") as old, service.client("1.98") as new:
        r = old.patch(path, json=patch)
        assert r.status_code == 400, r.text
        assert "does not match" in fault(r)["faultstring"]
        assert new.get(path).json()["extra"] == {}
        r = new.patch(path, json=patch)
        assert r.status_code == 200, r.text
        assert r.json()["extra"] == {"rack/row": 1, "a~b": 2}  # RFC 6901: ~1 is '/', ~0 is '~'
        r = new.patch(path, json=[{"op": "remove", "path": "/extra/rack~1row"}])
        assert r.json()["extra"] == {"a~b": 2}
        assert old.patch(path, json=[{"op": "add", "path": "/extra/plain_key-1", "value": 3}]).status_code == 200


# --- 1.99 conductor_groups, 1.82/1.106 shard --------------------------------------------------------------------
@pytest.fixture
def spread(api):
    """Nodes in conductor groups ga/gb/none and shards s1/s2/none, one port and one portgroup each."""
    nodes = {
        "a": make_node(api, name="a", conductor_group="ga", shard="s1"),
        "b": make_node(api, name="b", conductor_group="gb", shard="s2"),
        "c": make_node(api, name="c"),
    }
    for i, (key, node) in enumerate(nodes.items()):
        make_port(api, node, f"52:54:00:00:03:0{i}", name=f"p-{key}")
        make_pg(api, node, name=f"g-{key}", address=f"52:54:00:00:04:0{i}")
    return nodes


FILTER_CASES = [
    # (version, params, names of the ports ("p-") and portgroups ("g-") listed, or the status for each)
    ("1.1", {"conductor_groups": "ga"}, {"a"}, None),  # Ironic: no version check (ports; portgroups need 1.23)
    ("1.99", {"conductor_groups": "ga,gb"}, {"a", "b"}, {"a", "b"}),
    ("1.99", {"conductor_groups": "nope"}, set(), set()),
    ("1.99", {"conductor_groups": "ga", "node": "a"}, 400, 400),
    ("1.99", {"conductor_groups": "ga", "address": "52:54:00:00:03:00"}, 400, 400),
    ("1.81", {"shard": "s1"}, 406, None),
    ("1.82", {"shard": "s1,s2"}, {"a", "b"}, 406),
    ("1.82", {"shard": "s1", "node": "b"}, 403, 406),  # ports: Ironic's OperationNotPermitted
    ("1.105", {"shard": "s2"}, {"b"}, 406),
    ("1.106", {"shard": "s2"}, {"b"}, {"b"}),
    ("1.106", {"shard": "s1", "node": "b"}, 403, 400),
    ("1.106", {"shard": "s1", "conductor_groups": "gb"}, {"a"}, 400),  # ports: shard wins, as Ironic
    # ports: a node filter wins over an address (Ironic's precedence); portgroups: one filter at a time
    ("1.106", {"node": "a", "address": "52:54:00:00:03:01"}, {"a"}, 400),
]


def test_shard_and_conductor_group_filters(service, api, spread):
    for version, params, port_want, pg_want in FILTER_CASES:
        with service.client(version) as client:
            for resource, want in (("ports", port_want), ("portgroups", pg_want)):
                if want is None:
                    continue
                for path in (f"/v1/{resource}", f"/v1/{resource}/detail"):
                    r = client.get(path, params=params)
                    if isinstance(want, int):
                        assert r.status_code == want, (version, resource, params, r.text)
                        fault(r)
                        continue
                    assert r.status_code == 200, (version, resource, params, r.text)
                    names = {item["uuid"] for item in r.json()[resource]}
                    listed = api.get(f"/v1/{resource}/detail").json()[resource]
                    expected = {i["uuid"] for i in listed if i["name"] and i["name"][2:] in want}
                    assert names == expected, (version, resource, params)
    with service.client("1.106") as client:
        r = client.get(f"/v1/nodes/{spread['a']['uuid']}/ports", params={"shard": "s1"})
        assert r.status_code == 403  # a node sub-resource is a node filter too
        r = client.get("/v1/portgroups/g-a/ports", params={"shard": "s1"})
        assert r.status_code == 403


def test_port_description_contains_filter(service, api):
    """``?description_contains=`` (the port field of 1.97): no version check, as Ironic's code."""
    node = make_node(api, name="n1")
    uplink = make_port(api, node, M1, description="uplink to tor-1")
    odd = make_port(api, node, M2, description="storage 50%_x")
    make_port(api, node, M3)
    for version, params, want in [
        ("1.1", {"description_contains": "tor-"}, [uplink]),
        ("latest", {"description_contains": "50%_"}, [odd]),  # taken literally, not as a LIKE pattern
        ("latest", {"description_contains": "5_%"}, []),
        ("latest", {"description_contains": "o", "node": "n1"}, [uplink, odd]),
    ]:
        with service.client(version) as client:
            r = client.get("/v1/ports", params=params)
            assert r.status_code == 200, (version, params, r.text)
            assert [p["uuid"] for p in r.json()["ports"]] == [p["uuid"] for p in want], (version, params)


# --- 1.88 port names unique; 1.102 physical_network rules --------------------------------------------------------
def test_port_names_are_unique(api):
    node = make_node(api)
    first = make_port(api, node, M1, name="eth0")
    make_port(api, node, M2)
    make_port(api, node, M3)  # any number of unnamed ports
    other = make_node(api)
    before = snapshot(api)
    given = str(uuid.uuid4())
    r = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": M4, "name": "eth0", "uuid": given})
    assert r.status_code == 409, r.text
    # Ironic's words name the new port's UUID, never the other port's (which may be another project's)
    assert fault(r)["faultstring"] == f"A port with UUID {given} already exists."
    assert first["uuid"] not in r.text
    r = api.post("/v1/ports", json={"node_uuid": other["uuid"], "address": M4, "name": "eth0"})
    assert r.status_code == 409  # unique across nodes, as Ironic's uniq_ports0name
    assert snapshot(api) == before
    second = api.get("/v1/ports", params={"address": M2}).json()["ports"][0]
    r = api.patch(f"/v1/ports/{second['uuid']}", json=[{"op": "add", "path": "/name", "value": "eth0"}])
    assert r.status_code == 409, r.text
    assert fault(r)["faultstring"] == "A port with name eth0 already exists."
    r = api.patch(f"/v1/ports/{first['uuid']}", json=[{"op": "replace", "path": "/name", "value": "eth0"}])
    assert r.status_code == 200  # its own name


def test_port_physnet_fixed_inside_a_portgroup_from_1_102(service, api):
    node = make_node(api)
    pg = make_pg(api, node, name="bond0")
    port = make_port(api, node, M1, portgroup_uuid=pg["uuid"])
    path = f"/v1/ports/{port['uuid']}"
    with service.client("1.101") as old, service.client("1.102") as new:
        r = new.patch(path, json=[{"op": "add", "path": "/physical_network", "value": "physnet1"}])
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == "physical_network cannot be changed while the port belongs to a portgroup."
        assert api.get(path).json()["physical_network"] is None
        r = old.patch(path, json=[{"op": "add", "path": "/physical_network", "value": "physnet1"}])
        assert r.status_code == 200 and r.json()["physical_network"] == "physnet1"
        # Ironic looks at the patch's first operation only (is_path_updated): matched
        r = new.patch(
            path,
            json=[
                {"op": "add", "path": "/extra/a", "value": 1},
                {"op": "replace", "path": "/physical_network", "value": "p2"},
            ],
        )
        assert r.status_code == 200 and r.json()["physical_network"] == "p2"
    lone = make_port(api, node, M2)
    r = api.patch(f"/v1/ports/{lone['uuid']}", json=[{"op": "add", "path": "/physical_network", "value": "p3"}])
    assert r.status_code == 200


def test_portgroup_physnet_patch_reaches_member_ports(api):
    node = make_node(api)
    pg = make_pg(api, node, name="bond0")
    members = [make_port(api, node, mac, portgroup_uuid=pg["uuid"]) for mac in (M1, M2)]
    outside = make_port(api, node, M3)
    r = api.patch("/v1/portgroups/bond0", json=[{"op": "add", "path": "/physical_network", "value": "physnet1"}])
    assert r.status_code == 200 and r.json()["physical_network"] == "physnet1"
    for port in members:
        assert api.get(f"/v1/ports/{port['uuid']}").json()["physical_network"] == "physnet1"
    assert api.get(f"/v1/ports/{outside['uuid']}").json()["physical_network"] is None
    r = api.patch("/v1/portgroups/bond0", json=[{"op": "remove", "path": "/physical_network"}])
    assert r.status_code == 200 and r.json()["physical_network"] is None
    assert {api.get(f"/v1/ports/{p['uuid']}").json()["physical_network"] for p in members} == {None}


# --- 1.67 VIF attach with port_uuid and portgroup_uuid -----------------------------------------------------------
def test_vif_attach_port_and_portgroup_uuid_boundary(service, api):
    node = make_node(api, name="n1")
    make_port(api, node, M1)
    pinned = make_port(api, node, M2)
    make_network(api, name="web", vlan_id=100, physical_network="fabric", cidr="10.100.0.0/24")
    make_network(api, name="db", vlan_id=200, physical_network="fabric", cidr="10.200.0.0/24")
    both = {"port_uuid": pinned["uuid"], "portgroup_uuid": str(uuid.uuid4())}
    with service.client("1.67") as new:
        r = new.post("/v1/nodes/n1/vifs", json={"id": "v1", "network": "web", **both})
        assert r.status_code == 400, r.text
        assert fault(r)["faultstring"] == "Cannot specify both port_uuid and portgroup_uuid"
        assert new.get("/v1/nodes/n1/vifs").json()["vifs"] == []
    with service.client("1.66") as old:  # below 1.67 Ironic's conductor takes port_uuid and ignores the other
        r = old.post("/v1/nodes/n1/vifs", json={"id": "v1", "network": "web", **both})
        assert r.status_code == 204, r.text
        vifs = old.get("/v1/nodes/n1/vifs").json()["vifs"]
        assert [v["id"] for v in vifs] == ["v1"]
    assert api.get(f"/v1/ports/{pinned['uuid']}").json()["internal_info"]["tenant_vif_port_id"] == "v1"


# --- the openstack CLI -------------------------------------------------------------------------------------------
def test_openstack_baremetal_cli_port_options(service, api):
    cli = baremetal_cli(service.url)
    node = make_node(api, name="cli-node", shard="s1", conductor_group="ga")
    make_node(api, name="other")
    port = json.loads(
        cli(
            "port",
            "create",
            M1,
            "--node",
            node["uuid"],
            "--name",
            "eth0",
            "--vendor",
            "acme",
            "--category",
            "storage",
            "-f",
            "json",
        )
    )
    assert (port["name"], port["vendor"], port["category"]) == ("eth0", "acme", "storage")
    assert api.get(f"/v1/ports/{port['uuid']}").json()["available_for_dynamic_portgroup"] is True
    pg = json.loads(
        cli(
            "port",
            "group",
            "create",
            "--node",
            node["uuid"],
            "--name",
            "bond0",
            "--category",
            "lacp",
            "--physical-network",
            "physnet1",
            "-f",
            "json",
        )
    )
    assert (pg["category"], pg["physical_network"]) == ("lacp", "physnet1")
    assert api.get("/v1/portgroups/bond0").json()["dynamic_portgroup"] is False
    listed = json.loads(cli("port", "group", "list", "--shards", "s1", "-f", "json"))
    assert len(listed) == 1 and pg["uuid"] in json.dumps(listed)
    shown = json.loads(cli("port", "show", "eth0", "--fields", "uuid", "vendor", "category", "-f", "json"))
    assert shown == {"uuid": port["uuid"], "vendor": "acme", "category": "storage"}
    cli("port", "set", port["uuid"], "--extra", "rack~1row=r1")  # the client sends the path as given (1.98)
    assert api.get(f"/v1/ports/{port['uuid']}").json()["extra"] == {"rack/row": "r1"}
