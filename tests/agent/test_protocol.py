"""The agent's protocol loop against a real HTTP implementation of docs/agent-protocol.md on 127.0.0.1:
lookup by MAC, token on every later call, heartbeats, long-poll, results, re-delivery, token revocation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ironworks_agent.config import AgentConfig, load, normalize_mac, parse_cmdline
from ironworks_agent.main import Agent
from ironworks_agent.safety import DeviceGuard

from tests.agent.conftest import sh
from tests.agent.protocol_stub import NODE, ProtocolStub

MAC = "52:54:00:12:34:56"


@pytest.fixture
def stub() -> Iterator[ProtocolStub]:
    s = ProtocolStub({MAC}, heartbeat_interval=0.2, poll_wait=2)
    yield s
    s.close()


def _start(agent: Agent) -> threading.Thread:
    t = threading.Thread(target=agent.run, daemon=True)
    t.start()
    return t


def _stop(agent: Agent, thread: threading.Thread) -> None:
    agent.stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_lookup_heartbeat_commands_and_results(stub: ProtocolStub, loop: str) -> None:
    sh("mkfs.ext4", "-q", loop)
    agent = Agent(AgentConfig(api_url=stub.url, boot_mac=MAC, include_loop=True, lookup_interval=0.1),
                  guard=DeviceGuard([loop]))
    thread = _start(agent)
    try:
        stub.send("c1", "get_inventory")
        stub.send("c2", "erase_devices_metadata", {"devices": [loop]})
        stub.send("c3", "frobnicate")
        stub.send("c4", "install_bootloader", {"root_uuid": "x"})
        stub.send("c1", "get_inventory")  # re-delivered: the stored result comes back, nothing runs twice
        results = stub.wait_results(5)
    finally:
        _stop(agent, thread)
    assert results["c1"][0]["status"] == "SUCCEEDED"
    assert results["c1"][1] == results["c1"][0]
    inv = results["c1"][0]["result"]["inventory"]
    assert loop in {d["name"] for d in inv["disks"]}
    assert results["c2"][0]["status"] == "SUCCEEDED"
    assert results["c2"][0]["result"]["devices"][0]["device"] == loop
    assert sh("blkid", "-p", loop, check=False).returncode == 2  # the ext4 signature is gone
    assert results["c3"][0]["status"] == "FAILED" and results["c3"][0]["error"]["type"] == "InvalidCommand"
    # install_bootloader without a software RAID root on the allowed disks: a clear failure, nothing written
    assert results["c4"][0]["status"] == "FAILED" and results["c4"][0]["error"]["type"] == "DeviceNotFound"
    for r in (results["c1"][0], results["c3"][0]):
        assert r["started_at"].endswith("Z") and r["finished_at"] >= r["started_at"]

    seen = stub.state.seen
    assert seen[0].path == "/v1/lookup" and seen[0].token is None
    assert all(s.token == stub.state.token for s in seen[1:]), "every call after lookup carries the token"
    beats = [s.body for s in seen if s.path == f"/v1/heartbeat/{NODE}"]
    assert beats and all(b["agent_token"] == stub.state.token and b["callback_url"] == "" for b in beats)
    assert {"busy", "current_command", "progress", "agent_version"} <= set(beats[0])
    assert seen[1].path == f"/v1/heartbeat/{NODE}" or seen[2].path == f"/v1/heartbeat/{NODE}"


def test_revoked_token_leads_to_a_new_lookup(stub: ProtocolStub, loop: str) -> None:
    agent = Agent(AgentConfig(api_url=stub.url, boot_mac=MAC, lookup_interval=0.1), guard=DeviceGuard([loop]))
    thread = _start(agent)
    try:
        stub.send("a", "get_root_device", {"root_device": {"name": loop}})
        stub.wait_results(1)
        first = stub.state.token
        stub.state.commands.put({"_revoke": True})
        stub.send("b", "get_root_device", {"root_device": {"name": "/dev/nonexistent"}})
        results = stub.wait_results(2)
    finally:
        _stop(agent, thread)
    assert results["a"][0]["status"] == "FAILED"  # include_loop off: a loop device is no disk to choose
    assert results["b"][0]["error"]["type"] == "DeviceNotFound"
    lookups = [s for s in stub.state.seen if s.path == "/v1/lookup"]
    assert len(lookups) == 2
    assert stub.state.token != first
    assert stub.state.seen[-1].token == stub.state.token


def test_masked_token_is_not_used_and_lookup_times_out(stub: ProtocolStub, loop: str) -> None:
    stub.state.issued = True  # another agent already got this node's token
    agent = Agent(AgentConfig(api_url=stub.url, boot_mac=MAC, lookup_interval=0.1, lookup_timeout=0.5),
                  guard=DeviceGuard([loop]))
    assert agent.run() == 2
    assert {s.path for s in stub.state.seen} == {"/v1/lookup"}


def test_unknown_mac_is_never_served(stub: ProtocolStub, loop: str) -> None:
    agent = Agent(AgentConfig(api_url=stub.url, boot_mac="52:54:00:00:00:01", lookup_interval=0.1,
                              lookup_timeout=0.3), guard=DeviceGuard([loop]))
    agent.macs = lambda: ["52:54:00:00:00:01"]  # type: ignore[method-assign]
    assert agent.run() == 2


def test_kernel_parameters() -> None:
    params = parse_cmdline("BOOT_IMAGE=/vmlinuz ipa-api-url=http://10.0.2.2:6385 BOOTIF=01-52-54-00-AB-CD-EF "
                           "ironworks.debug quiet")
    assert params["ipa-api-url"] == "http://10.0.2.2:6385"
    assert params["ironworks.debug"] == "1"
    assert normalize_mac(params["BOOTIF"]) == "52:54:00:ab:cd:ef"
    assert normalize_mac("52:54:00:AB:CD:EF") == "52:54:00:ab:cd:ef"
    assert normalize_mac("nonsense") is None


def test_config_from_kernel_command_line_and_flags(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("ipa-api-url=http://10.0.2.2:6385 ironworks.api_url=http://10.0.2.2:6390 "
                       "BOOTIF=01-52-54-00-ab-cd-ef ironworks.skip_devices=/dev/sdb,/dev/sdc "
                       "ironworks.lookup_timeout=120 ipa-debug=1\n")
    cfg = load(["--cmdline", str(cmdline)])
    assert cfg.api_url == "http://10.0.2.2:6390"  # ironworks.api_url wins over ipa-api-url
    assert cfg.boot_mac == "52:54:00:ab:cd:ef"
    assert cfg.skip_devices == ["/dev/sdb", "/dev/sdc"]
    assert cfg.lookup_timeout == 120.0 and cfg.debug is True
    cfg = load(["--cmdline", str(cmdline), "--api-url", "http://127.0.0.1:1", "--lookup-timeout", "3"])
    assert cfg.api_url == "http://127.0.0.1:1" and cfg.lookup_timeout == 3.0
    cmdline.write_text("quiet\n")
    with pytest.raises(SystemExit, match="no API URL"):
        load(["--cmdline", str(cmdline)])
