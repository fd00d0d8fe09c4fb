#!/usr/bin/env python3
"""Deploy ramdisk benchmark: build time (cold and cached), repack time, size, and boot to the agent's first call.

Builds (or takes from the cache) the ramdisk, repacks it once more into a temporary directory, then boots it
under QEMU TCG with two virtio disks and user-mode networking (``restrict=on``; the agent reaches a small HTTP
server on 127.0.0.1 through a guest forward) and times QEMU start → ``/init`` → first ``/v1/lookup``. Prints
one JSON line of figures. ``--cold`` builds in an empty temporary cache (debootstrap included). Needs root.

    .venv/bin/python bench/ramdisk_bench.py [--cold] [--boots 2]
"""

from __future__ import annotations

import argparse
import http.server
import json
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from ironworks.lab.qemu import QemuVm
from ironworks.lab.ramdisk import build_ramdisk, shared_cache_dir
from ironworks.lab.ramdisk.base import BaseImage
from ironworks.lab.ramdisk.builder import BuildResult, find_agent_root, pack_stage
from ironworks.lab.ramdisk.vm import blank_disks, ramdisk_vm


def _lookup_server() -> tuple[http.server.ThreadingHTTPServer, list[float]]:
    hits: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(time.monotonic())
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


def _boot(ramdisk: BuildResult, workdir: Path) -> dict[str, float]:
    server, hits = _lookup_server()
    spec = ramdisk_vm(
        ramdisk,
        workdir,
        mac="52:54:00:be:00:01",
        disks=blank_disks(workdir, 2),
        api_port=server.server_address[1],
        params="ironworks.lookup_timeout=1",
    )
    try:
        with QemuVm(spec) as vm:
            vm.wait(300)
            serial = vm.serial()
            started = vm.started_at
    finally:
        server.shutdown()
    marks = {m.group(1): float(m.group(2)) for m in re.finditer(r"ironworks-init: (\w+).*\(t=([\d.]+)s\)", serial)}
    return {
        "guest_init_s": marks.get("started", -1.0),
        "guest_network_s": marks.get("network", -1.0),
        "guest_agent_start_s": marks.get("starting", -1.0),
        "qemu_to_first_request_s": round(hits[0] - started, 1) if hits else -1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="build in an empty cache (debootstrap included)")
    parser.add_argument("--boots", type=int, default=2)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="ramdisk-bench-", dir="/var/tmp") as scratch:
        cache = Path(scratch) / "cache" if args.cold else shared_cache_dir()
        first = build_ramdisk(cache)
        figures["first_build_s"] = round(first.seconds, 1)
        figures["first_build_was"] = "cached" if first.cached else ("repack" if first.base_cached else "cold")
        figures["cached_build_s"] = round(build_ramdisk(cache).seconds, 2)
        started = time.monotonic()
        manifest = first.manifest
        pack_stage(
            BaseImage(cache / f"base-{manifest['base_key']}"),
            Path(scratch) / "repack",
            find_agent_root(),
            first.key,
            str(manifest["compression"]),
            int(str(manifest["source_date_epoch"])),
        )
        figures["repack_s"] = round(time.monotonic() - started, 1)
        figures["initrd_mib"] = round(first.size / 2**20, 1)
        figures["compression"] = manifest["compression"]
        runs = []
        for index in range(args.boots):
            workdir = Path(scratch) / f"boot{index}"
            workdir.mkdir()
            runs.append(_boot(first, workdir))
        for key in runs[0]:
            figures[f"median_{key}"] = statistics.median(run[key] for run in runs)
        figures["kernel"] = "vmlinux (PVH)" if first.vmlinux else "vmlinuz"
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
