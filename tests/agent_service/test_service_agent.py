"""Servicing (API 1.87) with the ramdisk agent, the test playing the agent over HTTP: an active node boots the
ramdisk, waits in ``service wait``, runs the agent RAID ``apply_configuration`` service step through the agent's
commands, and boots its instance again (``active``)."""

from __future__ import annotations

import httpx

from tests.agent_service.client import PlayedAgent
from tests.agent_service.conftest import agent_node, set_columns
from tests.agent_service.test_flows import RAID, _boot_agent, _created
from tests.conductor.helpers import provision, settle
from tests.fixtures.servers import ServiceUnderTest


def test_service_step_runs_on_the_agent(service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent) -> None:
    node = agent_node(api)
    set_columns(service, node, provision_state="active", power_state="power on")  # a deployed instance
    step = {"interface": "raid", "step": "apply_configuration", "args": {"raid_config": RAID}}
    r = provision(api, node, "service", service_steps=[step])
    assert r.status_code == 202, r.text
    waiting = settle(api, node)
    assert (waiting["provision_state"], waiting["target_provision_state"]) == ("service wait", "active")
    _boot_agent(agent)
    seen = agent.run(
        {
            "delete_configuration": {"result": {"deleted": [], "zeroed": [], "disks_cleared": []}},
            "create_configuration": {"result": _created(RAID)},
        },
        until=2,
    )
    assert [c["name"] for c in seen] == ["delete_configuration", "create_configuration"]
    assert seen[1]["params"]["target_raid_config"] == RAID
    body = settle(api, node)
    assert (body["provision_state"], body["last_error"], body["service_step"]) == ("active", None, {})
    assert body["raid_config"]["logical_disks"][0]["device"] == "/dev/md/root"
    assert body["power_state"] == "power on"  # the instance boots again
    assert "service_steps" not in body["driver_internal_info"]

    # disable_ramdisk refuses a step that needs the ramdisk, before any change
    r = provision(api, node, "service", service_steps=[step], disable_ramdisk=True)
    assert r.status_code == 400 and "requires booting a ramdisk" in r.text
