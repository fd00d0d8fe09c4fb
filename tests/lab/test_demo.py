"""``ironworks demo`` on one server (``-m lab``): lab up, manage → inspect → provide → deploy, marker, lab down.

The demo itself asserts the end: it returns 0 only when the server printed the image's marker line with the
hostname from the config drive after booting from its disk. The test checks the table it printed (every
phase, in order), what inspection recorded, and that nothing of the lab is left afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

import pytest

from ironworks.lab import demo
from ironworks.lab import state as lab_state
from ironworks.lab.network import NETNS_DIR
from tests.fixtures.servers import free_port

pytestmark = [pytest.mark.vm, pytest.mark.lab, pytest.mark.timeout(1500)]


def test_demo_with_one_server(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    for tool in ("qemu-system-x86_64", "dnsmasq"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, file=sys.stderr)

    netns = f"iwlab-d{secrets.token_hex(3)}"
    options = demo.DemoOptions(lab_dir=tmp_path / "demo", servers=1, port=free_port(), netns=netns)
    assert demo.run(options, say=say) == 0, "\n".join(lines[-30:])
    table = next(line for line in lines if line.startswith("server ") and " phase " in line)
    rows = [line.split()[:2] for line in table.splitlines()[2:]]
    assert [" ".join(r) for r in rows] == [
        "lab-0 manage",
        "lab-0 inspect",
        "lab-0 provide",
        "lab-0 deploy",
        "lab-0 boot",
    ]
    assert table.splitlines()[-1].endswith("marker seen")
    inspected = next(line for line in table.splitlines() if " inspect " in line)
    assert "cpus=2" in inspected and "memory_mb=" in inspected and "cpu_arch=x86_64" in inspected  # from the agent
    assert not (NETNS_DIR / netns).exists() and lab_state.load(tmp_path / "demo") is None
