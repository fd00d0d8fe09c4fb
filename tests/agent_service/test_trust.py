"""Who may claim a node's agent token (docs/agent-protocol.md §9), through the real service and the real relay.

The service reads its dnsmasq lease file; these tests play dnsmasq by writing it (``seed_lease``). Requests come
from 127.0.0.x source addresses, so "the node's lease" and "another address" are both reachable on loopback.
The per-boot secret is tested with real netboot in tests/netboot/test_agent_trust.py.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.agent_service.client import TOKEN_HEADER, PlayedAgent
from tests.agent_service.conftest import MAC, agent_node, drop_leases, seed_lease
from tests.conductor.helpers import move, provision, settle
from tests.fixtures.servers import ServiceUnderTest, free_port

STEPS = [{"interface": "raid", "step": "delete_configuration"}]
OTHER_MAC = "52:54:00:12:34:99"


def _clean_wait(api: httpx.Client) -> str:
    node = agent_node(api)
    move(api, node, "manage")
    assert provision(api, node, "clean", clean_steps=STEPS).status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    return node


def _from(service: ServiceUnderTest, address: str, base_url: str | None = None) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address is local)."""
    return httpx.Client(base_url=base_url or service.url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address),
                        headers={"X-OpenStack-Ironic-API-Version": "1.62"})


def test_lookup_by_node_uuid_alone_is_refused(service: ServiceUnderTest, api: httpx.Client,
                                              agent: PlayedAgent) -> None:
    node = _clean_wait(api)
    assert agent.http.get("/v1/lookup", params={"node_uuid": node}).status_code == 400
    other = agent_node(api, OTHER_MAC)
    # MACs of one node with the UUID of another: no node
    assert agent.http.get("/v1/lookup", params={"addresses": MAC, "node_uuid": other}).status_code == 404
    body = settle(api, node)
    assert body["provision_state"] == "clean wait" and not body["last_error"]
    r = agent.http.get("/v1/lookup", params={"addresses": MAC, "node_uuid": node})
    assert r.status_code == 200 and r.json()["node"]["uuid"] == node


def test_lookup_only_from_the_address_dhcp_leased_to_the_node(service: ServiceUnderTest, api: httpx.Client,
                                                              agent: PlayedAgent) -> None:
    node = _clean_wait(api)
    drop_leases(service)
    assert agent.lookup().status_code == 404  # no lease at all
    seed_lease(service, MAC, "127.0.0.9")
    assert agent.lookup().status_code == 404  # the node's lease is another machine's address
    seed_lease(service, OTHER_MAC, "127.0.0.1")
    assert agent.lookup().status_code == 404  # we hold a lease, but of a MAC that is not the node's
    r = agent.http.get("/v1/lookup", params={"addresses": MAC}, headers={"X-Forwarded-For": "127.0.0.9"})
    assert r.status_code == 403  # a forwarded address without the relay's key is refused
    body = settle(api, node)
    assert body["provision_state"] == "clean wait" and not body["last_error"]  # probing fails nothing
    with _from(service, "127.0.0.9") as leased:
        r = leased.get("/v1/lookup", params={"addresses": MAC})
        assert r.status_code == 200 and len(r.json()["config"]["agent_token"]) >= 40
        token = r.json()["config"]["agent_token"]
        hb = {"callback_url": "", "agent_version": "0.1.0"}
        assert leased.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token}).status_code == 202
    # the token is bound to the address it was issued to
    assert agent.http.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token}).status_code == 401
    assert agent.http.get(f"/v1/agent/{node}/commands/next?wait=1", headers={TOKEN_HEADER: token}).status_code == 401


def test_second_lookup_fails_the_operation_loudly(service: ServiceUnderTest, api: httpx.Client,
                                                  agent: PlayedAgent) -> None:
    node = _clean_wait(api)
    assert agent.lookup().status_code == 200
    first = agent.token
    again = agent.http.get("/v1/lookup", params={"addresses": MAC})
    assert again.status_code == 409
    assert "second lookup" in again.json()["error_message"] and first not in again.text
    body = settle(api, node)
    assert body["provision_state"] == "clean failed"
    assert "second agent lookup" in body["last_error"] and "127.0.0.1" in body["last_error"]
    history = api.get(f"/v1/nodes/{node}/history").json()["history"]
    assert any("second agent lookup" in event["event"] for event in history)
    assert agent.heartbeat().status_code == 401  # the first claimant's token is worthless now too
    assert agent.lookup().status_code == 404  # and nobody gets a new one: the node waits for no agent


def test_fast_track_second_lookup_forgets_the_agent(service: ServiceUnderTest, api: httpx.Client,
                                                    agent: PlayedAgent) -> None:
    """Resting with fast track: a second claim records last_error and drops the agent, so the next operation
    boots a fresh ramdisk (with a new boot secret) instead of trusting it."""
    node = agent_node(api, automated_clean=True,
                      driver_info={"deploy_kernel": "http://127.0.0.1:9/k", "deploy_ramdisk": "http://127.0.0.1:9/r",
                                   "fast_track": True},
                      instance_info={"image_source": "http://127.0.0.1:9/disk.img", "image_os_hash_algo": "sha256",
                                     "image_os_hash_value": "ab" * 32})
    move(api, node, "manage")
    assert provision(api, node, "provide").status_code == 202
    assert settle(api, node)["provision_state"] == "clean wait"
    assert agent.lookup().status_code == 200
    assert agent.heartbeat().status_code == 202
    deadline = time.monotonic() + 30
    while settle(api, node)["provision_state"] != "available":
        command = agent.poll(1)
        if command is not None:
            assert agent.result(command["id"]).status_code == 204
            agent.heartbeat()
        assert time.monotonic() < deadline
    assert agent.heartbeat().status_code == 202  # resting, agent up (fast track)
    assert agent.http.get("/v1/lookup", params={"addresses": MAC}).status_code == 409
    body = settle(api, node)
    assert body["provision_state"] == "available" and "second agent lookup" in body["last_error"]
    assert agent.heartbeat().status_code == 401
    assert provision(api, node, "active").status_code == 202
    assert settle(api, node)["provision_state"] == "wait call-back"  # not fast-tracked onto that agent


