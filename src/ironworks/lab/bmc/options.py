"""Command-line options of ``ironworks lab bmc`` (kept apart so the CLI can build its parser without pyghmi)."""

from __future__ import annotations

import argparse

#: where the BMC password comes from (never a command-line argument: ``ps`` shows those to every user)
PASSWORD_ENV = "IRONWORKS_LAB_BMC_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=1, help="number of BMCs (default 1)")
    parser.add_argument(
        "--base-port",
        type=int,
        default=0,
        help="UDP port of the first BMC, the others follow; 0 (default) lets the kernel choose",
    )
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--username", default="admin")
    parser.add_argument(
        "--password-file",
        default="",
        help=f"file holding the BMC password (else the environment variable {PASSWORD_ENV}, "
        "else 'password'); never given on the command line, where ps shows it",
    )
    parser.add_argument("--power", choices=("on", "off"), default="off", help="initial simulated power state")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="[INDEX:]KIND",
        help="inject a fault: no-answer, wrong-password, ignore-power, garbage",
    )
    parser.add_argument("--qemu", default="", help="QEMU command line each BMC starts on power on")
    parser.add_argument("--workdir", default="", help="directory for QEMU sockets and logs")
    parser.add_argument("--redfish", action="store_true", help="also run sushy-emulator with COUNT fake systems")
    parser.add_argument("--log-level", default="WARNING")
