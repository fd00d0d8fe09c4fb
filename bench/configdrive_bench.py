#!/usr/bin/env python3
"""Config drive benchmark: ISO writer speed (genisoimage vs ``xorriso -as mkisofs``), the whole build of the
worked example (NIC selection, network_data, password hash, ISO, gzip+base64), and the sizes.

Prints one JSON line of figures.

    .venv/bin/python bench/configdrive_bench.py --rounds 20
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.configdrive import example  # noqa: E402

from ironworks.configdrive import builder, iso  # noqa: E402
from ironworks.configdrive.userdata import RootLogin  # noqa: E402


def _ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    files = {f"openstack/{v}/meta_data.json": b'{"uuid": "x"}' for v in builder.VERSIONS}
    figures: dict[str, object] = {"rounds": args.rounds}
    original = iso._tool
    for name, cmd in (("genisoimage", ["genisoimage"]), ("xorriso", ["xorriso", "-as", "mkisofs"])):
        if shutil.which(cmd[0]):
            iso._tool = lambda cmd=cmd: cmd  # type: ignore[assignment]
            figures[f"{name}_ms"] = _ms(lambda: iso.make_iso(files), args.rounds)
    iso._tool = original  # type: ignore[assignment]

    def whole() -> builder.ConfigDrive:
        return builder.from_request(
            {"user_data": "#!/bin/sh\necho hi\n"},
            node_uuid=example.NODE_UUID,
            node_name=example.NODE_NAME,
            generated_network_data=example.network_data(),
            root=RootLogin(password=example.ROOT_PASSWORD, ssh_keys={"ops": example.SSH_KEY}),
        )

    figures["example_build_ms"] = _ms(whole, args.rounds)
    drive = whole()
    figures["iso_bytes"] = len(drive.image)
    figures["encoded_chars"] = len(drive.encoded)
    figures["encode_ms"] = _ms(lambda: drive.encoded, args.rounds)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
