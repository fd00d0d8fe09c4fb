"""Every ``openstack baremetal`` subcommand of the current python-ironicclient, driven against Ironworks.

The client negotiates the newest microversion both sides know (1.115 with python-ironicclient 6.3), exactly as an
operator's shell does. The CLI runs in this process (``openstackclient.shell.main``, the code behind the
``openstack`` command) so that a hundred commands cost seconds, not a Python start-up each.

``test_every_subcommand_is_driven_or_listed`` holds the bookkeeping: each subcommand the installed client offers
(its ``openstack.baremetal.v1`` entry points) is either run by one of the scenarios below (read from this file's
source, so the check does not depend on which tests ran) or listed in ``NOT_SERVED`` with the reason. A new client
release that adds a command fails that test until it is handled.

The client's behaviour does not depend on the database, so these scenarios run on SQLite only; every endpoint
they reach has its own tests on both databases.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from ironworks.db.repos import agent_commands
from ironworks.db.repos.conductors import ConductorRepo
from ironworks.db.repos.history import HistoryRepo
from tests.api.helpers import run_openstack

#: subcommands Ironworks does not serve, with the reason (each one is a known gap, not an oversight)
NOT_SERVED: dict[str, str] = {
}

#: the scenarios run on SQLite only (see the module docstring)
on_sqlite = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


def _subcommands() -> set[str]:
    return {ep.name for ep in entry_points(group="openstack.baremetal.v1")}


def _subcommand(words: list[str], known: set[str]) -> str | None:
    """The entry point name of ``words`` (``["node", "boot", "device", "set", "n1"]`` → its longest match)."""
    for n in range(len(words), 0, -1):
        name = "baremetal_" + "_".join(words[:n]).replace("-", "_")
        if name in known:
            return name
    return None


class Cli:
    """``cli("node", "show", "n1")`` → the command's parsed JSON output (``-f json`` is added where it applies)."""

    def __init__(self, url: str) -> None:
        self.base = ["--os-auth-type", "none", "--os-endpoint", url, "baremetal"]
        self.known = _subcommands()

    def _check(self, args: tuple[str, ...]) -> None:
        assert _subcommand([a for a in args if not a.startswith("-")], self.known), f"not a subcommand: {args}"

    def run(self, *args: str) -> tuple[int, str, str]:
        self._check(args)
        return run_openstack([*self.base, *args])

    def __call__(self, *args: str, fmt: bool = True) -> Any:
        argv = [*args, "-f", "json"] if fmt else list(args)
        rc, out, err = self.run(*argv)
        assert rc == 0, f"openstack baremetal {' '.join(args)}: {err or out}"
        return json.loads(out) if fmt and out.strip() else out

    def fails(self, *args: str) -> str:
        rc, out, err = self.run(*args)
        assert rc != 0, out
        return err


@pytest.fixture
def cli(service) -> Iterator[Cli]:
    yield Cli(service.url)


def col(row: dict[str, Any], name: str) -> Any:
    """A column of a ``-f json`` row: the CLI names columns by field (``name``) or by label (``Name``)."""
    wanted = name.lower().replace(" ", "_")
    for key, value in row.items():
        if key.lower().replace(" ", "_") == wanted:
            return value
    raise KeyError(f"{name} not in {sorted(row)}")


def _wait_field(cli: Cli, node: str, field: str, value: Any) -> dict[str, Any]:
    """The node once ``field`` shows ``value`` (the asynchronous verbs answer 202 before the change is made)."""
    deadline = time.monotonic() + 60
    while True:
        shown = cli("node", "show", node)
        if shown[field] == value or time.monotonic() > deadline:
            assert shown[field] == value, shown
            return shown
        time.sleep(0.2)


