"""``POST /v1/continue_inspection`` (API 1.84) through the real service: the version gate, Ironic's lookup and
answer, the agent-trust rules of /v1/lookup (DHCP lease, boot secret, token once per boot), the inspection
finished by the data (inventory stored, properties, ports, inspection rules), and hostile bodies."""

from __future__ import annotations

import httpx
import pytest

from tests.agent_service.client import TOKEN_HEADER, PlayedAgent
from tests.agent_service.conftest import MAC, agent_node, drop_leases, seed_lease
from tests.api.helpers import fault
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest

NEW_MAC = "52:54:00:aa:bb:01"
GIB = 1024**3


def _data(**plugin: object) -> dict:
    inventory = {
        "interfaces": [
            {"name": "lo", "mac_address": "00:00:00:00:00:00", "ipv4_address": "127.0.0.1"},
            {"name": "eth0", "mac_address": MAC.upper(), "ipv4_address": "192.0.2.10"},
            {"name": "eth1", "mac_address": NEW_MAC, "client_id": "ff:00:11"},
        ],
        "cpu": {"count": 8, "architecture": "x86_64"},
        "memory": {"total": 4 * GIB, "physical_mb": 4096},
        "system_vendor": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R640"},
        "bmc_address": "192.0.2.200",
    }
    return {"inventory": inventory, "root_disk": {"name": "/dev/sda", "size": 100 * GIB}, "logs": "bG9ncw==", **plugin}


def _waiting(api: httpx.Client, **fields: object) -> str:
    node = agent_node(api, **fields)
    move(api, node, "manage")
    assert provision(api, node, "inspect").status_code == 202
    assert settle(api, node)["provision_state"] == "inspect wait"
    return node


def _post(service: ServiceUnderTest, body: object, version: str = "1.84", **kw: object) -> httpx.Response:
    with service.client(version) as client:
        return client.post("/v1/continue_inspection", json=body, **kw)


@pytest.fixture
def leased(service: ServiceUnderTest):
    drop_leases(service)
    seed_lease(service)
    yield
    drop_leases(service)


