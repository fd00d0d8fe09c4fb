"""Fast track and kexec through the real service, with the test playing the ramdisk agent over HTTP.

The node has ``driver_info.fast_track``: after cleaning it rests in ``available`` powered on, its agent keeps
heartbeating, and the deploy sends its commands to that same agent (same token, no second lookup) instead of
rebooting into the ramdisk. A stale agent makes the deploy boot the ramdisk as usual. With
``instance_info.kexec`` the deploy ends with the agent's ``kexec`` command instead of a power cycle.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx

from tests.agent_service.client import PlayedAgent
from tests.agent_service.conftest import IMAGE, MAC, agent_node, set_columns
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest

WRITTEN = {"device": "/dev/vda", "checksum": "sha256:" + "ab" * 32, "bytes_written": 1024, "disk_format": "raw"}


def _serve(
    agent: PlayedAgent,
    api: httpx.Client,
    node: str,
    until: tuple[str, ...],
    answers: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Answer every command (by name from ``answers``, else ``{}``) until the node rests in one of ``until``."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] in until and body["reservation"] is None:
            return seen
        assert time.monotonic() < deadline, (body["provision_state"], body["last_error"], seen)
        r = agent.http.get(f"/v1/agent/{node}/commands/next", params={"wait": 1}, headers=agent._auth())
        if r.status_code == 401:  # the flow just finished and dropped the token: the loop sees the new state
            time.sleep(0.05)
            continue
        assert r.status_code in (200, 204), r.text
        if r.status_code == 204:
            continue
        command = r.json()["command"]
        seen.append(command)
        answer = (answers or {}).get(command["name"], {})
        assert agent.result(command["id"], result=answer.get("result"), error=answer.get("error")).status_code == 204


def _fast_node(api: httpx.Client, **instance: Any) -> str:
    node = agent_node(
        api,
        automated_clean=True,
        driver_info={
            "deploy_kernel": "http://127.0.0.1:9/k",
            "deploy_ramdisk": "http://127.0.0.1:9/r",
            "fast_track": True,
        },
        instance_info={**IMAGE, **instance},
    )
    move(api, node, "manage")
    return node


def _cleaned_with_agent(api: httpx.Client, agent: PlayedAgent, node: str) -> None:
    """provide → the agent boots once, cleans, and stays up while the node rests in available."""
    assert provision(api, node, "provide").status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    assert agent.lookup().status_code == 200 and agent.token
    assert agent.heartbeat().status_code == 202
    seen = _serve(agent, api, node, ("available", "clean failed"))
    assert "erase_devices_metadata" in [c["name"] for c in seen]
    body = settle(api, node)
    assert body["provision_state"] == "available", body["last_error"]
    assert body["power_state"] == "power on"  # fast track: not powered off after cleaning
    assert agent.heartbeat().status_code == 202  # the agent may keep calling in while the node rests
    assert agent.poll(wait=1) is None


def test_deploy_after_clean_reuses_the_running_agent(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api)
    _cleaned_with_agent(api, agent, node)
    token = agent.token

    assert provision(api, node, "active").status_code == 202
    seen = _serve(agent, api, node, ("active", "deploy failed"), {"write_image": {"result": WRITTEN}})
    body = settle(api, node)
    assert body["provision_state"] == "active", body["last_error"]
    assert [c["name"] for c in seen] == ["write_image"]  # sent to the same agent, no reboot, no new lookup
    assert agent.token == token
    assert body["power_state"] == "power on"
    # the ramdisk is gone now: its token no longer works and fast track will not trust it again
    assert agent.heartbeat().status_code == 401
    assert "agent_last_heartbeat" not in body["driver_internal_info"]


def test_stale_agent_falls_back_to_booting_the_ramdisk(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api)
    _cleaned_with_agent(api, agent, node)
    info = api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(tzinfo=None).isoformat() + "Z"
    set_columns(service, node, driver_internal_info={**info, "agent_last_heartbeat": old})  # the agent died

    assert provision(api, node, "active").status_code == 202
    assert settle(api, node)["provision_state"] == "wait call-back"  # rebooted into the ramdisk
    assert agent.heartbeat().status_code == 401  # the old token was dropped with the reboot
    agent.token = None
    assert agent.lookup().status_code == 200 and agent.token  # the new ramdisk boot gets a new token
    assert agent.heartbeat().status_code == 202
    seen = _serve(agent, api, node, ("active", "deploy failed"), {"write_image": {"result": WRITTEN}})
    assert [c["name"] for c in seen] == ["write_image"]
    body = settle(api, node)
    assert body["provision_state"] == "active", body["last_error"]


def test_without_fast_track_the_agent_is_turned_away_in_available(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api)
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/driver_info/fast_track", "value": False}])
    assert r.status_code == 200, r.text
    assert provision(api, node, "provide").status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    assert agent.lookup().status_code == 200
    assert agent.heartbeat().status_code == 202
    _serve(agent, api, node, ("available", "clean failed"))
    body = settle(api, node)
    assert body["provision_state"] == "available" and body["power_state"] == "power off"
    assert agent.heartbeat().status_code == 401
    assert agent.http.get("/v1/lookup", params={"addresses": MAC}).status_code == 404


def test_kexec_ends_the_deploy_without_a_power_cycle(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api, kexec=True)
    _cleaned_with_agent(api, agent, node)
    assert provision(api, node, "active").status_code == 202
    loaded = {
        "loaded": True,
        "source": "extlinux",
        "kernel": "/boot/vmlinuz",
        "initrd": "/boot/initrd.img",
        "cmdline": "console=ttyS0 root=LABEL=root",
    }
    seen = _serve(
        agent, api, node, ("active", "deploy failed"), {"write_image": {"result": WRITTEN}, "kexec": {"result": loaded}}
    )
    assert [c["name"] for c in seen] == ["write_image", "kexec"]
    assert seen[1]["params"] == {"device": "/dev/vda"}  # the disk the image went to
    body = settle(api, node)
    assert body["provision_state"] == "active", body["last_error"]
    assert body["power_state"] == "power on"
    assert body["driver_internal_info"]["agent_kexec"]["source"] == "extlinux"
    assert agent.heartbeat().status_code == 401


def test_kexec_without_a_kernel_falls_back_to_a_reboot(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api, kexec="true")
    _cleaned_with_agent(api, agent, node)
    assert provision(api, node, "active").status_code == 202
    none = {"loaded": False, "reason": "no kernel found on /dev/vda"}
    seen = _serve(
        agent, api, node, ("active", "deploy failed"), {"write_image": {"result": WRITTEN}, "kexec": {"result": none}}
    )
    assert [c["name"] for c in seen] == ["write_image", "kexec"]
    body = settle(api, node)
    assert body["provision_state"] == "active", body["last_error"]
    assert body["driver_internal_info"]["agent_kexec"] == {
        **none,
        "source": None,
        "kernel": None,
        "initrd": None,
        "cmdline": None,
    }
    assert body["power_state"] == "power on"


def test_unreadable_kexec_flag_is_refused_before_the_deploy(service: ServiceUnderTest, api: httpx.Client) -> None:
    node = _fast_node(api, kexec="sometimes")
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "replace", "path": "/automated_clean", "value": False}])
    assert r.status_code == 200, r.text
    move(api, node, "provide")
    r = provision(api, node, "active")
    assert r.status_code == 400
    assert "instance_info.kexec must be a boolean" in r.json()["error_message"]
    assert settle(api, node)["provision_state"] == "available"  # nothing was started


def test_inspection_then_cleaning_on_one_agent(
    service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent
) -> None:
    node = _fast_node(api)
    assert provision(api, node, "inspect").status_code == 202
    assert settle(api, node)["provision_state"] == "inspect wait"
    assert agent.lookup().status_code == 200 and agent.token
    assert agent.heartbeat().status_code == 202  # queues get_inventory
    inventory = {"cpu": {"count": 2, "architecture": "x86_64"}, "memory": {"physical_mb": 1024}}
    seen = _serve(
        agent, api, node, ("manageable", "inspect failed"), {"get_inventory": {"result": {"inventory": inventory}}}
    )
    assert [c["name"] for c in seen] == ["get_inventory"]
    body = settle(api, node)
    assert body["provision_state"] == "manageable" and body["properties"]["cpus"] == 2
    assert body["power_state"] == "power on"  # the agent stays up
    token = agent.token
    assert agent.heartbeat().status_code == 202
    # provide: cleaning sends its steps to the same agent at once, no clean wait for a new ramdisk
    assert provision(api, node, "provide").status_code == 202
    seen = _serve(agent, api, node, ("available", "clean failed"))
    assert "erase_devices_metadata" in [c["name"] for c in seen]
    assert settle(api, node)["provision_state"] == "available"
    assert agent.token == token and agent.heartbeat().status_code == 202
