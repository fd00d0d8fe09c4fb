"""Running external tools (sgdisk, wipefs, qemu-img…): one place that turns a non-zero exit into ToolFailed."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence

from ironworks_agent.errors import ToolFailed

LOG = logging.getLogger(__name__)


def run(argv: Sequence[str], *, check: bool = True, timeout: float | None = 600.0,
        input_bytes: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with the C locale; raise ToolFailed (with stderr) if it fails and ``check`` is set."""
    LOG.debug("running %s", " ".join(argv))
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, timeout=timeout, check=False,
            env={"LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            input=input_bytes.decode("latin-1") if input_bytes is not None else None,
            text=True, encoding="latin-1",
        )
    except FileNotFoundError as exc:
        raise ToolFailed(f"{argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(f"{argv[0]} did not finish within {timeout} s") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ToolFailed(f"{' '.join(argv)} exited with {proc.returncode}: {' | '.join(detail[-3:])}")
    return proc


def have(tool: str) -> bool:
    """True if ``tool`` is on PATH (including the sbin directories a ramdisk's root uses)."""
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return shutil.which(tool, path=path) is not None