@on_sqlite
def test_nodes_power_boot_and_traits(cli: Cli, tmp_path: Path) -> None:
    node = cli(
        "node",
        "create",
        "--driver",
        "fake-hardware",
        "--name",
        "n1",
        "--property",
        "cpus=4",
        "--network-data",
        json.dumps({"links": [], "networks": [], "services": []}),
        "--shard",
        "rack-1",
        "--description",
        "first",
    )
    assert node["name"] == "n1" and node["shard"] == "rack-1" and node["properties"] == {"cpus": 4}
    assert (
        cli(
            "create",
            str(_write(tmp_path / "nodes.yaml", "nodes:\n  - name: n2\n    driver: fake-hardware\n")),
            fmt=False,
        )
        == ""
    )
    listed = cli("node", "list")
    assert {n["name"] for n in listed} == {"n1", "n2"}, listed
    cli("node", "set", "n1", "--extra", "rack=r7", "--instance-name", "web-1", fmt=False)
    cli("node", "unset", "n1", "--extra", "rack", fmt=False)
    shown = cli("node", "show", "n1")
    assert shown["extra"] == {} and shown["instance_name"] == "web-1"
    assert {r["Interface"] for r in cli("node", "validate", "n1")} >= {"power", "boot", "deploy"}
    cli("node", "maintenance", "set", "n1", "--reason", "checking", fmt=False)
    assert cli("node", "show", "n1")["maintenance_reason"] == "checking"
    cli("node", "maintenance", "unset", "n1", fmt=False)
    cli("node", "power", "on", "n1", fmt=False)
    assert cli("node", "show", "n1")["power_state"] == "power on"
    cli("node", "reboot", "n1", fmt=False)
    cli("node", "power", "off", "n1", fmt=False)
    assert cli("node", "show", "n1")["power_state"] == "power off"
    cli("node", "boot", "device", "set", "n1", "pxe", fmt=False)
    assert cli("node", "boot", "device", "show", "n1")["boot_device"] == "pxe"
    cli("node", "add", "trait", "n1", "CUSTOM_A", fmt=False)
    cli("node", "trait", "add", "n1", "CUSTOM_B", fmt=False)
    assert {t["traits"] for t in cli("node", "trait", "list", "n1")} == {"CUSTOM_A", "CUSTOM_B"}
    cli("node", "remove", "trait", "n1", "CUSTOM_A", fmt=False)
    cli("node", "trait", "remove", "n1", "CUSTOM_B", fmt=False)
    assert cli("node", "trait", "list", "n1") == []
    cli("node", "inject", "nmi", "n1", fmt=False)
    assert cli("node", "console", "show", "n1")["console_enabled"] is False
    cli("node", "console", "enable", "n1", fmt=False)
    assert cli("node", "console", "show", "n1")["console_enabled"] is True
    cli("node", "console", "disable", "n1", fmt=False)
    assert cli("node", "console", "show", "n1")["console_enabled"] is False
    child = cli("node", "create", "--driver", "fake-hardware", "--name", "n1-bmc", "--parent-node", "n1")
    assert child["uuid"] in cli("node", "children", "list", "n1", "-f", "value", fmt=False)
    assert child["name"] not in {n["name"] for n in cli("node", "list")}  # children are listed only when asked
    cli("node", "delete", "n1-bmc", fmt=False)
    assert isinstance(cli("node", "history", "list", "n1"), list)
    cli("node", "delete", "n2", fmt=False)
    assert "could not be found" in cli.fails("node", "show", "n2")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@on_sqlite
