"""Trait-based networking (API 1.111) through the running service: a VIF attach on a node whose instance traits
match a rule creates a dynamic portgroup from its free ports available for dynamic portgroups; detach deletes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import make_node
from tests.api.test_networks import WEB, make_network
from tests.api.test_ports import make_port
from tests.conftest import _pg_or_skip
from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings

RULES = """
CUSTOM_BOND:
  actions:
    - action: group_and_attach_ports
      filter: "port.vendor == 'acme' && network.name =~ 'we'"
      min_count: 2
      max_count: 3
CUSTOM_SINGLE:
  actions:
    - action: attach_port
      filter: "port.category == 'storage'"
"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def tbn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    state = tmp_path_factory.mktemp("tbn")
    rules = state / "tbn.yaml"
    rules.write_text(RULES)
    overrides = dict(
        trait_based_networking_enabled=True,
        trait_based_networking_config_file=str(rules),
        trait_based_networking_enable_default_trait=False,
    )
    if request.param == "sqlite":
        svc = ServiceUnderTest(make_settings(str(state), f"sqlite:///{state}/iw.sqlite", **overrides)).start()
        yield svc
        svc.stop()
        return
    with fresh_pg_database(_pg_or_skip()) as url:
        svc = ServiceUnderTest(make_settings(str(state), url, **overrides)).start()
        yield svc
        svc.stop()


@pytest.fixture
def api(tbn: ServiceUnderTest) -> Iterator:
    tbn.reset()
    Path(tbn.settings.trait_based_networking_config_file).write_text(RULES)
    with tbn.client("latest") as client:
        yield client


def _node(api, traits):
    node = make_node(api)
    r = api.patch(
        f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": "/instance_info", "value": {"traits": traits}}]
    )
    assert r.status_code == 200, r.text
    make_network(api, **WEB)
    return node


def _pgs(client, node):
    return client.get(f"/v1/portgroups?node={node['uuid']}&detail=true").json()["portgroups"]


def test_attach_groups_available_ports_and_detach_removes_the_group(tbn, api):
    node = _node(api, ["CUSTOM_BOND"])
    ports = [
        make_port(api, node, f"52:54:00:00:00:0{i}", vendor="acme", physical_network="fabric") for i in range(1, 4)
    ]
    kept = make_port(
        api, node, "52:54:00:00:00:09", vendor="acme", physical_network="fabric", available_for_dynamic_portgroup=False
    )
    r = api.post(f"/v1/nodes/{node['uuid']}/vifs", json={"id": "vif-1", "network": "web"})
    assert r.status_code == 204, r.text

    groups = _pgs(api, node)
    assert len(groups) == 1 and groups[0]["dynamic_portgroup"] is True
    assert groups[0]["name"].startswith("tbn_dyn_portgroup_")
    assert groups[0]["internal_info"]["tenant_vif_port_id"] == "vif-1"
    vifs = api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"]
    assert [v["id"] for v in vifs] == ["vif-1"]
    members = api.get(f"/v1/ports?portgroup={groups[0]['uuid']}").json()["ports"]
    assert sorted(p["uuid"] for p in members) == sorted(p["uuid"] for p in ports)
    assert api.get(f"/v1/ports/{kept['uuid']}").json()["portgroup_uuid"] is None  # never grouped
    with tbn.client("1.110") as old:
        assert "dynamic_portgroup" not in _pgs(old, node)[0]

    r = api.delete(f"/v1/nodes/{node['uuid']}/vifs/vif-1")
    assert r.status_code == 204, r.text
    assert _pgs(api, node) == []
    assert all(api.get(f"/v1/ports/{p['uuid']}").json()["portgroup_uuid"] is None for p in ports)


def test_ports_unavailable_for_dynamic_portgroups_are_never_grouped(api):
    node = _node(api, ["CUSTOM_BOND"])
    make_port(api, node, "52:54:00:00:00:01", vendor="acme", physical_network="fabric")
    make_port(
        api, node, "52:54:00:00:00:02", vendor="acme", physical_network="fabric", available_for_dynamic_portgroup=False
    )
    r = api.post(f"/v1/nodes/{node['uuid']}/vifs", json={"id": "vif-1", "network": "web"})
    assert r.status_code == 400, r.text
    assert "No matching ports" in r.json()["error_message"]
    assert _pgs(api, node) == [] and api.get(f"/v1/nodes/{node['uuid']}/vifs").json()["vifs"] == []


def test_attach_port_rule_and_no_applicable_trait(api):
    node = _node(api, ["CUSTOM_SINGLE"])
    make_port(api, node, "52:54:00:00:00:01", category="compute")
    storage = make_port(api, node, "52:54:00:00:00:02", category="storage")
    r = api.post(f"/v1/nodes/{node['uuid']}/vifs", json={"id": "vif-1", "network": "web"})
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/ports/{storage['uuid']}").json()["internal_info"]["tenant_vif_port_id"] == "vif-1"

    other = make_node(api, name="plain")
    make_port(api, other, "52:54:00:00:00:03")
    r = api.post("/v1/nodes/plain/vifs", json={"id": "vif-2", "network": "web"})
    assert r.status_code == 400, r.text  # Ironic's trait_based_networking_raise_when_no_match (default True)
    assert "No Trait Based Networking traits" in r.json()["error_message"]


def test_invalid_rules_file_gives_no_traits(tbn, api):
    Path(tbn.settings.trait_based_networking_config_file).write_text(
        'CUSTOM_BOND:\n  actions:\n    - action: bond_ports\n      filter: "port.is_port"\n'
    )
    node = _node(api, ["CUSTOM_BOND"])
    make_port(api, node, "52:54:00:00:00:01")
    r = api.post(f"/v1/nodes/{node['uuid']}/vifs", json={"id": "vif-1", "network": "web"})
    assert r.status_code == 400 and "No Trait Based Networking traits" in r.json()["error_message"]
