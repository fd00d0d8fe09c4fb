"""Nodes driven by the agent interfaces (``direct`` deploy, ``agent`` raid/inspect) on fake power."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from ironworks.conductor.task import NODES
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


@pytest.fixture
def agent(service: ServiceUnderTest) -> Iterator[PlayedAgent]:
    played = PlayedAgent(service.url, MAC)
    yield played
    played.close()
