"""The ``netmiko`` switch driver against a real SSH server on 127.0.0.1 (tests/networking/fake_switch.py):
the exact configuration command sequences per platform, Junos commits, and the password never shown."""

from __future__ import annotations

import logging

import pytest

from ironworks import errors
from ironworks.networking.switches.base import Switches, SwitchPort
from ironworks.networking.switches.netmiko import NetmikoSwitch, commands
from tests.networking.fake_switch import FakeSwitch

PASSWORD = "sw1tch-s3cret"
PORT = SwitchPort(switch_id="52:54:00:ff:00:01", port_id="Ethernet1/7", switch_info="tor-1")

IOS_LIKE = {
    "access": ["interface Ethernet1/7", "switchport mode access", "switchport access vlan 100", "no shutdown", "end"],
    "trunk": [
        "interface Ethernet1/7",
        "switchport mode trunk",
        "switchport trunk native vlan 10",
        "switchport trunk allowed vlan 10,100,200",
        "no shutdown",
        "end",
    ],
    "isolate": ["interface Ethernet1/7", "shutdown", "switchport mode access", "no switchport access vlan", "end"],
}
_FAM = "set interfaces Ethernet1/7 unit 0 family ethernet-switching"
_JUNOS_BASE = [
    "delete interfaces Ethernet1/7 unit 0 family ethernet-switching",
    "delete interfaces Ethernet1/7 native-vlan-id",
]
JUNOS = {
    "access": [
        *_JUNOS_BASE,
        "delete interfaces Ethernet1/7 disable",
        f"{_FAM} interface-mode access",
        f"{_FAM} vlan members 100",
        "commit",
        "exit configuration-mode",
    ],
    "trunk": [
        *_JUNOS_BASE,
        "delete interfaces Ethernet1/7 disable",
        f"{_FAM} interface-mode trunk",
        f"{_FAM} vlan members 10",
        f"{_FAM} vlan members 100",
        f"{_FAM} vlan members 200",
        "set interfaces Ethernet1/7 native-vlan-id 10",
        "commit",
        "exit configuration-mode",
    ],
    "isolate": [*_JUNOS_BASE, "set interfaces Ethernet1/7 disable", "commit", "exit configuration-mode"],
}
EXPECTED = {"cisco_ios": IOS_LIKE, "arista_eos": IOS_LIKE, "juniper_junos": JUNOS}


def _switch(fake: FakeSwitch, device_type: str, password: str = PASSWORD) -> NetmikoSwitch:
    return NetmikoSwitch(
        "tor-1",
        {
            "driver": "netmiko",
            "device_type": device_type,
            "host": "127.0.0.1",
            "port": fake.port,
            "username": "admin",
            "password": password,
            "conn_timeout": 5,
        },
    )


def _run(sw: NetmikoSwitch, op: str) -> None:
    if op == "access":
        sw.set_access(PORT, 100)
    elif op == "trunk":
        sw.set_trunk(PORT, [200, 100], native=10)
    else:
        sw.isolate(PORT)


@pytest.mark.parametrize("device_type", sorted(EXPECTED))
@pytest.mark.parametrize("op", ["access", "trunk", "isolate"])
def test_command_sequences(device_type, op, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeSwitch(device_type) as fake:
        _run(_switch(fake, device_type), op)
        assert fake.config_lines == EXPECTED[device_type][op]
        assert fake.sessions == 1
        assert fake.commits == (1 if device_type == "juniper_junos" else 0)
        entered = "configure" if device_type == "juniper_junos" else "configure terminal"
        assert entered in fake.lines
    assert PASSWORD not in caplog.text


def test_wrong_password_is_a_driver_error_without_the_secret(caplog):
    with FakeSwitch("cisco_ios") as fake:
        sw = _switch(fake, "cisco_ios", password="not-" + PASSWORD)
        with pytest.raises(errors.DriverError) as err:
            sw.set_access(PORT, 100)
        assert "Switch tor-1" in err.value.message and "Ethernet1/7" in err.value.message
        assert "not-" + PASSWORD not in err.value.message and fake.config_lines == []
    assert PASSWORD not in caplog.text and PASSWORD not in repr(sw)
    assert "'password': '******'" in repr(sw)
    assert PASSWORD not in repr(Switches({"tor-1": sw.config}))


def test_unreachable_switch_is_a_driver_error():
    with FakeSwitch("cisco_ios") as fake:
        port = fake.port
    sw = NetmikoSwitch(
        "tor-9",
        {
            "device_type": "cisco_ios",
            "host": "127.0.0.1",
            "port": port,
            "username": "a",
            "password": "b",
            "conn_timeout": 2,
        },
    )
    with pytest.raises(errors.DriverError) as err:
        sw.isolate(PORT)
    assert "Switch tor-9" in err.value.message


@pytest.mark.parametrize("bad", ["Gi0/1; reload", "eth0\nreload", "", "-x"])
def test_port_names_cannot_smuggle_cli_syntax(bad):
    with pytest.raises(errors.InvalidParameterValue):
        commands("cisco_ios", "access", bad, 100)


def test_configuration_is_checked():
    with pytest.raises(ValueError):
        NetmikoSwitch("x", {"device_type": "hp_procurve", "host": "h"})
    with pytest.raises(ValueError):
        NetmikoSwitch("x", {"device_type": "cisco_ios"})
    with pytest.raises(errors.InvalidParameterValue):
        NetmikoSwitch("x", {"device_type": "cisco_ios", "host": "h"}).set_access(PORT, 4095)
