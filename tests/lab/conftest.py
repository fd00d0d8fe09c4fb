"""Fixtures for the lab tests: an IPMI emulator process and a runner for Debian's ``ipmitool``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from ironworks.lab.bmc.process import BMCEndpoint, BMCLab

Ipmitool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def bmcs() -> Iterator[BMCLab]:
    """BMC 0 and 1 healthy, 2 ignores power commands, 3 never answers."""
    with BMCLab(count=4, faults=["2:ignore-power", "3:no-answer"], username="operator", password="lab-pw-1") as lab:
        yield lab


@pytest.fixture
def ipmitool() -> Ipmitool:
    if shutil.which("ipmitool") is None:
        pytest.skip("ipmitool is not installed (scripts/apt-packages.txt)")

    def run(
        bmc: BMCEndpoint, *args: str, password: str | None = None, user: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            "ipmitool",
            "-I",
            "lanplus",
            "-H",
            bmc.address,
            "-p",
            str(bmc.port),
            "-U",
            user or bmc.username,
            "-P",
            bmc.password if password is None else password,
            "-R",
            "2",
            "-N",
            "1",
            *args,
        ]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    return run