def test_provisioning_verbs(cli: Cli, service, tmp_path: Path) -> None:
    cli("node", "create", "--driver", "fake-hardware", "--name", "p1")
    cli("node", "manage", "p1", "--wait", "60", fmt=False)
    cli("node", "inspect", "p1", "--wait", "60", fmt=False)
    cli(
        "node",
        "clean",
        "p1",
        "--clean-steps",
        json.dumps([{"interface": "deploy", "step": "erase_devices_metadata"}]),
        "--wait",
        "60",
        fmt=False,
    )
    cli("node", "provide", "p1", "--wait", "60", fmt=False)
    cli("node", "set", "p1", "--instance-info", "image_source=http://127.0.0.1:1/image.qcow2", fmt=False)
    cli(
        "node",
        "deploy",
        "p1",
        "--config-drive",
        json.dumps({"meta_data": {"hostname": "p1"}}),
        "--wait",
        "60",
        fmt=False,
    )
    assert cli("node", "show", "p1")["provision_state"] == "active"
    cli("node", "rebuild", "p1", "--wait", "60", fmt=False)
    cli("node", "rescue", "p1", "--rescue-password", "s3cret", "--wait", "60", fmt=False)
    assert cli("node", "show", "p1")["provision_state"] == "rescue"
    cli("node", "unrescue", "p1", "--wait", "60", fmt=False)
    cli("node", "undeploy", "p1", "--wait", "60", fmt=False)
    assert cli("node", "show", "p1")["provision_state"] == "available"
    # history records failures (as Ironic's); inventory comes from an agent: both written as the conductor does
    node_id = service.services.nodes.get(cli("node", "show", "p1")["uuid"])["id"]
    HistoryRepo(service.services.db).record(node_id, "Deploy failed: injected", "deploy")
    with service.services.db.write() as session:
        agent_commands.store_inventory(session, node_id, {"cpu": {"count": 4}}, {"root_disk": "sda"})
    cli("node", "inventory", "save", "p1", "--file", str(tmp_path / "inventory.json"), fmt=False)
    assert json.loads((tmp_path / "inventory.json").read_text())["inventory"] == {"cpu": {"count": 4}}
    events = cli("node", "history", "list", "p1")
    assert [col(e, "event") for e in events] == ["Deploy failed: injected"]
    assert cli("node", "history", "get", "p1", col(events[0], "uuid"))["uuid"] == col(events[0], "uuid")
    # abort: only from a wait state; adopt: from manageable with an image already on the disk
    cli("node", "manage", "p1", "--wait", "60", fmt=False)
    assert "abort" in cli.fails("node", "abort", "p1").lower()
    cli("node", "adopt", "p1", "--wait", "60", fmt=False)
    assert cli("node", "show", "p1")["provision_state"] == "active"


@on_sqlite
def test_ports_portgroups_chassis_and_vifs(cli: Cli) -> None:
    chassis = cli("chassis", "create", "--description", "rack 7", "--extra", "row=b")
    assert cli("chassis", "show", chassis["uuid"])["description"] == "rack 7"
    cli("chassis", "set", chassis["uuid"], "--description", "rack 8", fmt=False)
    cli("chassis", "unset", chassis["uuid"], "--extra", "row", fmt=False)
    assert [c["uuid"] for c in cli("chassis", "list")] == [chassis["uuid"]]
    node = cli("node", "create", "--driver", "fake-hardware", "--name", "v1", "--chassis-uuid", chassis["uuid"])
    group = cli(
        "port",
        "group",
        "create",
        "--node",
        node["uuid"],
        "--name",
        "bond0",
        "--mode",
        "802.3ad",
        "--address",
        "52:54:00:00:00:10",
    )
    port = cli(
        "port",
        "create",
        "52:54:00:00:00:01",
        "--node",
        node["uuid"],
        "--name",
        "eth0",
        "--port-group",
        group["uuid"],
        "--local-link-connection",
        "switch_id=00:11:22:33:44:55",
        "--local-link-connection",
        "port_id=Ethernet1",
    )
    assert port["name"] == "eth0" and port["portgroup_uuid"] == group["uuid"]
    assert [p["address"] for p in cli("port", "list", "--node", "v1")] == ["52:54:00:00:00:01"]
    cli("port", "set", port["uuid"], "--extra", "cable=7", fmt=False)
    cli("port", "unset", port["uuid"], "--extra", "cable", fmt=False)
    assert cli("port", "show", port["uuid"])["extra"] == {}
    cli("port", "group", "set", "bond0", "--extra", "lacp=fast", fmt=False)
    cli("port", "group", "unset", "bond0", "--extra", "lacp", fmt=False)
    assert [g["name"] for g in cli("port", "group", "list")] == ["bond0"]
    assert cli("port", "group", "show", "bond0")["mode"] == "802.3ad"
    cli("node", "vif", "attach", "v1", "vif-1", fmt=False)
    assert [col(v, "id") for v in cli("node", "vif", "list", "v1")] == ["vif-1"]
    cli("node", "vif", "detach", "v1", "vif-1", fmt=False)
    assert cli("node", "vif", "list", "v1") == []
    cli("port", "delete", port["uuid"], fmt=False)
    cli("port", "group", "delete", "bond0", fmt=False)
    cli("node", "delete", "v1", fmt=False)
    cli("chassis", "delete", chassis["uuid"], fmt=False)
    assert cli("chassis", "list") == []


