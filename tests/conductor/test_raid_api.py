"""``PUT /v1/nodes/{node}/states/raid``: the operator's target RAID configuration, validated before it is stored."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault, snapshot

GOOD = {"logical_disks": [
    {"size_gb": 50, "raid_level": "1", "volume_name": "root", "is_root_volume": True, "controller": "software"},
    {"size_gb": "MAX", "raid_level": "0", "volume_name": "scratch", "controller": "software"},
]}


def _node(api, **fields):
    r = api.post("/v1/nodes", json={"driver": "fake-hardware", **fields})
    assert r.status_code == 201, r.text
    return r.json()["uuid"]


def test_set_show_and_clear(api):
    node = _node(api)
    r = api.put(f"/v1/nodes/{node}/states/raid", json=GOOD)
    assert r.status_code == 204, r.text
    assert api.get(f"/v1/nodes/{node}").json()["target_raid_config"] == GOOD
    assert api.get(f"/v1/nodes/{node}/states").json()["target_raid_config"] == GOOD
    assert api.put(f"/v1/nodes/{node}/states/raid", json={"logical_disks": []}).status_code == 204
    assert api.get(f"/v1/nodes/{node}").json()["target_raid_config"] == {}


@pytest.mark.parametrize("config", [
    [], {"logical_disks": "all"}, {"logical_disks": [{"raid_level": "1"}]},
    {"logical_disks": [{"size_gb": 10}]}, {"logical_disks": [{"size_gb": 10, "raid_level": "7"}]},
    {"logical_disks": [{"size_gb": -1, "raid_level": "1"}]}, {"logical_disks": [{"size_gb": "big", "raid_level": "1"}]},
    {"logical_disks": [{"size_gb": True, "raid_level": "1"}]},
    {"logical_disks": [{"size_gb": 10, "raid_level": "1", "colour": "red"}]},
    {"logical_disks": [{"size_gb": 10, "raid_level": "1", "is_root_volume": "yes"}]},
    {"logical_disks": [{"size_gb": 10, "raid_level": "1", "disk_type": "tape"}]},
    {"logical_disks": [{"size_gb": 10, "raid_level": "1", "is_root_volume": True},
                       {"size_gb": 10, "raid_level": "0", "is_root_volume": True}]},
    {"logical_disks": [], "extra": 1},
])
def test_bad_configs_are_refused_and_change_nothing(api, config):
    node = _node(api)
    api.put(f"/v1/nodes/{node}/states/raid", json=GOOD)
    before = snapshot(api)
    r = api.put(f"/v1/nodes/{node}/states/raid", json=config)
    assert r.status_code == 400, r.text
    fault(r)
    assert snapshot(api) == before


def test_interface_version_and_unknown_node(service, api):
    node = _node(api, raid_interface="no-raid")
    r = api.put(f"/v1/nodes/{node}/states/raid", json=GOOD)
    assert r.status_code == 400 and "no-raid" in fault(r)["faultstring"]
    assert api.put("/v1/nodes/nope/states/raid", json=GOOD).status_code == 404
    with service.client("1.11") as old:
        assert old.put(f"/v1/nodes/{node}/states/raid", json=GOOD).status_code == 406
