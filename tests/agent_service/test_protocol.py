"""The agent protocol's rules through the real service: tokens, lookup states, polls and results."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from ironworks.api.routes import agent as agent_routes
from tests.agent_service.client import TOKEN_HEADER, PlayedAgent
from tests.agent_service.conftest import MAC, agent_node
from tests.api.helpers import fault
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest

STEPS = [{"interface": "raid", "step": "delete_configuration"}]


def _clean_wait(api: httpx.Client, steps: list[dict[str, str]] = STEPS) -> str:
    node = agent_node(api)
    move(api, node, "manage")
    assert provision(api, node, "clean", clean_steps=steps).status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    return node


def test_lookup_only_in_agent_states_and_token_issued_once(service: ServiceUnderTest, api: httpx.Client,
                                                           agent: PlayedAgent,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    node = agent_node(api)
    assert agent.lookup().status_code == 404  # enroll: no agent expected
    move(api, node, "manage")
    assert agent.lookup().status_code == 404
    provision(api, node, "clean", clean_steps=STEPS)
    settle(api, node)
    first = agent.lookup()
    assert first.status_code == 200
    token = first.json()["config"]["agent_token"]
    assert len(token) >= 40 and first.json()["node"]["uuid"] == node
    body = api.get(f"/v1/nodes/{node}").json()
    assert token not in str(body)
    assert body["driver_internal_info"].get("agent_secret_token_hash") in (None, "******")
    assert agent.token == token
    assert agent.heartbeat().status_code == 202
    assert token not in caplog.text


def test_lookup_rejects_bad_input(agent: PlayedAgent) -> None:
    assert agent.http.get("/v1/lookup", params={"addresses": "not-a-mac"}).status_code == 400
    assert agent.http.get("/v1/lookup").status_code == 400
    assert agent.http.get("/v1/lookup", params={"node_uuid": "nope"}).status_code == 400
    # a node UUID alone is never enough (tests/agent_service/test_trust.py has the rest)
    assert agent.http.get("/v1/lookup", params={"node_uuid": "6d85703a-565d-469a-96ce-30b6de53079d"}).status_code == 400
    assert agent.http.get("/v1/lookup", params={"addresses": MAC, "bogus": "1"}).status_code == 400


def test_calls_without_or_with_wrong_token_are_refused(service: ServiceUnderTest, api: httpx.Client,
                                                       agent: PlayedAgent) -> None:
    node = _clean_wait(api)
    assert agent.lookup().status_code == 200
    good = agent.token
    assert good
    hb = {"callback_url": "", "agent_version": "0.1.0"}
    assert agent.http.post(f"/v1/heartbeat/{node}", json=hb).status_code == 401
    assert agent.http.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: "x" * 43}).status_code == 401
    assert agent.http.post(f"/v1/heartbeat/{node}", json={**hb, "agent_token": "y" * 43},
                           headers={TOKEN_HEADER: good}).status_code == 401
    assert agent.http.get(f"/v1/agent/{node}/commands/next?wait=1").status_code == 401
    assert agent.http.post(f"/v1/agent/{node}/commands/x/result", json={"status": "SUCCEEDED"}).status_code == 401
    # the token in the body alone is accepted (Ironic's form)
    assert agent.http.post(f"/v1/heartbeat/{node}", json={**hb, "agent_token": good}).status_code == 202
    r = agent.http.post(f"/v1/heartbeat/{node}", json={**hb, "surprise": 1}, headers={TOKEN_HEADER: good})
    assert r.status_code == 400
    assert agent.http.post("/v1/heartbeat/6d85703a-565d-469a-96ce-30b6de53079d", json=hb,
                           headers={TOKEN_HEADER: good}).status_code == 404
    info = api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]
    assert info["agent_version"] == "0.1.0" and info["agent_last_heartbeat"]


def test_results_are_idempotent_and_checked(service: ServiceUnderTest, api: httpx.Client,
                                            agent: PlayedAgent) -> None:
    node = _clean_wait(api, STEPS + [{"interface": "deploy", "step": "erase_devices_metadata"}])
    agent.lookup()
    agent.heartbeat()
    command = agent.poll(5)
    assert command is not None and command["name"] == "delete_configuration"
    again = agent.poll(1)  # delivered without a result: the same command again
    assert again is not None and again["id"] == command["id"]
    assert agent.result("00000000-0000-0000-0000-000000000000").status_code == 404
    bad = agent.http.post(f"/v1/agent/{node}/commands/{command['id']}/result", json={"status": "DONE"},
                          headers={TOKEN_HEADER: str(agent.token)})
    assert bad.status_code == 400
    assert agent.result(command["id"]).status_code == 204
    assert agent.result(command["id"]).status_code == 204  # same again: fine
    assert agent.result(command["id"], error={"type": "ToolFailed", "message": "x"}).status_code == 409
    second = agent.poll(5)
    assert second is not None and second["name"] == "erase_devices_metadata"
    assert agent.result(second["id"]).status_code == 204
    assert settle(api, node)["provision_state"] == "manageable"


def _parked_polls(service: ServiceUnderTest) -> int:
    """Long polls parked on their wake-up event, i.e. past their first (empty) read of the database."""
    channel = service.services.agent
    with channel._lock:
        entries = list(channel._async_waiters)
    return sum(len(event._waiters) for _, event in entries)  # asyncio.Event's queue of tasks awaiting it


def test_long_poll_answers_when_a_command_is_queued(service: ServiceUnderTest, api: httpx.Client,
                                                    agent: PlayedAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    # only the wake-up can answer early: the periodic re-read of the database comes after the whole wait
    wait = 20
    monkeypatch.setattr(agent_routes, "RECHECK_SECONDS", 3600)
    node = agent_node(api)
    move(api, node, "manage")
    provision(api, node, "inspect")
    assert settle(api, node)["provision_state"] == "inspect wait"
    assert agent.lookup().status_code == 200
    assert agent.poll(1) is None  # nothing queued before the first heartbeat
    got: list[tuple[object, float]] = []
    poller = threading.Thread(target=lambda: got.append((agent.poll(wait), time.monotonic())))
    poller.start()
    deadline = time.monotonic() + 10
    while _parked_polls(service) == 0:  # the poll found nothing and now waits
        assert poller.is_alive() and time.monotonic() < deadline, f"the poll never waited: {got}"
        time.sleep(0.01)
    queued = time.monotonic()
    assert agent.heartbeat().status_code == 202  # the heartbeat queues get_inventory for the waiting poll
    poller.join(timeout=wait + 10)
    assert got, "the poll did not answer"
    command, answered = got[0]
    assert isinstance(command, dict) and command["name"] == "get_inventory"
    # woken by the queued command, not by the end of its wait (a correctness bound, not a speed figure)
    assert answered - queued < wait / 2


def test_heartbeat_naming_the_node_in_the_body(service: ServiceUnderTest, api: httpx.Client,
                                               agent: PlayedAgent) -> None:
    """``POST /v1/heartbeat`` with ``node_ident`` in the body is a heartbeat (Ironic's pecan fills the argument
    from the JSON body); every token and address check of the path form applies."""
    node = _clean_wait(api)
    assert agent.lookup().status_code == 200
    good = agent.token
    hb = {"node_ident": node, "callback_url": "", "agent_version": "0.2.0"}
    assert agent.http.post("/v1/heartbeat", json=hb).status_code == 401
    assert agent.http.post("/v1/heartbeat", json={**hb, "agent_token": "y" * 43}).status_code == 401
    assert agent.http.post("/v1/heartbeat", json=hb, headers={TOKEN_HEADER: "x" * 43}).status_code == 401
    r = agent.http.post("/v1/heartbeat", json={"callback_url": "", "agent_token": good})
    assert r.status_code == 400, r.text
    r = agent.http.post("/v1/heartbeat", json={**hb, "node_ident": "6d85703a-565d-469a-96ce-30b6de53079d",
                                               "agent_token": good})
    assert r.status_code == 404, r.text
    assert api.get(f"/v1/nodes/{node}").json()["driver_internal_info"].get("agent_version") is None
    r = agent.http.post("/v1/heartbeat", json={**hb, "agent_token": good})
    assert r.status_code == 202, r.text
    assert api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]["agent_version"] == "0.2.0"
    r = agent.http.post("/v1/heartbeat", content=b'{"node_ident": "' + node.encode() + b'"' + b" " * 70000 + b"}",
                        headers={"Content-Type": "application/json", TOKEN_HEADER: good})
    assert r.status_code == 401, r.text  # bodies are bounded before they are read


@pytest.mark.parametrize(("fields", "since", "error"), [
    ({"agent_verify_ca": "-----BEGIN CERTIFICATE-----"}, 68,
     'Field "agent_verify_ca" not recognised in this version'),
    ({"agent_status": "start"}, 72, 'Fields "agent_status" and "agent_status_message" not recognised.'),
    ({"agent_status_message": "installing"}, 72, 'Fields "agent_status" and "agent_status_message" not recognised.'),
])
def test_heartbeat_fields_by_version(service: ServiceUnderTest, api: httpx.Client, agent: PlayedAgent,
                                     fields: dict[str, str], since: int, error: str) -> None:
    node = _clean_wait(api)
    assert agent.lookup().status_code == 200
    body = {"callback_url": "", "agent_token": agent.token, **fields}
    r = agent.http.post(f"/v1/heartbeat/{node}", json=body,
                        headers={"X-OpenStack-Ironic-API-Version": f"1.{since - 1}"})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == error
    r = agent.http.post(f"/v1/heartbeat/{node}", json=body,
                        headers={"X-OpenStack-Ironic-API-Version": f"1.{since}"})
    assert r.status_code == 202, r.text
    internal = api.get(f"/v1/nodes/{node}").json()["driver_internal_info"]
    assert {k: internal.get(k) for k in fields} == fields  # recorded, as Ironic's agent_base does
    r = agent.http.post(f"/v1/heartbeat/{node}", json={**body, "agent_status": "sideways"},
                        headers={"X-OpenStack-Ironic-API-Version": "1.72"})
    assert r.status_code == 400, r.text
    assert fault(r)["faultstring"] == "Agent status is invalid. Valid states are start,end,error."