@on_sqlite
def test_drivers_conductors_shards_bios_and_passthru(cli: Cli, service) -> None:
    drivers = {col(d, "name") for d in cli("driver", "list")}
    assert "fake-hardware" in drivers
    assert cli("driver", "show", "fake-hardware")["name"] == "fake-hardware"
    assert cli("driver", "property", "list", "fake-hardware") is not None
    raid = {col(p, "Property") for p in cli("driver", "raid", "property", "list", "fake-hardware")}
    assert "raid_level" in raid
    ConductorRepo(service.services.db).register(service.settings.conductor_name)  # its row, emptied by reset()
    conductors = cli("conductor", "list")
    assert len(conductors) == 1 and cli("conductor", "show", col(conductors[0], "hostname"))["alive"] is True
    cli("node", "create", "--driver", "fake-hardware", "--name", "b1", "--shard", "rack-9")
    assert {"name": "rack-9", "count": 1} in [{k.lower(): v for k, v in s.items()} for s in cli("shard", "list")]
    assert cli("node", "bios", "setting", "list", "b1") == []  # cached when cleaning starts and by BIOS steps
    cli("node", "manage", "b1", "--wait", "60", fmt=False)
    bios_steps = [
        {
            "interface": "bios",
            "step": "apply_configuration",
            "args": {"settings": [{"name": "ProcVirtualization", "value": "Disabled"}]},
        }
    ]
    cli("node", "clean", "b1", "--clean-steps", json.dumps(bios_steps), "--wait", "60", fmt=False)
    assert "ProcVirtualization" in {col(x, "name") for x in cli("node", "bios", "setting", "list", "b1")}
    assert cli("node", "bios", "setting", "show", "b1", "ProcVirtualization")["value"] == "Disabled"
    firmware = [
        {
            "interface": "firmware",
            "step": "update",
            "args": {"settings": [{"component": "bios", "url": "https://fw.example.org/bios-1.2.0.bin"}]},
        }
    ]
    cli("node", "clean", "b1", "--clean-steps", json.dumps(firmware), "--wait", "60", fmt=False)
    components = {col(c, "component"): c for c in cli("node", "firmware", "list", "b1")}
    assert col(components["bios"], "current_version") == "1.2.0"
    cli("node", "boot", "mode", "set", "b1", "uefi", fmt=False)
    _wait_field(cli, "b1", "boot_mode", "uefi")
    cli("node", "secure", "boot", "on", "b1", fmt=False)
    _wait_field(cli, "b1", "secure_boot", True)
    cli("node", "secure", "boot", "off", "b1", fmt=False)
    _wait_field(cli, "b1", "secure_boot", False)
    methods = {col(m, "name") for m in cli("node", "passthru", "list", "b1")}
    assert "third_method_sync" in methods
    cli("node", "passthru", "call", "b1", "second_method", "--arg", "bar=kazoo", fmt=False)  # async: 202
    assert "Parameter 'bar' not passed" in cli.fails("node", "passthru", "call", "b1", "second_method")
    assert cli("driver", "passthru", "list", "fake-hardware") == []
    assert "No handler for method second_method" in cli.fails(
        "driver", "passthru", "call", "fake-hardware", "second_method", "--arg", "bar=1"
    )


@on_sqlite
def test_allocations_and_deploy_templates(cli: Cli) -> None:
    cli("node", "create", "--driver", "fake-hardware", "--name", "a1", "--resource-class", "gold")
    cli("node", "manage", "a1", "--wait", "60", fmt=False)
    cli("node", "provide", "a1", "--wait", "60", fmt=False)
    alloc = cli("allocation", "create", "--resource-class", "gold", "--name", "claim-1", "--wait", "60")
    assert alloc["state"] == "active" and alloc["node_uuid"] == cli("node", "show", "a1")["uuid"]
    cli("allocation", "set", "claim-1", "--extra", "ticket=42", fmt=False)
    cli("allocation", "unset", "claim-1", "--extra", "ticket", fmt=False)
    assert cli("allocation", "show", "claim-1")["extra"] == {}
    assert [col(a, "name") for a in cli("allocation", "list")] == ["claim-1"]
    cli("allocation", "delete", "claim-1", fmt=False)
    steps = json.dumps(
        [{"interface": "bios", "step": "apply_configuration", "args": {"settings": []}, "priority": 150}]
    )
    template = cli("deploy", "template", "create", "CUSTOM_HYPERTHREADING_ON", "--steps", steps)
    assert template["name"] == "CUSTOM_HYPERTHREADING_ON"
    cli("deploy", "template", "set", "CUSTOM_HYPERTHREADING_ON", "--extra", "owner=ops", fmt=False)
    cli("deploy", "template", "unset", "CUSTOM_HYPERTHREADING_ON", "--extra", "owner", fmt=False)
    assert cli("deploy", "template", "show", "CUSTOM_HYPERTHREADING_ON")["extra"] == {}
    assert len(cli("deploy", "template", "list")) == 1
    cli("deploy", "template", "delete", "CUSTOM_HYPERTHREADING_ON", fmt=False)
    assert cli("deploy", "template", "list") == []


