"""Flavors (an Ironworks extension) and allocating by flavor: exact match, smallest fit, shortage message.

The pool of the issue: 16-core/32 GiB and 32-core/128 GiB nodes. A 16C/32G request never lands on a 32C
node while exact match is on; with no 16C node free it fails at once, saying what was asked and what is free.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, post_allocation
from tests.scheduler.helpers import available_node

SMALL = {"cpus": 16, "memory_mb": 32768, "local_gb": 200}
LARGE = {"cpus": 32, "memory_mb": 131072, "local_gb": 400}


def flavor(api, **body):
    r = api.post("/v1/flavors", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def pool(api, small=2, large=3):
    nodes = {"small": [], "large": []}
    for i in range(small):
        nodes["small"].append(
            available_node(api, name=f"s{i}", resource_class="baremetal.std", properties=SMALL)["uuid"]
        )
    for i in range(large):
        nodes["large"].append(
            available_node(api, name=f"l{i}", resource_class="baremetal.std", properties=LARGE)["uuid"]
        )
    return nodes


def test_flavor_crud_and_nova_style_extra_specs(api):
    body = flavor(
        api,
        name="bm.small",
        cpus=16,
        memory_mb=32768,
        extra_specs={
            "resources:CUSTOM_BAREMETAL_STD": "1",
            "resources:VCPU": "0",
            "resources:MEMORY_MB": "0",
            "trait:HW_CPU_X86_AVX2": "required",
            "trait:CUSTOM_GPU": "forbidden",
        },
    )
    assert body["custom_resource_class"] == "CUSTOM_BAREMETAL_STD" and body["resource_class"] is None
    assert body["traits"] == ["HW_CPU_X86_AVX2"] and body["forbidden_traits"] == ["CUSTOM_GPU"]
    assert body["extra_specs"] == {
        "resources:CUSTOM_BAREMETAL_STD": "1",
        "trait:HW_CPU_X86_AVX2": "required",
        "trait:CUSTOM_GPU": "forbidden",
    }
    assert body["exact_match"] is None
    assert api.get("/v1/flavors/bm.small").json()["uuid"] == body["uuid"]
    assert [f["name"] for f in api.get("/v1/flavors").json()["flavors"]] == ["bm.small"]
    r = api.patch(
        "/v1/flavors/bm.small",
        json=[
            {"op": "replace", "path": "/exact_match", "value": False},
            {"op": "add", "path": "/traits/-", "value": "CUSTOM_RAID"},
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["exact_match"] is False and r.json()["traits"] == ["HW_CPU_X86_AVX2", "CUSTOM_RAID"]
    assert api.post("/v1/flavors", json={"name": "bm.small", "resource_class": "x"}).status_code == 409
    assert api.delete("/v1/flavors/bm.small").status_code == 204
    assert api.get("/v1/flavors/bm.small").status_code == 404


@pytest.mark.parametrize(
    "body, needle",
    [
        ({"name": "f"}, "needs a resource class"),
        ({"name": "f", "resource_class": "x", "cpus": 0}, "cpus"),
        ({"name": "f", "resource_class": "x", "cpus": "16"}, "cpus"),
        ({"name": "f", "extra_specs": {"resources:CUSTOM_X": "2"}}, "counts as 1"),
        ({"name": "f", "extra_specs": {"resources:VCPU": "4", "resources:CUSTOM_X": "1"}}, "set it to 0"),
        ({"name": "f", "extra_specs": {"resources:CUSTOM_X": "1", "capabilities:boot_mode": "uefi"}}, "Unsupported"),
        ({"name": "f", "extra_specs": {"resources:CUSTOM_X": "1", "trait:CUSTOM_A": "maybe"}}, "Unsupported"),
        ({"name": "f", "resource_class": "x", "traits": ["CUSTOM_A"], "forbidden_traits": ["CUSTOM_A"]}, "both"),
        ({"name": "has space", "resource_class": "x"}, "Invalid flavor name"),
        ({"name": "f", "resource_class": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_flavors_are_refused(api, body, needle):
    r = api.post("/v1/flavors", json=body)
    assert r.status_code == 400, r.text
    assert needle in fault(r)["faultstring"]
    assert api.get("/v1/flavors").json()["flavors"] == []


def test_exact_match_never_burns_a_bigger_node_and_reports_the_shortage(api):
    nodes = pool(api)
    flavor(api, name="bm.small", extra_specs={"resources:CUSTOM_BAREMETAL_STD": "1"}, cpus=16, memory_mb=32768)
    got = []
    for _ in range(2):
        r = post_allocation(api, {"flavor": "bm.small"})
        assert r.status_code == 201, r.text
        assert r.json()["state"] == "active" and r.json()["flavor"] == "bm.small"
        got.append(r.json()["node_uuid"])
    assert sorted(got) == sorted(nodes["small"])
    r = post_allocation(api, {"flavor": "bm.small", "name": "third"})
    assert r.status_code == 409, r.text
    assert fault(r)["faultstring"] == (
        "no available node matches flavor bm.small (resource_class=CUSTOM_BAREMETAL_STD, cpus=16, "
        "memory_mb=32768); free: 3 × cpus=32 memory_mb=131072 local_gb=400"
    )
    # refused at once: no allocation written, no large node touched
    assert api.get("/v1/allocations/third").status_code == 404
    assert len(api.get("/v1/allocations").json()["allocations"]) == 2
    for uuid in nodes["large"]:
        assert api.get(f"/v1/nodes/{uuid}").json()["instance_uuid"] is None


def test_exact_match_default_comes_from_settings_and_off_picks_the_smallest(api):
    nodes = pool(api, small=1, large=2)
    available_node(
        api, name="huge", resource_class="baremetal.std", properties={"cpus": 64, "memory_mb": 524288, "local_gb": 800}
    )
    flavor(api, name="bm.any", resource_class="baremetal.std", cpus=16, memory_mb=32768, exact_match=False)
    got = [post_allocation(api, {"flavor": "bm.any"}).json()["node_uuid"] for _ in range(3)]
    assert got[0] == nodes["small"][0]
    assert sorted(got[1:]) == sorted(nodes["large"])
    assert api.get(f"/v1/nodes/{got[1]}").json()["properties"]["cpus"] == 32


def test_flavor_traits_and_forbidden_traits_apply(api):
    plain = available_node(api, resource_class="gpu", properties=SMALL)
    fast = available_node(api, resource_class="gpu", properties=SMALL, traits=("CUSTOM_FAST",))
    flavor(api, name="no-fast", resource_class="gpu", extra_specs={"trait:CUSTOM_FAST": "forbidden"})
    flavor(api, name="fast", resource_class="gpu", extra_specs={"trait:CUSTOM_FAST": "required"})
    assert post_allocation(api, {"flavor": "no-fast"}).json()["node_uuid"] == plain["uuid"]
    assert post_allocation(api, {"flavor": "fast"}).json()["node_uuid"] == fast["uuid"]
    r = post_allocation(api, {"flavor": "fast"})
    assert r.status_code == 409 and "free: none" in fault(r)["faultstring"]


def test_candidates_explain_every_refusal(api):
    nodes = pool(api, small=1, large=1)
    busy = available_node(api, name="busy", resource_class="baremetal.std", properties=SMALL)
    assert (
        post_allocation(api, {"resource_class": "baremetal.std", "candidate_nodes": ["busy"]}).json()[
            "node_uuid"
        ]
        == busy["uuid"]
    )
    sick = available_node(api, name="sick", resource_class="baremetal.std", properties=SMALL)
    api.put(f"/v1/nodes/{sick['uuid']}/maintenance", json={"reason": "fan"})
    available_node(api, name="other", resource_class="other", properties=SMALL)
    flavor(api, name="bm.small", resource_class="baremetal.std", cpus=16, memory_mb=32768)
    r = api.get("/v1/allocations/candidates", params={"flavor": "bm.small"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["uuid"] for c in body["candidates"]] == nodes["small"]
    why = {n["name"]: [x["check"] for x in n["reasons"]] for n in body["rejected"]}
    assert why == {"l0": ["properties"], "busy": ["allocated"], "sick": ["maintenance"], "other": ["resource_class"]}
    assert body["request"]["exact_match"] is True
    r = api.get("/v1/allocations/candidates", params={"resource_class": "baremetal.std", "traits": "CUSTOM_X"})
    assert r.json()["candidates"] == []
    assert api.get("/v1/allocations/candidates").status_code == 400
    assert api.get("/v1/allocations/candidates", params={"flavor": "nope"}).status_code == 400


def test_allocation_resource_class_must_agree_with_the_flavor(api):
    available_node(api, resource_class="baremetal.std", properties=SMALL)
    flavor(api, name="custom", extra_specs={"resources:CUSTOM_BAREMETAL_STD": "1"})
    flavor(api, name="plain", resource_class="baremetal.std")
    for name in ("custom", "plain"):
        r = post_allocation(api, {"flavor": name, "resource_class": "other"})
        assert r.status_code == 400 and "conflicts with flavor" in fault(r)["faultstring"]
    r = post_allocation(api, {"flavor": "custom", "resource_class": "baremetal.std"})
    assert r.status_code == 201 and r.json()["state"] == "active"
