"""``ironworks ramdisk build``: argument definitions and the call into the builder (cli.py only dispatches)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ironworks.lab.ramdisk.base import RamdiskBuildError
from ironworks.lab.ramdisk.builder import COMPRESSORS, build_ramdisk, default_cache_dir
from ironworks.lab.ramdisk.spec import DEFAULT_PACKAGES, DEFAULT_SUITE, RamdiskSpec, detect_mirror
from ironworks.settings import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, help="copy vmlinuz, initrd.img and manifest.json here")
    parser.add_argument("--force", action="store_true", help="rebuild every stage, ignoring the cache")
    parser.add_argument("--cache-dir", type=Path, help="build cache (default <state_dir>/ramdisk-cache)")
    parser.add_argument("--config", help="TOML settings file (also IRONWORKS_CONFIG), for state_dir")
    parser.add_argument("--state-dir", help="the service's state directory (also IRONWORKS_STATE_DIR)")
    parser.add_argument("--compression", choices=sorted(COMPRESSORS), default="zstd")
    parser.add_argument(
        "--agent-source", type=Path, help="the ironworks-agent distribution (default: agent/ of this checkout)"
    )
    parser.add_argument("--mirror", help="Debian mirror URL (default: the one this machine's apt uses)")
    parser.add_argument(
        "--extra-package",
        action="append",
        default=[],
        metavar="PACKAGE",
        help="another Debian package to install (repeatable)",
    )


def run_from_args(args: argparse.Namespace) -> int:
    try:
        cache_dir = args.cache_dir or default_cache_dir(
            load_settings(args.config, overrides={"state_dir": args.state_dir}).state_dir
        )
        mirror = args.mirror or detect_mirror(DEFAULT_SUITE)
        spec = RamdiskSpec(mirror=mirror, packages=DEFAULT_PACKAGES + tuple(args.extra_package))
        result = build_ramdisk(
            cache_dir,
            output=args.output,
            force=args.force,
            spec=spec,
            agent_root=args.agent_source,
            compression=args.compression,
            say=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (RamdiskBuildError, LookupError, ValueError, OSError) as exc:
        print(f"ironworks ramdisk build: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0