@on_sqlite
def test_inspection_rules(cli: Cli) -> None:
    actions = json.dumps([{"op": "add-trait", "args": {"name": "CUSTOM_GPU"}}])
    conditions = json.dumps([{"op": "contains", "args": {"value": "{inventory[cpu][model_name]}", "regex": "EPYC"}}])
    # the client sends --priority as a string and a missing --conditions as null; Ironic's schema refuses both
    assert "None is not of type 'array'" in cli.fails("inspection", "rule", "create", "--actions", actions)
    rule = cli("inspection", "rule", "create", "--description", "gpus", "--conditions", conditions,
               "--actions", actions)
    assert (rule["description"], rule["priority"], rule["phase"]) == ("gpus", 0, "main")
    cli("inspection", "rule", "set", rule["uuid"], "--priority", "7", "--description", "GPU nodes", fmt=False)
    shown = cli("inspection", "rule", "show", rule["uuid"])
    assert (shown["priority"], shown["description"], shown["actions"]) == (7, "GPU nodes", json.loads(actions))
    cli("inspection", "rule", "unset", rule["uuid"], "--description", "--priority", fmt=False)
    shown = cli("inspection", "rule", "show", rule["uuid"])
    assert (shown["priority"], shown["description"]) == (0, None)
    assert [col(r, "uuid") for r in cli("inspection", "rule", "list")] == [rule["uuid"]]
    cli("inspection", "rule", "delete", rule["uuid"], fmt=False)
    assert cli("inspection", "rule", "list") == []


@on_sqlite
def test_runbooks_servicing_and_hold(cli: Cli) -> None:
    erase = {"interface": "deploy", "step": "erase_devices_metadata", "args": {}, "order": 1}
    book = cli("runbook", "create", "--name", "CUSTOM_WIPE", "--steps", json.dumps([erase]), "--extra", "row=b")
    assert (book["name"], book["steps"], book["extra"]) == ("CUSTOM_WIPE", [erase], {"row": "b"})
    assert [col(b, "name") for b in cli("runbook", "list")] == ["CUSTOM_WIPE"]
    cli("runbook", "set", "CUSTOM_WIPE", "--extra", "k=v", "--name", "CUSTOM_WIPE2", fmt=False)
    cli("runbook", "unset", "CUSTOM_WIPE2", "--extra", "row", fmt=False)
    shown = cli("runbook", "show", book["uuid"])
    assert (shown["name"], shown["extra"]) == ("CUSTOM_WIPE2", {"k": "v"})
    cli("runbook", "trait", "add", "CUSTOM_WIPE2", "CUSTOM_T1", "CUSTOM_T2", fmt=False)
    cli("runbook", "trait", "remove", "CUSTOM_WIPE2", "CUSTOM_T2", fmt=False)
    assert [col(t, "traits") for t in cli("runbook", "trait", "list", "CUSTOM_WIPE2")] == ["CUSTOM_T1"]

    cli("node", "create", "--driver", "fake-hardware", "--name", "r1")
    cli("node", "manage", "r1", "--wait", "60", fmt=False)
    cli("node", "add", "trait", "r1", "CUSTOM_T1", fmt=False)
    cli("node", "clean", "r1", "--runbook", "CUSTOM_WIPE2", "--wait", "60", fmt=False)
    assert cli("node", "show", "r1")["driver_internal_info"]["fake_metadata_erased"] is True

    cli("node", "provide", "r1", "--wait", "60", fmt=False)
    cli("node", "deploy", "r1", "--wait", "60", fmt=False)
    steps = [{"interface": "vendor", "step": "log_passthrough"}, {"interface": "deploy", "step": "hold"},
             {"interface": "vendor", "step": "log_passthrough"}]
    cli("node", "service", "r1", "--service-steps", json.dumps(steps), fmt=False)
    _wait_field(cli, "r1", "provision_state", "service hold")
    cli("node", "unhold", "r1", fmt=False)
    done = _wait_field(cli, "r1", "provision_state", "active")
    assert done["driver_internal_info"]["fake_vendor_calls"] == 2
    cli("runbook", "delete", "CUSTOM_WIPE2", fmt=False)
    assert cli("runbook", "list") == []


