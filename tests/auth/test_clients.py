"""The ``openstack baremetal`` CLI logged in with ``--os-auth-type http_basic`` sees its project's nodes only."""

from __future__ import annotations

import json
import os
import subprocess

from tests.api.helpers import openstack_cli
from tests.auth.conftest import MEMBER, PASSWORD
from tests.auth.helpers import make_node


def test_openstack_cli_with_http_basic(auth_service, admin):
    make_node(admin, owner="acme", name="acme-node")
    make_node(admin, owner="landlord", name="other-node")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    # the password goes through the environment, as in an openrc file, never on the command line
    env.update(OS_AUTH_TYPE="http_basic", OS_USERNAME=MEMBER.name, OS_PASSWORD=PASSWORD, OS_ENDPOINT=auth_service.url)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([openstack_cli(), *args], capture_output=True, text=True, env=env, timeout=120)

    listed = cli("baremetal", "node", "list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    assert [n["name"] for n in json.loads(listed.stdout)] == ["acme-node"]
    shown = cli("baremetal", "node", "show", "acme-node", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["driver_info"]["ipmi_username"] == "******"
    hidden = cli("baremetal", "node", "show", "other-node")
    assert hidden.returncode != 0 and "could not be found" in hidden.stderr
    refused = cli("baremetal", "node", "set", "acme-node", "--driver-info", "ipmi_username=me")
    assert refused.returncode != 0 and "disallowed by policy" in refused.stderr
    env["OS_PASSWORD"] = "wrong"
    denied = cli("baremetal", "node", "list")
    assert denied.returncode != 0 and "401" in denied.stderr
