"""Power-sync cycle over N nodes, each with its own emulated IPMI BMC, through the real ``ipmitool`` interface.

    .venv/bin/python bench/power_sync_bench.py --nodes 1000 [--workers 32] [--cycles 2]

Starts the BMC emulators (``ironworks.lab.bmc``; at most --per-process BMCs per child process, since pyghmi's
loop uses select()), then runs --cycles sync cycles: every node's power state read through
``IPMIPower.get_power_state`` on a pool of --workers threads (the bounded concurrency of a conductor's power
sync). Every status read is a full RMCP+ login, one command and a logout (the client keeps no sessions).

Prints one JSON object: per cycle the wall seconds, the client's CPU seconds and the emulators' CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ironworks import errors, states  # noqa: E402
from ironworks.drivers.bmc.policy import BMCPolicy  # noqa: E402
from ironworks.drivers.ipmi.interfaces import IPMIConnections, IPMIPower  # noqa: E402
from ironworks.lab.bmc.process import BMCLab  # noqa: E402


class Task:
    def __init__(self, driver_info: dict[str, Any]) -> None:
        self.node = {"driver_info": driver_info, "driver_internal_info": {}, "properties": {},
                     "instance_info": {}}

    def set_internal(self, **values: Any) -> None:
        self.node["driver_internal_info"].update(values)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def sync_cycle(power: IPMIPower, tasks: list[Task], workers: int) -> dict[str, Any]:
    def one(task: Task) -> str:
        try:
            return power.get_power_state(task)
        except errors.BMCError:
            return states.POWER_ERROR

    started, cpu = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(one, tasks))
    return {"seconds": round(time.monotonic() - started, 3), "client_cpu_seconds": round(time.process_time() - cpu, 3),
            "errors": sum(1 for r in results if r == states.POWER_ERROR),
            "power_on": sum(1 for r in results if r == states.POWER_ON)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=32, help="concurrent status reads (default 32)")
    parser.add_argument("--cycles", type=int, default=2, help="sync cycles to run (default 2: cold, warm)")
    parser.add_argument("--per-process", type=int, default=250, help="BMCs per emulator process")
    args = parser.parse_args(argv)

    labs: list[BMCLab] = []
    try:
        remaining = args.nodes
        while remaining > 0:
            count = min(args.per_process, remaining)
            labs.append(BMCLab(count=count, power="on" if len(labs) % 2 else "off").start())
            remaining -= count
        tasks = [Task(bmc.ipmi_driver_info()) for lab in labs for bmc in lab.ipmi]
        power = IPMIPower(IPMIConnections(BMCPolicy(attempts=2, backoff=0.2, per_bmc_limit=1)))
        cycles = []
        for _ in range(args.cycles):
            server_cpu = sum(cpu_seconds(lab.proc.pid) for lab in labs if lab.proc is not None)
            cycle = sync_cycle(power, tasks, args.workers)
            cycle["emulator_cpu_seconds"] = round(
                sum(cpu_seconds(lab.proc.pid) for lab in labs if lab.proc is not None) - server_cpu, 3)
            cycles.append(cycle)
        print(json.dumps({"nodes": args.nodes, "workers": args.workers, "emulator_processes": len(labs),
                          "cpus": os.cpu_count(), "cycles": cycles}))
    finally:
        for lab in labs:
            lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
