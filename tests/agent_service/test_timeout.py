"""A lost agent: heartbeats keep a wait state alive; without them the callback timeout fails the flow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.agent_service.client import PlayedAgent
from tests.agent_service.conftest import MAC, agent_node, seed_lease
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def quick_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    tmp = tmp_path_factory.mktemp("agent-timeout")
    settings = make_settings(str(tmp), f"sqlite:///{Path(tmp) / 'iw.sqlite'}", clean_callback_timeout=TIMEOUT,
                             deploy_callback_timeout=TIMEOUT, periodic_interval=0.1)
    svc = ServiceUnderTest(settings).start()
    yield svc
    svc.stop()


def _wait_for_state(api: httpx.Client, node: str, state: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] == state:
            return body
        assert time.monotonic() < deadline, f"{node} stayed {body['provision_state']}"
        time.sleep(0.05)


def test_lost_agent_fails_the_clean_after_the_callback_timeout(quick_service: ServiceUnderTest) -> None:
    quick_service.reset()
    with quick_service.client() as api:
        node = agent_node(api)
        move(api, node, "manage")
        provision(api, node, "clean", clean_steps=[{"interface": "raid", "step": "delete_configuration"}])
        assert settle(api, node)["provision_state"] == "clean wait"
        seed_lease(quick_service)
        agent = PlayedAgent(quick_service.url, MAC)
        try:
            assert agent.lookup().status_code == 200
            # alive: heartbeats for three timeouts keep the node waiting
            end = time.monotonic() + 3 * TIMEOUT
            while time.monotonic() < end:
                assert agent.heartbeat(busy=True).status_code in (202, 409)
                time.sleep(TIMEOUT / 5)
            command = agent.poll(2)
            assert command is not None and command["name"] == "delete_configuration"
            assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == "clean wait"
            # lost: no more heartbeats, no result
            body = _wait_for_state(api, node, "clean failed")
            assert "Timeout reached while cleaning" in body["last_error"]
            assert "raid.delete_configuration" in body["last_error"]
            assert agent.heartbeat().status_code == 401
        finally:
            agent.close()
