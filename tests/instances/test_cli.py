"""``ironworks server create|list|show|delete`` as a user runs it, against the running test service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.instances.helpers import KEY, PASSWORD, server_node, world

IRONWORKS = str(Path(sys.executable).with_name("ironworks"))


def _run(service, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONWORKS_")}
    return subprocess.run(
        [IRONWORKS, "server", *argv, "--api", service.url],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_server_create_wait_list_show_delete(api, service, tmp_path):
    world(api)
    node = server_node(api, "gold-1", "52:54:00:00:01:01")
    key = tmp_path / "id_ed25519.pub"
    key.write_text(KEY + "\n")
    done = _run(
        service,
        "create", "web-1", "--flavor", "small", "--image", "debian-12", "--network", "web",
        "--ssh-key", str(key), "--root-password-stdin", "--wait", "--timeout", "60",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines() if " " in line.strip())
    assert lines["state"].strip() == "active" and lines["node_uuid"].strip() == node["uuid"]
    assert lines["network"].split() == ["web", "10.100.0.10"]
    assert PASSWORD not in done.stdout + done.stderr
    shown = api.get("/v1/instances/web-1").json()
    assert shown["ssh_keys"] == [KEY] and shown["root_password"] == "******"

    listing = _run(service, "list")
    assert listing.returncode == 0 and "web-1" in listing.stdout and "active" in listing.stdout
    assert "active" in _run(service, "show", "web-1").stdout

    refused = _run(service, "create", "web-2", "--flavor", "small", "--image", "nope")
    assert refused.returncode == 1 and "HTTP 400" in refused.stderr and "Image nope" in refused.stderr

    gone = _run(service, "delete", "web-1", "--wait", "--timeout", "60")
    assert gone.returncode == 0, gone.stderr
    assert api.get("/v1/instances/web-1").status_code == 404
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["provision_state"] == "available"
