"""Image write throughput: ironworks-agent's streaming writer against ``curl | dd`` on the same loop device.

Serves a 2 GiB image over loopback HTTP (a sendfile-based server, so the server is not the bottleneck) and
writes it onto a loop device backed by a sparse file, in the same run:

    baseline     curl -s URL | dd of=LOOP bs=4M iflag=fullblock conv=fsync   (no checksum)
    dd direct    the same with oflag=direct (the fairer comparison for the agent's default)
    raw          write_image(..., checksum=sha256): O_DIRECT (the default), checksum in the same pass
    raw buffered the same through the page cache (direct=False)
    qcow2        write_image(disk_format=qcow2): download+checksum to a temp file, then qemu-img convert
    qcow2 base   curl -o FILE && qemu-img convert -O raw -n FILE LOOP   (no checksum)

Needs root. Usage: .venv/bin/python bench/image_write_bench.py [--size-gib 2] [--dir /var/tmp] [--runs 2]
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from ironworks_agent.hardware import image
from ironworks_agent.safety import DeviceGuard

MiB = 1024 * 1024


class SendfileHandler(http.server.BaseHTTPRequestHandler):
    root = "/"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = os.path.join(self.root, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.flush()
        with open(path, "rb") as fh:
            self.connection.sendfile(fh)


def make_image(path: str, size: int) -> str:
    """A ``size``-byte image: a 64 MiB random block repeated (incompressible, cheap to make); its sha256."""
    block = os.urandom(64 * MiB)
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        written = 0
        while written < size:
            piece = block[: size - written]
            fh.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def timed(fn: Callable[[], object]) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def sh(cmd: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=2.0)
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("image_write_bench: needs root (losetup)", file=sys.stderr)
        return 1
    size = int(args.size_gib * 1024 * MiB)
    work = tempfile.mkdtemp(prefix="ironworks-bench-", dir=args.dir)
    loop = None
    httpd = None
    try:
        www = os.path.join(work, "www")
        os.mkdir(www)
        t = time.monotonic()
        sha = make_image(os.path.join(www, "image.raw"), size)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", os.path.join(www, "image.raw"),
                        os.path.join(www, "image.qcow2")], check=True)
        with open(os.path.join(www, "image.qcow2"), "rb") as fh:
            qsha = hashlib.file_digest(fh, "sha256").hexdigest()
        print(f"prepared {size / MiB:.0f} MiB raw + qcow2 images in {time.monotonic() - t:.1f} s")
        backing = os.path.join(work, "disk.img")
        with open(backing, "wb") as fh:
            fh.truncate(size + 256 * MiB)
        loop = subprocess.run(["losetup", "--find", "--show", backing], check=True, capture_output=True,
                              text=True).stdout.strip()
        guard = DeviceGuard([loop])
        SendfileHandler.root = www
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SendfileHandler)
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        stage = os.path.join(work, "stage")
        os.mkdir(stage)

        def baseline() -> None:
            sh(f"curl -sf {base}/image.raw | dd of={loop} bs=4M iflag=fullblock conv=fsync status=none")

        def baseline_direct() -> None:
            sh(f"curl -sf {base}/image.raw | dd of={loop} bs=4M iflag=fullblock oflag=direct conv=fsync "
               "status=none")

        def ours(direct: bool = True) -> None:
            image.write_image(guard, loop, f"{base}/image.raw", checksum=f"sha256:{sha}", direct=direct)

        def qcow2() -> None:
            image.write_image(guard, loop, f"{base}/image.qcow2", checksum=f"sha256:{qsha}",
                              disk_format="qcow2", tmpdir=stage)

        def qcow2_base() -> None:
            sh(f"curl -sf -o {stage}/b.qcow2 {base}/image.qcow2 && qemu-img convert -f qcow2 -O raw -n "
               f"{stage}/b.qcow2 {loop} && sync {loop}; rm -f {stage}/b.qcow2")

        cases = [("curl | dd (baseline, no checksum)", baseline),
                 ("curl | dd oflag=direct (no checksum)", baseline_direct),
                 ("agent raw, sha256 (O_DIRECT, default)", ours),
                 ("agent raw, sha256, buffered", lambda: ours(False)),
                 ("curl + qemu-img convert (no checksum)", qcow2_base), ("agent qcow2, sha256", qcow2)]
        best: dict[str, float] = {}
        for run in range(args.runs):
            for name, fn in cases:
                sh(f"sync; echo 3 > /proc/sys/vm/drop_caches || true; blkdiscard {loop} || true")
                seconds = timed(fn)
                rate = size / MiB / seconds
                best[name] = max(best.get(name, 0.0), rate)
                print(f"run {run + 1}  {name:40s} {seconds:6.2f} s  {rate:8.1f} MiB/s")
        print("\nbest of", args.runs, "runs:")
        base_rate = best[cases[0][0]]
        for name, _ in cases:
            print(f"  {name:40s} {best[name]:8.1f} MiB/s  ({best[name] / base_rate * 100:5.1f} % of curl | dd)")
        return 0
    finally:
        if httpd is not None:
            httpd.shutdown()
        if loop:
            subprocess.run(["losetup", "-d", loop], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
