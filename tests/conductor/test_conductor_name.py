"""One live process per conductor name, on SQLite and PostgreSQL: a second service started with the name of a
heartbeating conductor refuses to start (a clear error; ``ironworks serve`` exits non-zero) and the first one's
in-flight deploy keeps its lock and finishes; once the first has stopped, the name is free again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ironworks.db.repos.conductors import ConductorAlreadyRunning
from tests.conductor.helpers import enroll, move, patch_info, provision, settle
from tests.fixtures.servers import ServiceUnderTest, free_port, make_settings

IRONWORKS = str(Path(sys.executable).with_name("ironworks"))
NAME = "conductor-under-test"


def _service(tmp_path: Path, url: str) -> ServiceUnderTest:
    # a short heartbeat interval keeps the newcomer's look at the heartbeat short (2 intervals + 1 s)
    return ServiceUnderTest(make_settings(str(tmp_path), url, conductor_name=NAME, heartbeat_interval=0.3))


def test_second_process_with_a_live_name_refuses_and_leaves_the_first_alone(database_url: str,
                                                                           tmp_path: Path) -> None:
    first = _service(tmp_path, database_url).start()
    try:
        with first.client() as api:
            node = enroll(api)
            move(api, node, "manage")
            move(api, node, "provide")
            patch_info(api, node, fake_sleep_deploy=25)  # outlasts the refusals below, even on a loaded machine
            assert provision(api, node, "active").status_code == 202
            before = api.get(f"/v1/nodes/{node}").json()
            assert (before["provision_state"], before["reservation"]) == ("deploying", NAME)

            second = _service(tmp_path, database_url)
            with pytest.raises(ConductorAlreadyRunning) as refused:
                second.start()
            second.services.close()
            assert refused.value.http_status == 409
            assert f"A conductor named {NAME!r} is already running" in refused.value.message

            # in a real process: exit status 2 and the reason on stderr, before anything else started
            env = dict(os.environ, IRONWORKS_CONDUCTOR_NAME=NAME, IRONWORKS_HEARTBEAT_INTERVAL="0.3")
            cli = subprocess.run(
                [IRONWORKS, "serve", "--database-url", database_url, "--port", str(free_port()),
                 "--state-dir", str(tmp_path / "cli")], capture_output=True, text=True, env=env, timeout=60)
            assert cli.returncode == 2, cli.stderr[-2000:]
            assert "is already running" in cli.stderr

            during = api.get(f"/v1/nodes/{node}").json()
            assert (during["provision_state"], during["reservation"]) == ("deploying", NAME)
            assert during["last_error"] is None
            done = settle(api, node, timeout=60)
            assert (done["provision_state"], done["last_error"]) == ("active", None)
    finally:
        first.stop()
    # a clean stop frees the name at once
    third = _service(tmp_path, database_url).start()
    try:
        with third.client() as api:
            assert api.get(f"/v1/nodes/{node}").json()["provision_state"] == "active"
    finally:
        third.stop()
