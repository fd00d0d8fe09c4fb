"""Durable intents: kill -9 the real ``ironworks serve`` in the middle of operations, start it again, and every
node ends in a correct stable or failed state with ``last_error`` and no stale reservation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ironworks import states
from ironworks.db.engine import Database
from ironworks.db.repos.intents import IntentRepo
from tests.conductor.helpers import enroll, move, patch_info, settle
from tests.fixtures.servers import free_port

IRONWORKS = str(Path(sys.executable).with_name("ironworks"))


def _serve(url: str, port: int, state_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    # the same conductor name again after kill -9: the new process waits until the old one's heartbeat is seen
    # to have stopped (2 heartbeat intervals), so the interval is short here
    env = dict(os.environ, IRONWORKS_CONDUCTOR_NAME=f"crash-test-{port}", IRONWORKS_HEARTBEAT_INTERVAL="0.5",
               IRONWORKS_ENABLED_HARDWARE_TYPES="fake-hardware")
    proc = subprocess.Popen(
        [IRONWORKS, "serve", "--database-url", url, "--port", str(port), "--state-dir", str(state_dir)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ironworks serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("ironworks serve did not start")


def test_kill_9_mid_operation_then_restart(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    proc = _serve(database_url, port, tmp_path, log)
    headers = {"X-OpenStack-Ironic-API-Version": "latest"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as api:
            deploying = []
            for _ in range(3):
                node = enroll(api)
                move(api, node, "manage")
                move(api, node, "provide")
                patch_info(api, node, fake_sleep_deploy=60)
                assert api.put(f"/v1/nodes/{node}/states/provision", json={"target": "active"}).status_code == 202
                deploying.append(node)
            cleaning = enroll(api, fake_sleep_clean_step=60)
            move(api, cleaning, "manage")
            assert api.put(f"/v1/nodes/{cleaning}/states/provision", json={"target": "provide"}).status_code == 202
            powering = enroll(api, fake_sleep_power=2)
            move(api, powering, "manage")
            assert api.put(f"/v1/nodes/{powering}/states/power", json={"target": "power on"}).status_code == 202
            waiting = enroll(api, fake_wait_clean=True)
            move(api, waiting, "manage")
            assert move(api, waiting, "provide")["provision_state"] == states.CLEANWAIT
            idle = enroll(api)
            move(api, idle, "manage")
            time.sleep(0.3)
            for node in deploying:
                shown = api.get(f"/v1/nodes/{node}").json()
                assert shown["provision_state"] == states.DEPLOYING and shown["reservation"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    proc = _serve(database_url, port, tmp_path, log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as api:
            for node in deploying:
                body = settle(api, node)
                assert body["provision_state"] == states.DEPLOYFAIL
                assert body["target_provision_state"] == states.ACTIVE
                assert "went down" in body["last_error"]
                assert body["reservation"] is None
                assert body["deploy_step"] == {}
            body = settle(api, cleaning)
            assert body["provision_state"] == states.CLEANFAIL and "went down" in body["last_error"]
            assert body["clean_step"] == {}
            body = settle(api, powering)  # the interrupted power action is run again
            assert body["power_state"] == states.POWER_ON and body["target_power_state"] is None
            assert body["reservation"] is None
            body = settle(api, waiting)  # a persisted wait is not a crash
            assert body["provision_state"] == states.CLEANWAIT and body["reservation"] is None
            assert settle(api, idle)["provision_state"] == states.MANAGEABLE
            # the failed nodes are usable again
            move(api, deploying[0], "deleted")
            assert settle(api, deploying[0])["provision_state"] == states.AVAILABLE
        db = Database.from_url(database_url)
        try:
            assert IntentRepo(db).unfinished() == []
        finally:
            db.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
