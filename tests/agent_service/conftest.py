"""Nodes driven by the agent interfaces (``direct`` deploy, ``agent`` raid/inspect) on fake power."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from ironworks.conductor.task import NODES
from ironworks.netboot.leases import lease_file
from tests.agent_service.client import PlayedAgent
from tests.fixtures.servers import ServiceUnderTest

MAC = "52:54:00:12:34:56"
IMAGE = {"image_source": "http://127.0.0.1:9/disk.img", "image_os_hash_algo": "sha256",
         "image_os_hash_value": "ab" * 32}


def agent_node(api: httpx.Client, mac: str = MAC, **fields: Any) -> str:
    body = {"driver": "fake-hardware", "deploy_interface": "direct", "raid_interface": "agent",
            "inspect_interface": "agent", "automated_clean": False,
            "driver_info": {"deploy_kernel": "http://127.0.0.1:9/k", "deploy_ramdisk": "http://127.0.0.1:9/r"},
            **fields}
    r = api.post("/v1/nodes", json=body)
    assert r.status_code == 201, r.text
    uuid = str(r.json()["uuid"])
    r = api.post("/v1/ports", json={"address": mac, "node_uuid": uuid})
    assert r.status_code == 201, r.text
    return uuid


def set_columns(service: ServiceUnderTest, node: str, **values: Any) -> None:
    """Test setup for read-only columns that only a finished flow writes (raid_config: a node already built)."""
    with service.services.db.write() as session:
        session.execute(update(NODES).where(NODES.c.uuid == node).values(**values))


def seed_lease(service: ServiceUnderTest, mac: str = MAC, address: str = "127.0.0.1") -> Path:
    """Play the service's dnsmasq: ``mac`` holds a DHCP lease of ``address`` (the agent's lookup rule)."""
    path = lease_file(service.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [line for line in (path.read_text().splitlines() if path.exists() else []) if mac not in line]
    lines.append(f"{int(time.time()) + 3600} {mac} {address} * 01:{mac}")
    path.write_text("\n".join(lines) + "\n")
    return path


def drop_leases(service: ServiceUnderTest) -> None:
    lease_file(service.settings).unlink(missing_ok=True)


@pytest.fixture
def agent(service: ServiceUnderTest) -> Iterator[PlayedAgent]:
    """The played agent on 127.0.0.1, which the (played) DHCP server leased to its MAC."""
    drop_leases(service)
    seed_lease(service)
    played = PlayedAgent(service.url, MAC)
    yield played
    played.close()
