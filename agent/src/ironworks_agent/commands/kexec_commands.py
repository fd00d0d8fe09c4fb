"""The ``kexec`` command: load the deployed image's kernel and, once the answer was posted, jump into it.

Parameters: ``device`` (where the image was written; else the device ``write_image`` would choose),
``root_device`` (hints, as for ``write_image``), ``execute`` (default true; false only loads, for tests).
The answer is ``{"loaded": true, "source", "kernel", "initrd", "cmdline", "device", "partition"}`` or
``{"loaded": false, "reason"}``; the service falls back to a reboot on the latter. See hardware/kexec.py.
"""

from __future__ import annotations

from typing import Any

from ironworks_agent.commands.context import CommandContext
from ironworks_agent.commands.disk_commands import _target
from ironworks_agent.errors import InvalidCommand
from ironworks_agent.hardware import bootfind, kexec, md

KEXEC_PARAMS = frozenset({"device", "root_device", "execute"})


def _own_console() -> str:
    try:
        with open("/proc/cmdline") as fh:
            return bootfind.console_args(fh.read())
    except OSError:
        return ""


def kexec_instance(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    execute = params.get("execute", True)
    if not isinstance(execute, bool):
        raise InvalidCommand("execute must be a boolean")
    guard = md.MdGuard(ctx.guard)
    result = kexec.load(guard, _target(ctx, params), console=_own_console(), tmpdir=ctx.tmpdir)
    if result["loaded"] and execute:
        if ctx.defer is None:
            raise InvalidCommand("this agent cannot run an action after posting a result")
        ctx.defer(kexec.execute)
    return result
