"""What every command handler gets: the safety guard, the node's settings from lookup, a progress sink, and
``defer`` for an action that must wait until the result was posted (kexec leaves the ramdisk for good)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ironworks_agent.progress import ProgressCallback
from ironworks_agent.safety import DeviceGuard


@dataclass
class CommandContext:
    guard: DeviceGuard
    progress: ProgressCallback | None = None
    boot_mac: str | None = None
    include_loop: bool = False
    root_device_hints: dict[str, Any] = field(default_factory=dict)
    skip_list: list[dict[str, Any]] = field(default_factory=list)
    allow_md5: bool = False
    tmpdir: str | None = None
    allow_power: bool = False
    #: run an action once the command's result was posted (kexec); None where nothing posts results
    defer: Callable[[Callable[[], None]], None] | None = None