def _raw(service: ServiceUnderTest, head: str, body: bytes) -> bytes:
    """Send ``head`` and ``body`` (the head may promise far more) and read the answer without sending more."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=20) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_heartbeat_token_is_checked_before_the_body_is_read(service: ServiceUnderTest, api: httpx.Client,
                                                            agent: PlayedAgent) -> None:
    node = _clean_wait(api)
    assert agent.lookup().status_code == 200
    garbage = b"\x00{[" * 1000
    # a wrong token and a body of 50 MB (below the service's body limit), of which only 3 kB ever come: the
    # answer comes anyway, so the body was never waited for
    head = (f"POST /v1/heartbeat/{node} HTTP/1.1\r\nHost: x\r\n{TOKEN_HEADER}: {'x' * 43}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 << 20}\r\n\r\n")
    assert _raw(service, head, garbage).startswith(b"HTTP/1.1 401")
    # no token header: Ironic's agent puts it in the body, which then must be small
    head = (f"POST /v1/heartbeat/{node} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 << 20}\r\n\r\n")
    assert _raw(service, head, garbage).startswith(b"HTTP/1.1 401")
    # the right token: now the garbage body is read and refused as such
    r = agent.http.post(f"/v1/heartbeat/{node}", content=garbage, headers={TOKEN_HEADER: str(agent.token)})
    assert r.status_code == 400
    assert agent.heartbeat().status_code == 202
    # Ironic's form (token only in a small body) still works
    r = agent.http.post(f"/v1/heartbeat/{node}", json={"callback_url": "", "agent_token": agent.token})
    assert r.status_code == 202


# --- the lab's relay ------------------------------------------------------------------------------------------
@pytest.fixture
def relay(service: ServiceUnderTest, tmp_path: Path) -> Iterator[str]:
    """The real relay (lab/apiproxy.py) on 127.0.0.1, in front of the service, with the key the service trusts."""
    key = Path(service.settings.state_dir) / "agent-relay.key"
    key.write_text(secrets.token_urlsafe(32) + "\n")
    key.chmod(0o600)
    port = free_port()
    log = tmp_path / "relay.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "ironworks.lab.apiproxy", "--listen", f"127.0.0.1:{port}",
                                 "--target", f"127.0.0.1:{service.port}", "--key-file", str(key)],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 15
        while b"relaying" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        key.unlink(missing_ok=True)


def test_relay_passes_only_agent_calls_with_the_real_address(service: ServiceUnderTest, api: httpx.Client,
                                                             agent: PlayedAgent, relay: str) -> None:
    node = _clean_wait(api)
    drop_leases(service)
    seed_lease(service, MAC, "127.0.0.7")
    with _from(service, "127.0.0.7", relay) as lab:
        # not an agent's call: refused by the relay, never the loopback admin API
        for method, path in (("GET", "/v1/nodes"), ("GET", f"/v1/nodes/{node}"), ("DELETE", f"/v1/nodes/{node}"),
                             ("GET", "/v1/lookup/../nodes"), ("POST", "/v1/lookup")):
            r = lab.request(method, path)
            assert r.status_code == 403, (method, path, r.text)
        assert lab.get("/v1/").status_code == 200
        # the service sees the lab machine's address through the relay: its lease admits the lookup
        r = lab.get("/v1/lookup", params={"addresses": MAC})
        assert r.status_code == 200, r.text
        token = r.json()["config"]["agent_token"]
        hb = {"callback_url": "", "agent_version": "0.1.0"}
        assert lab.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token}).status_code == 202
        command = lab.get(f"/v1/agent/{node}/commands/next", params={"wait": 5}, headers={TOKEN_HEADER: token})
        assert command.status_code == 200 and command.json()["command"]["name"] == "delete_configuration"
        # a claimed forwarded address does not override the relay's
        r = lab.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token, "X-Forwarded-For": "127.0.0.1"})
        assert r.status_code == 202
    # from the host's loopback, the same token is refused (bound to the lab machine's address) ...
    assert agent.http.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token}).status_code == 401
    # ... and so is a forged relay key; proxied requests never get the noauth admin API
    forged = {"X-Ironworks-Relay": "guess", "X-Forwarded-For": "127.0.0.7"}
    assert agent.http.post(f"/v1/heartbeat/{node}", json=hb, headers={TOKEN_HEADER: token, **forged}).status_code == 403
    assert api.get("/v1/nodes", headers={"X-Forwarded-For": "10.213.0.100"}).status_code == 403
    assert api.get("/v1/nodes").status_code == 200  # the host's own loopback is still the noauth admin
