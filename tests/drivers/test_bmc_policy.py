"""Retries, the per-BMC limiter, power verification and driver_info validation (no I/O; clocks are fakes)."""

from __future__ import annotations

import threading

import pytest

from ironworks import errors
from ironworks.drivers.bmc import bootmode
from ironworks.drivers.bmc.policy import BMCLimiter, BMCPolicy, wait_for_power, with_retries
from ironworks.drivers.ipmi.info import parse_driver_info as parse_ipmi
from ironworks.drivers.redfish.info import parse_driver_info as parse_redfish


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retries_only_what_a_retry_can_cure_with_exponential_backoff() -> None:
    clock = FakeClock()
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise errors.BMCConnectionError(bmc="10.0.0.1:623", reason="no answer")
        return "ok"

    policy = BMCPolicy(attempts=3, backoff=0.5, backoff_max=5)
    assert with_retries(flaky, policy, sleep=clock.sleep) == "ok"
    assert clock.sleeps == [0.5, 1.0]

    def refused() -> str:
        calls.append(1)
        raise errors.BMCAuthError(bmc="10.0.0.1:623", user="admin", reason="wrong password")

    calls.clear()
    with pytest.raises(errors.BMCAuthError):
        with_retries(refused, policy, sleep=clock.sleep)
    assert len(calls) == 1


def test_power_verification_polls_until_the_target_or_times_out() -> None:
    clock = FakeClock()
    readings = iter(["off", "off", "on"])
    assert wait_for_power(lambda: next(readings), "on", bmc="b", action="power on", timeout=10, interval=1,
                          clock=clock, sleep=clock.sleep) == "on"

    clock = FakeClock()
    with pytest.raises(errors.PowerStateTimeout) as caught:
        wait_for_power(lambda: "off", "on", bmc="10.1.2.3:623", action="power on", timeout=5, interval=1,
                       clock=clock, sleep=clock.sleep)
    assert "10.1.2.3:623" in str(caught.value) and "'off'" in str(caught.value)
    assert clock.now == pytest.approx(5)


def test_limiter_bounds_requests_per_bmc() -> None:
    limiter = BMCLimiter(limit=1, timeout=0.2)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with limiter.slot("10.0.0.1:623"):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    with limiter.slot("10.0.0.2:623"):  # another BMC is not affected
        pass
    with pytest.raises(errors.BMCBusy) as caught, limiter.slot("10.0.0.1:623"):
        pass
    assert "10.0.0.1:623" in str(caught.value)
    release.set()
    holder.join()
    with limiter.slot("10.0.0.1:623"):
        pass


@pytest.mark.parametrize(("info", "error"), [
    ({}, errors.MissingParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_port": "70000"}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_port": "abc"}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_priv_level": "ROOT"}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_cipher_suite": 1}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_bridging": "dual"}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_bridging": "single"}, errors.MissingParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_force_boot_device": "maybe"}, errors.InvalidParameterValue),
    ({"ipmi_address": "10.0.0.1", "ipmi_password": "x" * 21}, errors.InvalidParameterValue),
])
def test_ipmi_driver_info_rejected(info: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_ipmi(info)


def test_ipmi_driver_info_accepted() -> None:
    access = parse_ipmi({"ipmi_address": "10.0.0.1", "ipmi_port": "6230", "ipmi_username": "admin",
                         "ipmi_password": "pw", "ipmi_priv_level": "operator", "ipmi_cipher_suite": "17",
                         "ipmi_bridging": "single", "ipmi_target_channel": "7", "ipmi_target_address": "0x72",
                         "ipmi_force_boot_device": "true"})
    assert (access.port, access.privlevel, access.cipher_suite, access.bridge) == (6230, 3, 17, (7, 0x72))
    assert access.force_boot_device and access.bmc == "10.0.0.1:6230"
    assert "pw" not in repr(access)


@pytest.mark.parametrize("address", ["ftp://bmc", "https://bmc/redfish/v1", "https://bmc:99999", "http://"])
def test_redfish_driver_info_rejected(address: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        parse_redfish({"redfish_address": address})


def test_redfish_driver_info_accepted() -> None:
    access = parse_redfish({"redfish_address": "10.0.0.5", "redfish_system_id": "1", "redfish_verify_ca": "no",
                            "redfish_auth_type": "basic", "redfish_password": "pw"})
    assert access.address == "https://10.0.0.5" and access.system_id == "/redfish/v1/Systems/1"
    assert access.verify_ca is False and "pw" not in repr(access)
    with pytest.raises(errors.InvalidParameterValue):
        parse_redfish({"redfish_address": "10.0.0.5", "redfish_auth_type": "token"})
    with pytest.raises(errors.InvalidParameterValue):
        parse_redfish({"redfish_address": "10.0.0.5", "redfish_verify_ca": "/no/such/ca.pem"})


def test_desired_boot_mode_follows_ironic_precedence() -> None:
    node = {"instance_info": {}, "properties": {"capabilities": "boot_mode:bios,secure_boot:false"},
            "driver_internal_info": {}, "boot_mode": "uefi"}
    assert bootmode.desired_boot_mode(node) == "bios"
    node["instance_info"] = {"capabilities": {"boot_mode": "uefi"}}
    assert bootmode.desired_boot_mode(node) == "uefi"
    assert bootmode.desired_boot_mode({}) == "uefi"


def test_settings_configure_the_bmc_interfaces(tmp_path):
    """The composition root builds the IPMI and Redfish interfaces from settings, sharing one limiter each."""
    from ironworks.bootstrap import build_drivers
    from ironworks.settings import Settings

    registry = build_drivers(Settings(state_dir=str(tmp_path), bmc_attempts=5, bmc_per_address_limit=2,
                                      bmc_power_timeout=7.5))
    power = registry.implementation("power", "ipmitool")
    management = registry.implementation("management", "ipmitool")
    assert power.connections.policy.attempts == 5  # type: ignore[attr-defined]
    assert power.connections.policy.power_timeout == 7.5  # type: ignore[attr-defined]
    assert power.connections.limiter is management.connections.limiter  # type: ignore[attr-defined]
    assert power.connections.limiter.limit == 2  # type: ignore[attr-defined]
    redfish = registry.implementation("power", "redfish")
    assert redfish.connections.policy.attempts == 5  # type: ignore[attr-defined]
