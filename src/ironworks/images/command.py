"""``ironworks image build {debian,tiny}``: arguments and the call into ``ironworks.images.build``.

Prints the paths of the raw and qcow2 files with their sha256 (progress goes to stderr); cli.py only
dispatches here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ironworks.images import KINDS, ImageBuildError, build, shared_cache_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="tiny: kernel + busybox initramfs; debian: with cloud-init")
    parser.add_argument(
        "--cache-dir", type=Path, help=f"image cache (default $IRONWORKS_IMAGE_CACHE or {shared_cache_dir()})"
    )
    parser.add_argument("--force", action="store_true", help="rebuild every stage, ignoring the cache")
    parser.add_argument("--mirror", help="Debian mirror URL (default: the one this machine's apt uses)")


def run_from_args(args: argparse.Namespace) -> int:
    try:
        image = build(
            args.kind,
            cache_dir=args.cache_dir,
            force=args.force,
            mirror=args.mirror,
            say=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (ImageBuildError, LookupError, OSError) as exc:
        print(f"ironworks image build: {exc}", file=sys.stderr)
        return 1
    print(image.summary())
    return 0