@on_sqlite
def test_volume_connectors_and_targets(cli: Cli) -> None:
    node = cli("node", "create", "--driver", "fake-hardware", "--name", "v1")["uuid"]
    cli("node", "power", "off", "v1", fmt=False)  # volume objects change only on a powered-off node (Ironic)
    _wait_field(cli, "v1", "power_state", "power off")
    made = cli("volume", "connector", "create", "--node", node, "--type", "iqn", "--connector-id",
               "iqn.2026-12.org.example:v1", "--extra", "a=b")
    assert made["connector_id"] == "iqn.2026-12.org.example:v1" and made["extra"] == {"a": "b"}
    assert [col(c, "uuid") for c in cli("volume", "connector", "list", "--node", node)] == [made["uuid"]]
    cli("volume", "connector", "set", made["uuid"], "--connector-id", "iqn.2026-12.org.example:b", "--extra",
        "c=d", fmt=False)
    cli("volume", "connector", "unset", made["uuid"], "--extra", "a", fmt=False)
    shown = cli("volume", "connector", "show", made["uuid"])
    assert shown["connector_id"] == "iqn.2026-12.org.example:b" and shown["extra"] == {"c": "d"}
    cli("volume", "connector", "delete", made["uuid"], fmt=False)
    assert cli("volume", "connector", "list") == []
    target = cli("volume", "target", "create", "--node", node, "--type", "iscsi", "--boot-index", "0",
                 "--volume-id", "vol-1", "--property", "auth_password=cli-secret-3", "--property", "target_lun=1")
    assert target["properties"] == {"auth_password": "******", "target_lun": 1}  # the client sends JSON values
    cli("volume", "target", "set", target["uuid"], "--boot-index", "1", "--property", "target_lun=2", fmt=False)
    cli("volume", "target", "unset", target["uuid"], "--property", "auth_password", fmt=False)
    shown = cli("volume", "target", "show", target["uuid"])
    assert shown["boot_index"] == 1 and shown["properties"] == {"target_lun": 2}
    listed = cli("volume", "target", "list", "--long")
    assert [col(t, "uuid") for t in listed] == [target["uuid"]] and "cli-secret-3" not in json.dumps(listed)
    cli("volume", "target", "delete", target["uuid"], fmt=False)
    assert cli("volume", "target", "list") == []


def _driven_here() -> set[str]:
    """The subcommands the scenarios of this file run: every ``cli(...)`` / ``cli.fails(...)`` call's literal words."""
    known, driven = _subcommands(), set()
    for call in ast.walk(ast.parse(Path(__file__).read_text())):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if not (
            (isinstance(func, ast.Name) and func.id == "cli")
            or (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "cli")
        ):
            continue
        words = []
        for arg in call.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) or arg.value.startswith("-"):
                break
            words.append(arg.value)
        name = _subcommand(words, known)
        if name:
            driven.add(name)
    return driven


def test_every_subcommand_is_driven_or_listed() -> None:
    offered = _subcommands()
    assert len(offered) > 100, "python-ironicclient's OSC plugin is installed"
    driven = _driven_here()
    assert not driven & set(NOT_SERVED), "listed as not served, yet driven"
    missing = offered - driven - set(NOT_SERVED)
    assert not missing, f"neither driven nor listed: {sorted(missing)}"
    assert not set(NOT_SERVED) - offered, "NOT_SERVED names a command the client does not have"
