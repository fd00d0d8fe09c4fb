"""The lab's BMC passwords never appear on a command line (``ps`` shows command lines to every user)."""

from __future__ import annotations

import os
from pathlib import Path

from pyghmi.ipmi import command

from ironworks.lab.bmc.process import BMCLab


def _command_lines(pid: int) -> list[str]:
    """The command lines of ``pid`` and its descendants, as ps would show them."""
    lines = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for sub in child.read_text().split():
            lines += _command_lines(int(sub))
    return lines


def test_bmc_password_is_not_on_the_emulators_command_line() -> None:
    password = "pw-" + os.urandom(8).hex()
    with BMCLab(count=1, password=password) as lab:
        assert lab.proc is not None
        assert all(password not in line for line in _command_lines(lab.proc.pid))
        bmc = lab.ipmi[0]
        session = command.Command(bmc.address, bmc.username.encode(), password.encode(), port=bmc.port)
        assert session.raw_command(netfn=0, command=1)["code"] == 0  # the emulator did get the password
