"""``GET /v1/drivers/{driver}/raid/logical_disk_properties`` (API 1.12): the logical disk keys of the driver's
RAID interface with Ironic's descriptions; 406 below 1.12 (Ironic's ``allow_raid_config``); an unknown driver
404. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

import pytest

from tests.api.helpers import fault

KEYS = {
    "controller",
    "disk_type",
    "interface_type",
    "is_root_volume",
    "number_of_physical_disks",
    "physical_disks",
    "raid_level",
    "share_physical_disks",
    "size_gb",
    "volume_name",
}


@pytest.mark.parametrize("driver", ["fake-hardware", "ipmi", "redfish"])
def test_logical_disk_properties_from_1_12(service, driver):
    path = f"/v1/drivers/{driver}/raid/logical_disk_properties"
    with service.client("1.11") as c:
        r = c.get(path)
        assert r.status_code == 406, r.text
        fault(r)
    with service.client("1.12") as c:
        r = c.get(path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == KEYS
    assert body["size_gb"] == (
        "Size in GiB (Integer) for the logical disk. Use 'MAX' as size_gb if this logical "
        "disk is supposed to use the rest of the space available. Required."
    )
    assert body["is_root_volume"] == (
        "Specifies whether this disk is a root volume. By default, this is False. Optional."
    )


def test_unknown_driver_is_404(service, api):
    r = api.get("/v1/drivers/nope/raid/logical_disk_properties")
    assert r.status_code == 404, r.text
    fault(r)