def test_data_finishes_the_inspection_with_rules_ports_and_inventory(
    service: ServiceUnderTest, api: httpx.Client, leased: None
) -> None:
    node = _waiting(api)
    rules = [  # applied highest priority first: "first" is extended before "second"
        {"priority": 10, "actions": [{"op": "extend-attribute", "args": {"path": "extra/order", "value": "second"}}]},
        {
            "priority": 90,
            "conditions": [
                {"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "^Dell"}}
            ],
            "actions": [
                {"op": "extend-attribute", "args": {"path": "extra/order", "value": "first"}},
                {"op": "add-trait", "args": {"name": "CUSTOM_DELL"}},
                {"op": "set-capability", "args": {"name": "vendor", "value": "dell"}},
                {
                    "op": "set-attribute",
                    "args": {"path": "properties.model", "value": "{inventory[system_vendor][product_name]}"},
                },
                {"op": "set-plugin-data", "args": {"path": "rules.seen", "value": "yes"}},
            ],
        },
        {
            "priority": 50,
            "conditions": [{"op": "!eq", "args": {"values": ["{inventory[cpu][architecture]}", "x86_64"]}}],
            "actions": [{"op": "fail", "args": {"msg": "not applied"}}],
        },
    ]
    for rule in rules:
        assert api.post("/v1/inspection_rules", json=rule).status_code == 201
    r = _post(service, _data())
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["node"]["uuid"] == node and answer["config"]["agent_token"] not in ("", "******")
    assert set(answer["node"]) == {"uuid", "properties", "instance_info", "driver_internal_info", "links"}
    body = settle(api, node)
    assert body["provision_state"] == "manageable", body["last_error"]
    assert body["inspection_finished_at"] is not None and body["last_error"] is None
    props = body["properties"]
    assert (props["cpus"], props["cpu_arch"], props["memory_mb"], props["local_gb"]) == (8, "x86_64", 4096, 99)
    assert (props["model"], props["capabilities"]) == ("PowerEdge R640", "vendor:dell")
    assert body["extra"]["order"] == ["first", "second"]
    assert body["traits"] == ["CUSTOM_DELL"]
    # Ironic's add_ports default ("pxe", no PXE NIC named: every NIC but lo) created the new NIC's port
    ports = {p["address"]: p for p in api.get("/v1/ports/detail", params={"node": node}).json()["ports"]}
    assert set(ports) == {MAC, NEW_MAC}
    assert ports[NEW_MAC]["extra"] == {"client-id": "ff:00:11"} and ports[MAC]["pxe_enabled"] is True
    stored = api.get(f"/v1/nodes/{node}/inventory", headers={"X-OpenStack-Ironic-API-Version": "1.81"}).json()
    assert stored["inventory"]["cpu"]["count"] == 8
    assert stored["plugin_data"]["rules"] == {"seen": "yes"} and "logs" not in stored["plugin_data"]
    assert stored["plugin_data"]["macs"] == [MAC, NEW_MAC]
    # the node left inspect wait: the same data again finds nothing
    assert _post(service, _data()).status_code == 404


def test_version_gate_and_inspector_compatible_answer(
    service: ServiceUnderTest, api: httpx.Client, leased: None
) -> None:
    node = _waiting(api)
    for version in ("1.2", "1.83"):
        r = _post(service, _data(), version)
        assert r.status_code == 404 and "API version 1.84 or newer is required" in fault(r)["faultstring"]
    r = _post(service, _data(), "1.1", params={"node_uuid": node})  # node_uuid is new in 1.84
    assert r.status_code == 404
    assert "continue_inspection" not in api.get("/v1/", headers={"X-OpenStack-Ironic-API-Version": "1.83"}).json()
    assert "continue_inspection" in api.get("/v1/").json()
    r = _post(service, _data(), "1.1")  # ironic-inspector's ramdisks: exactly 1.1, answer {"uuid"}
    assert r.status_code == 202 and r.json() == {"uuid": node}
    assert settle(api, node)["provision_state"] == "manageable"


def test_lookup_trust_and_the_token_once_per_boot(service: ServiceUnderTest, api: httpx.Client) -> None:
    drop_leases(service)
    node = _waiting(api)
    # not the node's DHCP lease and no boot secret: the same 404 as an unknown node, nothing changes
    r = _post(service, _data())
    assert r.status_code == 404
    assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == "inspect wait"
    seed_lease(service)
    agent = PlayedAgent(service.url, MAC)
    try:
        assert agent.lookup().status_code == 200  # this boot's token is issued (to Ironworks' agent)
        # a wrong token: 401; the right one from the bound address: accepted, the token is not shown again
        assert _post(service, _data(), headers={TOKEN_HEADER: "x" * 43}).status_code == 401
        r = _post(service, _data(), headers={TOKEN_HEADER: agent.token})
        assert r.status_code == 202, r.text
        assert r.json()["config"]["agent_token"] == "******"
        assert settle(api, node)["provision_state"] == "manageable"
    finally:
        agent.close()
    # a second claimant of a boot whose token was issued (no token shown) fails the inspection, loudly
    assert provision(api, node, "inspect").status_code == 202
    assert settle(api, node)["provision_state"] == "inspect wait"
    assert _post(service, _data()).status_code == 202  # the first claim: this post
    settle(api, node)
    assert provision(api, node, "inspect").status_code == 202
    settle(api, node)
    agent = PlayedAgent(service.url, MAC)
    try:
        assert agent.lookup().status_code == 200
    finally:
        agent.close()
    r = _post(service, _data())
    assert r.status_code == 409, r.text
    body = settle(api, node)
    assert body["provision_state"] == "inspect failed" and "second agent lookup" in body["last_error"]


@pytest.mark.parametrize(
    ("plugin", "rule", "message"),
    [
        (
            {"error": "disk on fire"},
            None,
            "failed to run inspection hooks: Failed to inspect hardware. Reason: Ramdisk reported error: disk on fire",
        ),
        (
            {},
            {"actions": [{"op": "fail", "args": {"msg": "no GPUs"}}]},
            "Failed to finish inspection: Failed to inspect hardware. Reason: no GPUs",
        ),
        (
            {},
            {"actions": [{"op": "set-port-attribute", "args": {"port_id": "nope", "path": "extra/x", "value": 1}}]},
            "Failed to finish inspection: Failed to apply rule",
        ),
        (
            {},
            {
                "conditions": [
                    {
                        "op": "matches",
                        "args": {"value": "{inventory[system_vendor][product_name]}", "regex": "{item}"},
                        "loop": ["(a|aa)+$"],
                    }
                ],
                "actions": [{"op": "fail", "args": {"msg": "matched"}}],
            },
            "alternation inside a repetition",
        ),
    ],
    ids=["ramdisk-error", "fail-action", "bad-port", "runtime-regex-bounded"],
)
def test_failures_end_in_inspect_failed(
    service: ServiceUnderTest, api: httpx.Client, leased: None, plugin: dict, rule: dict | None, message: str
) -> None:
    node = _waiting(api)
    if rule is not None:
        assert api.post("/v1/inspection_rules", json=rule).status_code == 201
    assert _post(service, _data(**plugin)).status_code == 202
    body = settle(api, node)
    assert body["provision_state"] == "inspect failed"
    assert message in body["last_error"]


BAD = [
    ({}, 400, "'inventory' is a required property"),
    ({"inventory": []}, 400, "is not of type 'object'"),
    ({"inventory": {}}, 400, "'interfaces' is a required property"),
    ({"inventory": {"interfaces": []}}, 400, "should be non-empty"),
    ({"inventory": {"interfaces": [{"name": "eth0"}]}}, 400, "'mac_address' is a required property"),
    ({"inventory": {"interfaces": [{"mac_address": 5}]}}, 400, "is not of type 'string'"),
    ({"inventory": {"interfaces": [{"mac_address": "nope"}]}}, 400, "No lookup information provided"),
    ({"inventory": {"interfaces": [{"mac_address": "52:54:00:00:00:99"}]}}, 404, "could not be found"),
    ([1, 2], 400, "JSON object"),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_data_is_refused(service: ServiceUnderTest, body: object, status: int, message: str) -> None:
    r = _post(service, body)
    assert r.status_code == status, r.text
    assert message in fault(r)["faultstring"]


def test_hostile_bodies(service: ServiceUnderTest) -> None:
    with service.client("1.84") as client:
        r = client.post(
            "/v1/continue_inspection",
            content=b"{" + b" " * (16 * 1024 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400 and "at most" in fault(r)["faultstring"]
        deep: object = MAC
        for _ in range(300):
            deep = {"a": deep}
        r = client.post(
            "/v1/continue_inspection", json={"inventory": {"interfaces": [{"mac_address": MAC}]}, "x": deep}
        )
        assert r.status_code == 400 and "nested deeper" in fault(r)["faultstring"]
        r = client.post("/v1/continue_inspection", params={"node_uuid": "x"}, json=_data())
        assert r.status_code == 400


def test_own_agent_inspection_applies_rules(service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent) -> None:
    node = _waiting(api)
    rule = {
        "conditions": [{"op": "gt", "args": {"values": ["{inventory[cpu][count]}", "2"]}}],
        "actions": [
            {"op": "add-trait", "args": {"name": "CUSTOM_BIG"}},
            {"op": "set-attribute", "args": {"path": "resource_class", "value": "big"}},
        ],
    }
    assert api.post("/v1/inspection_rules", json=rule).status_code == 201
    assert agent.lookup().status_code == 200 and agent.heartbeat().status_code == 202
    inventory = {"cpu": {"count": 4, "architecture": "x86_64"}, "memory": {"physical_mb": 2048}, "interfaces": []}
    agent.run({"get_inventory": {"result": {"inventory": inventory, "root_disk": None}}}, until=1)
    body = settle(api, node)
    assert body["provision_state"] == "manageable", body["last_error"]
    assert body["traits"] == ["CUSTOM_BIG"] and body["resource_class"] == "big"


def test_boot_secret_admits_data_from_an_unleased_address(service: ServiceUnderTest, api: httpx.Client) -> None:
    """A virtual-media boot has no DHCP lease of Ironworks': the boot's secret (here stored as a netboot would,
    ``trust.new_boot``) admits the data once; a wrong secret gets the lookup's 404."""
    from ironworks.drivers.agent import trust
    from ironworks.drivers.agent.channel import hash_token
    from tests.agent_service.conftest import set_columns

    drop_leases(service)
    node = _waiting(api)
    info = api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]
    info.update({trust.BOOT_SECRET_HASH: hash_token("s3cret"), trust.BOOT_STATE: trust.PREPARED})
    set_columns(service, node, driver_internal_info=info)
    assert _post(service, _data(), headers={trust.SECRET_HEADER: "wrong"}).status_code == 404
    r = _post(service, _data(), headers={trust.SECRET_HEADER: "s3cret"})
    assert r.status_code == 202, r.text
    assert settle(api, node)["provision_state"] == "manageable"
