"""The agent's start-up settings, from the kernel command line overridden by command-line flags."""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass, field

_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")


def normalize_mac(value: str) -> str | None:
    """``01-52-54-00-12-34-56`` (pxelinux BOOTIF) or ``52:54:00:12:34:56`` → ``52:54:00:12:34:56``."""
    text = value.strip().lower()
    if re.fullmatch(r"01-([0-9a-f]{2}-){5}[0-9a-f]{2}", text):
        text = text[3:]
    if not _MAC.match(text):
        return None
    return text.replace("-", ":")


def parse_cmdline(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for token in shlex.split(text):
        key, sep, value = token.partition("=")
        params[key] = value if sep else "1"
    return params


@dataclass
class AgentConfig:
    api_url: str
    boot_mac: str | None = None
    node_uuid: str | None = None
    lookup_timeout: float = 0.0
    lookup_interval: float = 5.0
    insecure: bool = False
    skip_devices: list[str] = field(default_factory=list)
    allow_devices: list[str] = field(default_factory=list)
    include_loop: bool = False
    debug: bool = False
    tmpdir: str | None = None
    extra_macs: list[str] = field(default_factory=list)
    #: this boot's secret from the kernel command line (``ironworks.boot_secret=``): proves the lookup comes from
    #: the machine that netbooted the node's own boot script (docs/agent-protocol.md §9); never logged
    boot_secret: str | None = field(default=None, repr=False)


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ironworks-agent", description="Ironworks deploy-ramdisk agent")
    p.add_argument("--cmdline", default="/proc/cmdline", help="kernel command line to read (default: %(default)s)")
    p.add_argument("--api-url", help="service base URL (overrides ironworks.api_url / ipa-api-url)")
    p.add_argument("--mac", action="append", default=[], help="MAC to look the node up by (repeatable)")
    p.add_argument("--node-uuid")
    p.add_argument("--allow-device", action="append", default=[],
                   help="only these devices may be written (default: local disks minus the skip list)")
    p.add_argument("--include-loop", action="store_true", help="list loop devices in the inventory (tests)")
    p.add_argument("--lookup-timeout", type=float)
    p.add_argument("--tmpdir", help="where qcow2 images are staged")
    p.add_argument("--debug", action="store_true")
    return p


def load(argv: list[str] | None = None) -> AgentConfig:
    args = build_parser().parse_args(argv)
    try:
        with open(args.cmdline) as fh:
            kernel = parse_cmdline(fh.read())
    except OSError:
        kernel = {}
    api_url = args.api_url or kernel.get("ironworks.api_url") or kernel.get("ipa-api-url")
    if not api_url:
        raise SystemExit("ironworks-agent: no API URL (kernel parameter ironworks.api_url= or --api-url)")
    macs = [m for m in (normalize_mac(x) for x in args.mac) if m]
    boot_mac = normalize_mac(kernel.get("BOOTIF", "")) or (macs[0] if macs else None)
    skip = [d for d in kernel.get("ironworks.skip_devices", "").split(",") if d]
    return AgentConfig(
        api_url=api_url, boot_mac=boot_mac, node_uuid=args.node_uuid or kernel.get("ironworks.node_uuid"),
        lookup_timeout=args.lookup_timeout if args.lookup_timeout is not None
        else float(kernel.get("ironworks.lookup_timeout", 0) or 0),
        insecure=_flag(kernel.get("ironworks.insecure")), skip_devices=skip, allow_devices=args.allow_device,
        include_loop=args.include_loop, debug=args.debug or _flag(kernel.get("ironworks.debug"))
        or _flag(kernel.get("ipa-debug")), tmpdir=args.tmpdir, extra_macs=macs,
        boot_secret=kernel.get("ironworks.boot_secret") or None)
