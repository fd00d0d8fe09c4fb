"""Callback timeouts and power state sync, on a service with short periods (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ironworks import states
from ironworks.db.repos.history import HistoryRepo
from ironworks.db.repos.nodes import NodeRepo
from tests.conductor.helpers import enroll, move, patch_info, settle
from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings


@pytest.fixture(params=["sqlite", "postgres"])
def fast(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceUnderTest]:
    def start(url: str) -> ServiceUnderTest:
        return ServiceUnderTest(make_settings(
            str(tmp_path), url, deploy_callback_timeout=1.0, clean_callback_timeout=1.0,
            inspect_callback_timeout=1.0, rescue_callback_timeout=1.0, service_callback_timeout=1.0,
            periodic_interval=0.2,
            power_sync_interval=0.3)).start()

    if request.param == "sqlite":
        svc = start(f"sqlite:///{tmp_path}/fast.sqlite")
        yield svc
        svc.stop()
        return
    pg = request.getfixturevalue("pg_url")
    with fresh_pg_database(pg) as url:
        svc = start(url)
        yield svc
        svc.stop()


def _wait_for(api: httpx.Client, node: str, state: str, timeout: float = 10) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/v1/nodes/{node}").json()
        if body["provision_state"] == state:
            return body
        time.sleep(0.05)
    raise AssertionError(f"node {node} never reached {state}: {body['provision_state']}")


@pytest.mark.parametrize(("op", "target", "wait_state", "failed_state"), [
    ("deploy", "active", states.DEPLOYWAIT, states.DEPLOYFAIL),
    ("clean", "provide", states.CLEANWAIT, states.CLEANFAIL),
    ("inspect", "inspect", states.INSPECTWAIT, states.INSPECTFAIL),
    ("rescue", "rescue", states.RESCUEWAIT, states.RESCUEFAIL),
])
def test_callback_timeouts(fast: ServiceUnderTest, op: str, target: str, wait_state: str, failed_state: str) -> None:
    with fast.client("latest") as api:
        node = enroll(api)
        move(api, node, "manage")
        if target in ("active", "rescue"):
            move(api, node, "provide")
        if target == "rescue":
            move(api, node, "active")
        patch_info(api, node, **{f"fake_wait_{op}": True})
        extra = {"rescue_password": "pw"} if target == "rescue" else {}
        assert move(api, node, target, **extra)["provision_state"] == wait_state
        body = _wait_for(api, node, failed_state)
        assert "Timeout reached" in str(body["last_error"])
        assert body["reservation"] is None


def test_service_callback_timeout(fast: ServiceUnderTest) -> None:
    """A service step waiting for a call back that never comes: ``service failed`` (Ironic's
    ``service_callback_timeout``)."""
    with fast.client("latest") as api:
        node = enroll(api)
        move(api, node, "manage")
        move(api, node, "provide")
        move(api, node, "active")
        step = {"interface": "vendor", "step": "trigger_servicewait"}
        assert move(api, node, "service", service_steps=[step])["provision_state"] == states.SERVICEWAIT
        body = _wait_for(api, node, states.SERVICEFAIL)
        assert "Timeout reached while servicing" in str(body["last_error"])
        assert "vendor.trigger_servicewait" in str(body["last_error"])
        assert body["reservation"] is None and body["service_step"] == {}


def test_no_timeout_before_its_time(tmp_path: Path) -> None:
    svc = ServiceUnderTest(make_settings(str(tmp_path), f"sqlite:///{tmp_path}/slow.sqlite",
                                         deploy_callback_timeout=30.0, periodic_interval=0.1)).start()
    try:
        with svc.client("latest") as api:
            node = enroll(api, fake_wait_deploy=True)
            move(api, node, "manage")
            move(api, node, "provide")
            assert move(api, node, "active")["provision_state"] == states.DEPLOYWAIT
            time.sleep(0.5)
            assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == states.DEPLOYWAIT
    finally:
        svc.stop()


def test_power_sync_records_out_of_band_change(fast: ServiceUnderTest, tmp_path: Path) -> None:
    bmc = tmp_path / "fake" / "bmc-power"  # the fake driver's files live under <state_dir>/fake/
    bmc.parent.mkdir()
    bmc.write_text("power off\n")
    with fast.client("latest") as api:
        node = enroll(api, fake_power_file=str(bmc))
        move(api, node, "manage")
        move(api, node, "provide")
        assert move(api, node, "active")["power_state"] == states.POWER_ON
        assert bmc.read_text().strip() == states.POWER_ON
        bmc.write_text("power off\n")  # someone pressed the button
        node_id = NodeRepo(fast.services.db).get(node)["id"]
        deadline = time.monotonic() + 10
        events: list[dict[str, object]] = []
        while time.monotonic() < deadline and not events:
            events = HistoryRepo(fast.services.db).list(node_id)
            time.sleep(0.05)
        assert events, "the out-of-band power change was not recorded"
        assert "does not match expected state" in str(events[0]["event"])
        assert events[0]["event_type"] == "monitoring"
        # forced back to the recorded state, as Ironic does by default
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and bmc.read_text().strip() != states.POWER_ON:
            time.sleep(0.05)
        assert bmc.read_text().strip() == states.POWER_ON
        assert settle(api, node)["power_state"] == states.POWER_ON


def test_power_sync_follows_hardware_when_not_forcing(tmp_path: Path) -> None:
    svc = ServiceUnderTest(make_settings(str(tmp_path), f"sqlite:///{tmp_path}/nf.sqlite", periodic_interval=0.1,
                                         power_sync_interval=0.2, force_power_state_during_sync=False)).start()
    bmc = tmp_path / "fake" / "bmc"
    bmc.parent.mkdir()
    bmc.write_text("power off\n")
    try:
        with svc.client("latest") as api:
            node = enroll(api, fake_power_file=str(bmc))
            move(api, node, "manage")
            assert api.put(f"/v1/nodes/{node}/states/power", json={"target": "power on"}).status_code == 202
            assert settle(api, node)["power_state"] == states.POWER_ON
            bmc.write_text("power off\n")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if api.get(f"/v1/nodes/{node}").json()["power_state"] == states.POWER_OFF:
                    break
                time.sleep(0.05)
            assert api.get(f"/v1/nodes/{node}").json()["power_state"] == states.POWER_OFF
            assert bmc.read_text().strip() == states.POWER_OFF
    finally:
        svc.stop()
