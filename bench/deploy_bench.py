"""Deploy phases, standard path vs fast path (fast track + kexec), with the real agent in QEMU.

The same harness as tests/agent_service/test_fast_track_vm.py: the real service on 127.0.0.1, the deploy
ramdisk in a QEMU (TCG) VM reaching it through QEMU's restricted user network, fake power played by this
script, the ``tiny`` image (``ironworks.images.build("tiny")``) with a config drive. Phases:

    power on -> agent lookup   the ramdisk VM starts -> the agent's first heartbeat is recorded
    image write                the deploy's write_image step starts -> the agent's results are in
                               (image + config drive)
    reboot -> OS marker        the agent's part is over -> the deployed OS prints marker_line(hostname)
                               ("of which kexec load": the agent finding and loading the kernel)
                               standard: the node "powers off and on": a new VM boots the disk (firmware POST,
                               grub, kernel); fast: the agent kexecs into the deployed kernel in the same VM
    deploy total               the deploy request -> the OS marker

standard: the node is ``available`` and off (no fast track); the deploy boots the ramdisk, writes, reboots.
fast:     the node was cleaned with fast track (its agent stays up; the cleaning itself is not part of the
          deploy) and has ``instance_info.kexec``: no ramdisk boot, write, kexec.

Needs root (the image and ramdisk builds, cached afterwards). Usage:
    .venv/bin/python bench/deploy_bench.py [--runs 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.agent_service.test_fast_track_vm import FastLab, deploy, fast_lab, provide, wait_for  # noqa: E402
from tests.conductor.helpers import move, settle  # noqa: E402

from ironworks import images  # noqa: E402
from ironworks.lab.qemu import QemuVm  # noqa: E402

PHASES = ("power on -> agent lookup", "image write", "reboot -> OS marker", "  of which kexec load", "deploy total")


def _node(api: httpx.Client, node: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/nodes/{node}").json())


def _until(api: httpx.Client, node: str, done: Any, vm: QemuVm, timeout: float = 600) -> float:
    """Poll the node (every 0.1 s) until ``done(body)``; the time it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        body = _node(api, node)
        if done(body):
            return time.monotonic()
        if body["provision_state"] in ("deploy failed", "clean failed"):
            raise RuntimeError(f"{body['provision_state']}: {body['last_error']}\n{vm.serial()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out in {body['provision_state']}:\n{vm.serial()[-3000:]}")
        time.sleep(0.1)


def _written(body: dict[str, Any]) -> bool:
    step = (body.get("deploy_step") or {}).get("step")
    return body["provision_state"] == "active" or step in ("prepare_instance_boot", "tear_down_agent")


def _writing(body: dict[str, Any]) -> bool:
    return (body.get("deploy_step") or {}).get("step") == "write_image" or _written(body)


def standard(lab: FastLab, api: httpx.Client, run: int) -> dict[str, float]:
    disks = lab.disks(f"standard-{run}")
    node = lab.enroll(api, fast_track=False, clean=False)
    move(api, node, "provide")
    hostname = f"standard-{run}"
    requested = time.monotonic()
    deploy(api, node, hostname)
    assert settle(api, node)["provision_state"] == "wait call-back"
    ramdisk = QemuVm(lab.ramdisk_spec(f"standard-{run}", disks))
    with ramdisk:
        powered = time.monotonic()
        looked_up = _until(api, node, lambda b: bool(b["driver_internal_info"].get("agent_last_heartbeat")), ramdisk)
        writing = _until(api, node, _writing, ramdisk)
        written = _until(api, node, _written, ramdisk)
        wait_for(api, node, ("active",), ramdisk)
    # the flow powered the node off and on again: the server boots from its disk
    with QemuVm(lab.disk_spec(f"standard-disk-{run}", disks)) as vm:
        vm.wait_for_serial(images.marker_line(hostname), timeout=300)
        up = time.monotonic()
    return {
        PHASES[0]: looked_up - powered,
        PHASES[1]: written - writing,
        PHASES[2]: up - written,
        PHASES[3]: float("nan"),
        PHASES[4]: up - requested,
    }


def fast(lab: FastLab, api: httpx.Client, run: int) -> dict[str, float]:
    disks = lab.disks(f"fast-{run}")
    node = lab.enroll(api, fast_track=True, kexec=True)
    provide(api, node)
    hostname = f"fast-{run}"
    with QemuVm(lab.ramdisk_spec(f"fast-{run}", disks)) as vm:
        wait_for(api, node, ("available",), vm)  # cleaned; the agent stays up
        offset = len(vm.serial())
        requested = time.monotonic()
        deploy(api, node, hostname)
        writing = _until(api, node, _writing, vm)
        written = _until(api, node, _written, vm)
        jumping = _until(api, node, lambda b: b["provision_state"] == "active", vm)  # the agent answered kexec
        vm.wait_for_serial(images.marker_line(hostname), timeout=300, start=offset)
        up = time.monotonic()
        body = wait_for(api, node, ("active",), vm)
    assert body["driver_internal_info"]["agent_kexec"]["loaded"], body["driver_internal_info"]
    return {
        PHASES[0]: 0.0,
        PHASES[1]: written - writing,
        PHASES[2]: up - written,
        PHASES[3]: jumping - written,
        PHASES[4]: up - requested,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-deploy-bench-") as tmp, fast_lab(Path(tmp)) as lab:
        print(f"image: {lab.image.summary().splitlines()[0]}")
        results: dict[str, list[dict[str, float]]] = {"standard": [], "fast": []}
        with lab.service.client() as api:
            for run in range(args.runs):
                results["standard"].append(standard(lab, api, run))
                results["fast"].append(fast(lab, api, run))
    print(f"\ndeploy phases, median of {args.runs} run(s), QEMU TCG, tiny image ({time.strftime('%Y-%m-%d')})")
    print(f"{'phase':<28} {'standard':>10} {'fast track + kexec':>20}")
    for phase in PHASES:
        std = statistics.median(r[phase] for r in results["standard"])
        fst = statistics.median(r[phase] for r in results["fast"])
        note = "  (agent already up)" if phase == PHASES[0] else ""
        std_text = "-" if std != std else f"{std:.1f} s"  # nan: not a phase of the standard path
        print(f"{phase:<28} {std_text:>10} {fst:>18.1f} s{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
