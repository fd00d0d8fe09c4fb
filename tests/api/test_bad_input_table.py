"""A table of hostile inputs to every resource and verb: each answers 4xx in Ironic's error format, never 5xx.

On SQLite and PostgreSQL alike (PostgreSQL is the strict one: NUL in text, INTEGER beyond 2^31, VARCHAR
lengths). One world of resources is made per database and every case is one request against it, so the
table stays fast. A case marked ``refuse`` must be a 4xx; the others (a long string where the column has
no length, say) may succeed, but never with a 5xx. Cases never delete or move the world's resources.

The ``Authorization: Basic`` cases run against a service with ``auth_strategy = http_basic`` of its own.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ironworks.auth import users as user_admin
from ironworks.db.repos.users import UserRepo
from tests.api.helpers import fault, post_allocation
from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings

NUL = "a\u0000b"
LONG = "x" * 300
HUGE = "y" * 5000
BIG_INTS = (2**31, 2**63, 2**64 - 1, -(2**63) - 1)
NOWHERE = str(uuid.uuid4())


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: must be a 4xx (else: anything but a 5xx)
    refuse: bool = True


@dataclass(frozen=True)
class Resource:
    name: str
    collection: str
    #: the world's item of this resource, as a format key of World
    item: str
    create: dict[str, Any]
    strings: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()
    patch: bool = True
    #: strings whose column is bounded (a 300-character value must be refused)
    bounded: tuple[str, ...] = ()


RESOURCES = [
    Resource(
        "nodes",
        "/v1/nodes",
        "{node}",
        {"driver": "fake-hardware"},
        strings=(
            "name",
            "description",
            "resource_class",
            "owner",
            "lessee",
            "conductor_group",
            "driver",
            "instance_uuid",
            "chassis_uuid",
            "shard",
            "parent_node",
            "instance_name",
        ),
        blobs=("extra", "properties", "driver_info", "instance_info", "network_data"),
        bounded=(
            "name",
            "resource_class",
            "owner",
            "lessee",
            "conductor_group",
            "driver",
            "instance_uuid",
            "chassis_uuid",
            "shard",
            "parent_node",
            "instance_name",
        ),
    ),
    Resource(
        "ports",
        "/v1/ports",
        "{port}",
        {"address": "52:54:00:aa:bb:01", "node_uuid": "{node}"},
        strings=(
            "address",
            "physical_network",
            "portgroup_uuid",
            "node_uuid",
            "name",
            "description",
            "vendor",
            "category",
        ),
        blobs=("extra", "local_link_connection"),
        bounded=(
            "address",
            "physical_network",
            "portgroup_uuid",
            "node_uuid",
            "name",
            "description",
            "vendor",
            "category",
        ),
    ),
    Resource(
        "portgroups",
        "/v1/portgroups",
        "{portgroup}",
        {"node_uuid": "{node}"},
        strings=("name", "address", "mode", "node_uuid", "physical_network", "category"),
        blobs=("extra", "properties"),
        bounded=("name", "address", "mode", "node_uuid", "physical_network", "category"),
    ),
    Resource(
        "chassis", "/v1/chassis", "{chassis}", {}, strings=("description",), blobs=("extra",), bounded=("description",)
    ),
    Resource(
        "allocations",
        "/v1/allocations",
        "{allocation}",
        {"resource_class": "gold"},
        strings=("name", "resource_class", "owner", "node"),
        blobs=("extra",),
        bounded=("name", "resource_class", "owner"),
    ),
    Resource(
        "flavors",
        "/v1/flavors",
        "{flavor}",
        {"name": "f-new", "resource_class": "gold"},
        strings=("name", "resource_class", "description"),
        ints=("cpus", "memory_mb", "local_gb"),
        blobs=("extra_specs",),
        bounded=("name", "resource_class"),
    ),
    Resource(
        "networks",
        "/v1/networks",
        "{network}",
        {"name": "n-new", "vlan_id": 301},
        strings=("name", "physical_network", "cidr", "gateway", "dhcp_interface", "owner"),
        ints=("vlan_id", "mtu"),
        blobs=("extra",),
        bounded=("name", "physical_network", "cidr", "owner"),
    ),
    Resource(
        "images",
        "/v1/images",
        "{image}",
        {
            "name": "i-new",
            "url": "http://127.0.0.1:9/i.img",
            "os_hash_algo": "sha256",
            "os_hash_value": "0" * 64,
            "disk_format": "raw",
        },
        strings=("name", "url", "description", "os_hash_value", "disk_format"),
        blobs=("extra",),
        patch=False,
        bounded=("name", "os_hash_value", "disk_format"),
    ),
    Resource(
        "instances",
        "/v1/instances",
        "{instance}",
        {"name": "s-new", "flavor": "tflavor"},
        strings=("name", "hostname", "flavor", "resource_class", "root_password", "user_data"),
        patch=False,
        bounded=("name", "hostname", "flavor", "resource_class"),
    ),
]


def _resource_cases(res: Resource) -> Iterator[Case]:
    name, coll, item = res.name, res.collection, f"{res.collection}/{res.item}"
    # --- create -------------------------------------------------------------------------------------------
    for key in res.strings:
        yield Case(f"{name} create {key} NUL", "POST", coll, {**res.create, key: NUL})
        yield Case(f"{name} create {key} 300 chars", "POST", coll, {**res.create, key: LONG}, refuse=key in res.bounded)
        yield Case(f"{name} create {key} list", "POST", coll, {**res.create, key: [NUL]})
    for key in res.ints:
        for value in BIG_INTS:
            yield Case(f"{name} create {key} {value}", "POST", coll, {**res.create, key: value})
        yield Case(
            f"{name} create {key} 1e400",
            "POST",
            coll,
            content=json.dumps(res.create)[:-1].encode() + f', "{key}": 1e400}}'.encode(),
        )
    for key in res.blobs:
        yield Case(f"{name} create {key} NUL value", "POST", coll, {**res.create, key: {"k": {"v": NUL}}})
        yield Case(f"{name} create {key} NUL key", "POST", coll, {**res.create, key: {NUL: 1}})
        yield Case(f"{name} create {key} 100 deep", "POST", coll, {**res.create, key: {"k": deep(100)}})
    yield Case(f"{name} create uuid 300 chars", "POST", coll, {**res.create, "uuid": LONG})
    yield Case(f"{name} create not json", "POST", coll, content=b"{nope")
    yield Case(f"{name} create array", "POST", coll, [res.create])
    yield Case(f"{name} create 2000 deep", "POST", coll, content=b"[" * 2000 + b"]" * 2000)
    yield Case(f"{name} create unknown field NUL", "POST", coll, {**res.create, NUL: 1})
    # --- read ---------------------------------------------------------------------------------------------
    for query in (
        f"limit={2**70}",
        "limit=-1",
        "limit=abc",
        f"marker={2**70}",
        f"marker={LONG}",
        "marker=%00",
        f"sort_key={LONG}",
        "sort_dir=sideways",
        "fields=nope%00",
        f"name={HUGE}",
        "x%00=1",
    ):
        yield Case(f"{name} list ?{query[:20]}", "GET", f"{coll}?{query}")
    for ident in ("a%00b", LONG, HUGE, str(2**70), "%C0%AE%C0%AE"):
        yield Case(f"{name} show {ident[:12]}", "GET", f"{coll}/{ident}")
        yield Case(f"{name} delete {ident[:12]}", "DELETE", f"{coll}/{ident}")
    yield Case(f"{name} show ?fields NUL", "GET", f"{item}?fields=uuid%00")
    # --- update -------------------------------------------------------------------------------------------
    if not res.patch:
        return
    for key in res.strings:
        yield Case(f"{name} patch {key} NUL", "PATCH", item, [{"op": "replace", "path": f"/{key}", "value": NUL}])
        yield Case(
            f"{name} patch {key} 300 chars",
            "PATCH",
            item,
            [{"op": "replace", "path": f"/{key}", "value": LONG}],
            refuse=key in res.bounded,
        )
    for key in res.ints:
        for value in BIG_INTS[:2]:
            yield Case(
                f"{name} patch {key} {value}", "PATCH", item, [{"op": "replace", "path": f"/{key}", "value": value}]
            )
    blob = res.blobs[0]
    yield Case(f"{name} patch {blob} NUL key", "PATCH", item, [{"op": "add", "path": f"/{blob}/a\u0000", "value": 1}])
    yield Case(f"{name} patch {blob} deep", "PATCH", item, [{"op": "add", "path": f"/{blob}/k", "value": deep(100)}])
    yield Case(f"{name} patch not a list", "PATCH", item, {"op": "replace"})
    yield Case(f"{name} patch bad op", "PATCH", item, [{"op": "frobnicate", "path": "/extra", "value": 1}])
    yield Case(f"{name} patch path 5000", "PATCH", item, [{"op": "add", "path": "/" + HUGE, "value": 1}])
    yield Case(f"{name} patch NUL ident", "PATCH", f"{coll}/a%00b", [{"op": "remove", "path": "/extra/k"}])


def _node_cases() -> Iterator[Case]:
    n = "/v1/nodes/{node}"
    for target in (NUL, LONG, 5, None):
        yield Case(f"provision target {str(target)[:8]!r}", "PUT", f"{n}/states/provision", {"target": target})
    yield Case(
        "provision configdrive deep",
        "PUT",
        f"{n}/states/provision",
        {"target": "active", "configdrive": {"meta_data": deep(100)}},
    )
    yield Case(
        "provision configdrive NUL",
        "PUT",
        f"{n}/states/provision",
        {"target": "active", "configdrive": {"user_data": NUL}},
    )
    yield Case(
        "provision clean_steps NUL",
        "PUT",
        f"{n}/states/provision",
        {"target": "clean", "clean_steps": [{"interface": NUL, "step": "x"}]},
    )
    for body in ({"target": NUL}, {"target": "power on", "timeout": -1}, {"target": LONG}):
        yield Case(f"power {json.dumps(body)[:30]}", "PUT", f"{n}/states/power", body)
    yield Case(
        "power timeout 2**63", "PUT", f"{n}/states/power", {"target": "power on", "timeout": 2**63}, refuse=False
    )
    for body in ({"boot_device": NUL}, {"boot_device": LONG}, {"boot_device": "pxe", "persistent": NUL}):
        yield Case(f"boot device {json.dumps(body)[:30]}", "PUT", f"{n}/management/boot_device", body)
    for body in ({"logical_disks": deep(100)}, {"logical_disks": [{"size_gb": 10, "raid_level": NUL}]}):
        yield Case(f"raid {json.dumps(body)[:30]}", "PUT", f"{n}/states/raid", body)
    yield Case(
        "raid size 2**63",
        "PUT",
        f"{n}/states/raid",
        {"logical_disks": [{"size_gb": 2**63, "raid_level": "1"}]},
        refuse=False,
    )
    yield Case("maintenance reason NUL", "PUT", f"{n}/maintenance", {"reason": NUL})
    yield Case("maintenance reason deep", "PUT", f"{n}/maintenance", {"reason": deep(100)})
    yield Case("traits NUL", "PUT", f"{n}/traits", {"traits": [NUL]})
    yield Case("traits 300 chars", "PUT", f"{n}/traits", {"traits": ["CUSTOM_" + LONG]})
    yield Case("trait path NUL", "PUT", f"{n}/traits/CUSTOM_A%00")
    yield Case("trait path 300", "PUT", f"{n}/traits/CUSTOM_{LONG}")
    yield Case("trait delete NUL", "DELETE", f"{n}/traits/CUSTOM_A%00")
    for sub in (
        "states",
        "validate",
        "traits",
        "management/boot_device",
        "management/boot_device/supported",
        "ports",
        "portgroups",
        "vifs",
        "allocation",
        "inventory",
        "history",
    ):
        yield Case(f"node {sub} NUL node", "GET", f"/v1/nodes/a%00b/{sub}")
    # VIFs
    for body in ({"id": NUL}, {"id": LONG}, {"id": deep(100)}, {"id": "v1", "network": NUL}, {"id": 2**63}):
        yield Case(f"vif attach {json.dumps(body)[:30]}", "POST", f"{n}/vifs", body)
    yield Case("vif detach NUL", "DELETE", f"{n}/vifs/a%00b")
    yield Case("vif detach 5000", "DELETE", f"{n}/vifs/{HUGE}")
    # history
    for query in (f"limit={2**70}", "limit=-1", f"marker={LONG}", "marker=%00", "detail=maybe", "x=1"):
        yield Case(f"history ?{query[:20]}", "GET", f"{n}/history?{query}")
    yield Case("history event 300", "GET", f"{n}/history/{LONG}")
    yield Case("history event NUL", "GET", f"{n}/history/a%00b")
    yield Case("node allocation delete NUL", "DELETE", "/v1/nodes/a%00b/allocation")


def _other_cases() -> Iterator[Case]:
    # sub-collections
    for path in (
        "/v1/chassis/{chassis}/nodes?limit=%s" % 2**70,
        "/v1/chassis/a%00b/nodes",
        "/v1/portgroups/{portgroup}/ports?marker=%00",
        "/v1/portgroups/a%00b/ports/detail",
        "/v1/nodes/{node}/ports?limit=%s" % 2**70,
        "/v1/nodes/{node}/portgroups/detail?sort_key=%00",
        "/v1/nodes/detail?limit=%s" % 2**70,
        "/v1/ports/detail?address=%00",
        "/v1/allocations/candidates?resource_class=%00",
        f"/v1/allocations/candidates?flavor={HUGE}",
        f"/v1/networks/detail?limit={2**70}",
    ):
        yield Case(f"sub-collection {path[:40]}", "GET", path)
    # reads with long strings: nothing matches, an answer (not an error) is fine
    for path in (
        f"/v1/allocations/candidates?resource_class={LONG}",
        f"/v1/audit?user={HUGE}",
        f"/v1/audit?request_id={LONG}",
        f"/v1/nodes?resource_class={HUGE}",
        f"/v1/ports?address={LONG}",
    ):
        yield Case(f"long read {path[:40]}", "GET", path, refuse=False)
    # drivers
    for path in (
        "/v1/drivers/a%00b",
        f"/v1/drivers/{LONG}",
        "/v1/drivers/a%00b/properties",
        f"/v1/drivers/{HUGE}/properties",
        "/v1/drivers?type=%00",
        "/v1/drivers?detail=maybe",
        "/v1/drivers?type=bogus",
    ):
        yield Case(f"drivers {path[:30]}", "GET", path)
    # projects
    for body in (
        {"isolated": NUL},
        {"isolated": True, "pool": NUL},
        {"isolated": True, "pool": LONG},
        {"max_allocations": 2**63},
        {"max_allocations": 2**31},
        {"extra": deep(100)},
    ):
        yield Case(f"project put {json.dumps(body)[:30]}", "PUT", "/v1/projects/acme", body)
    yield Case("project put NUL id", "PUT", "/v1/projects/a%00b", {"isolated": True})
    yield Case("project put 300 id", "PUT", f"/v1/projects/{LONG}", {"isolated": True})
    yield Case("project show NUL", "GET", "/v1/projects/a%00b")
    yield Case("project delete 5000", "DELETE", f"/v1/projects/{HUGE}")
    yield Case("projects ?limit", "GET", f"/v1/projects?limit={2**70}")
    # audit
    for query in (
        f"limit={2**70}",
        f"marker={2**70}",
        f"marker=-{2**70}",
        "marker=abc",
        f"status={2**70}",
        "since=yesterday",
        "until=%00",
        "user=%00",
        f"node={LONG}",
        "method=FROB",
        "sort_dir=up",
        "x=1",
    ):
        yield Case(f"audit ?{query[:20]}", "GET", f"/v1/audit?{query}")
    # the agent's public paths
    for query in ("addresses=%00", f"addresses={LONG}", f"node_uuid={LONG}", "node_uuid=%00", "addresses=zz"):
        yield Case(f"lookup ?{query[:20]}", "GET", f"/v1/lookup?{query}")
    for body in (
        {"callback_url": NUL},
        {"callback_url": LONG * 10},
        {"agent_version": deep(100)},
        {"agent_token": NUL},
        {"agent_version": 2**63},
    ):
        yield Case(f"heartbeat {json.dumps(body)[:30]}", "POST", "/v1/heartbeat/{node}", body)
    yield Case("heartbeat NUL node", "POST", "/v1/heartbeat/a%00b", {})
    yield Case("heartbeat 300 node", "POST", f"/v1/heartbeat/{LONG}", {})
    yield Case("agent next NUL node", "GET", "/v1/agent/a%00b/commands/next")
    yield Case("agent result NUL", "POST", "/v1/agent/{node}/commands/x/result", {"result": NUL})
    yield Case("agent result deep", "POST", "/v1/agent/{node}/commands/x/result", {"result": deep(100)})
    # headers anywhere (sent raw: HTTP clients refuse to send a NUL in a header)
    for header in ("X-OpenStack-Ironic-API-Version", "OpenStack-API-Version", "X-Anything", "Authorization"):
        for method, path in (("GET", "/v1/nodes"), ("POST", "/v1/heartbeat/{node}"), ("GET", "/v1/lookup")):
            yield Case(f"header {header} NUL {method} {path[4:13]}", method, path, headers={header: "1.1\u0000"})
    yield Case("version header 300", "GET", "/v1/nodes", headers={"X-OpenStack-Ironic-API-Version": LONG})
    yield Case(
        "version header 1.99999999999999999999",
        "GET",
        "/v1/nodes",
        headers={"X-OpenStack-Ironic-API-Version": "1.99999999999999999999"},
    )
    yield Case("basic NUL under noauth", "GET", "/v1/nodes", headers={"Authorization": _basic("a\u0000b", "p")})


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


CASES = [case for res in RESOURCES for case in _resource_cases(res)] + list(_node_cases()) + list(_other_cases())


@dataclass
class World:
    ids: dict[str, str]

    def fill(self, text: str) -> str:
        for key, value in self.ids.items():
            text = text.replace("{" + key + "}", value)
        return text


def _made(r: httpx.Response) -> str:
    assert r.status_code in (200, 201, 202), r.text
    return str(r.json()["uuid"])


@pytest.fixture(scope="module")
def world(_session_service: ServiceUnderTest) -> Iterator[tuple[httpx.Client, World]]:
    _session_service.reset()
    with _session_service.client("latest") as api:
        ids = {"chassis": _made(api.post("/v1/chassis", json={"description": "rack"}))}
        ids["node"] = _made(
            api.post(
                "/v1/nodes",
                json={
                    "driver": "fake-hardware",
                    "name": "tnode",
                    "chassis_uuid": ids["chassis"],
                    "resource_class": "gold",
                },
            )
        )
        ids["portgroup"] = _made(api.post("/v1/portgroups", json={"node_uuid": ids["node"], "name": "tpg"}))
        ids["port"] = _made(api.post("/v1/ports", json={"node_uuid": ids["node"], "address": "52:54:00:00:00:01"}))
        ids["flavor"] = _made(api.post("/v1/flavors", json={"name": "tflavor", "resource_class": "gold"}))
        ids["network"] = _made(api.post("/v1/networks", json={"name": "tnet", "vlan_id": 300}))
        ids["image"] = _made(
            api.post(
                "/v1/images",
                json={
                    "name": "timage",
                    "url": "http://127.0.0.1:9/t.img",
                    "os_hash_algo": "sha256",
                    "os_hash_value": "0" * 64,
                    "disk_format": "raw",
                },
            )
        )
        ids["allocation"] = _made(post_allocation(api, {"resource_class": "silver", "name": "talloc"}))
        ids["instance"] = NOWHERE
        yield api, World(ids)
    _session_service.reset()


def _send(api: httpx.Client, world: World, case: Case) -> httpx.Response:
    headers = {**api.headers, **{name.lower(): value for name, value in case.headers.items()}}
    content = world.fill(json.dumps(case.json)).encode() if case.json is not None else case.content
    if content is not None:
        headers["Content-Type"] = "application/json"
    if any("\x00" in value for value in case.headers.values()):
        return raw_request(str(api.base_url), case.method, world.fill(case.path), headers, content or b"")
    return api.request(case.method, world.fill(case.path), content=content, headers=headers)


def raw_request(base: str, method: str, path: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    """One HTTP/1.1 request written byte for byte on a socket (no client library's checks), its answer parsed."""
    url = httpx.URL(base)
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {url.host}:{url.port}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    head += [f"{name}: {value}" for name, value in headers.items() if name.lower() not in ("host", "connection")]
    with socket.create_connection((url.host, url.port), timeout=30) as sock:
        sock.sendall("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    raw_headers, _, payload = rest.partition(b"\r\n\r\n")
    parsed = [tuple(line.split(b": ", 1)) for line in raw_headers.split(b"\r\n") if b": " in line]
    return httpx.Response(int(status_line.split()[1]), headers=parsed, content=payload)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_bad_input(world: tuple[httpx.Client, World], case: Case) -> None:
    api, ids = world
    r = _send(api, ids, case)
    assert r.status_code < 500, (case.label, r.status_code, r.text[:300])
    if case.refuse:
        assert 400 <= r.status_code < 500, (case.label, r.status_code, r.text[:300])
    if r.status_code >= 400:
        fault(r)


# --- Authorization: Basic, under http_basic ---------------------------------------------------------------
PASSWORD = "a long enough password"
BASIC_CASES = [
    ("NUL in user", _basic("olga\u0000", PASSWORD)),
    ("NUL in password", _basic("olga", PASSWORD + "\u0000")),
    ("NUL only", _basic("\u0000", "\u0000")),
    ("no colon", "Basic " + base64.b64encode(b"olga").decode()),
    ("not base64", "Basic !!!!"),
    ("not utf-8", "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()),
    ("user 300", _basic(LONG, PASSWORD)),
    ("user 20000", _basic("u" * 20000, PASSWORD)),
    ("password 40000", _basic("olga", "p" * 40000)),
    ("padding only", "Basic ="),
    ("scheme only", "Basic"),
    ("other scheme", "Bearer abc"),
    ("wrong password", _basic("olga", "nope")),
    ("unknown user", _basic("nobody", PASSWORD)),
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def basic_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = str(tmp_path_factory.mktemp("basic-table"))

    def start(url: str) -> ServiceUnderTest:
        svc = ServiceUnderTest(make_settings(state, url, auth_strategy="http_basic")).start()
        user_admin.add(UserRepo(svc.services.db), "olga", project="ops", role="admin", password=PASSWORD, rounds=4)
        return svc

    if request.param == "sqlite":
        svc = start(f"sqlite:///{state}/basic.sqlite")
        yield svc.url
        svc.stop()
        return
    pg_url = request.getfixturevalue("pg_url")
    with fresh_pg_database(pg_url) as url:
        svc = start(url)
        yield svc.url
        svc.stop()


@pytest.mark.parametrize(("label", "header"), BASIC_CASES, ids=[c[0] for c in BASIC_CASES])
def test_bad_basic_credentials(basic_service: str, label: str, header: str) -> None:
    for method, path in (("GET", "/v1/nodes"), ("POST", "/v1/nodes")):
        r = httpx.request(method, basic_service + path, headers={"Authorization": header}, json={}, timeout=30)
        assert 400 <= r.status_code < 500, (label, method, r.status_code, r.text[:300])
        fault(r)
