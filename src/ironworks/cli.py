"""Command line: ``ironworks serve | db upgrade | states``. Parses argv and hands over; no logic here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML settings file (also IRONWORKS_CONFIG)")
    parser.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")
    parser.add_argument("--state-dir", help="directory for the SQLite file and service state")


def _settings(args: argparse.Namespace, **extra: object):  # type: ignore[no-untyped-def]
    from ironworks.settings import load_settings

    overrides = {"database_url": args.database_url, "state_dir": args.state_dir, **extra}
    return load_settings(args.config, overrides=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ironworks", description="Ironworks bare-metal provisioning")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API and a conductor in one process")
    _add_common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 6385)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply schema migrations")
    _add_common(upgrade)

    states_cmd = sub.add_parser("states", help="the provisioning state machine")
    states_cmd.add_argument("--dot", action="store_true", help="print it as a Graphviz digraph")

    lab = sub.add_parser("lab", help="the virtual lab")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    from ironworks.lab.bmc import options as bmc_options

    bmc_options.add_arguments(lab_sub.add_parser("bmc", help="run emulated IPMI (and Redfish) BMCs"))
    from ironworks.lab import command as lab_command

    lab_command.add_arguments(lab_sub)
    lab_command.add_demo_arguments(sub.add_parser("demo", help="provision a fresh virtual lab end to end"))

    from ironworks.auth import cli as user_command

    user_command.add_arguments(sub.add_parser("user", help="API users for auth_strategy = http_basic"), _add_common)

    ramdisk = sub.add_parser("ramdisk", help="the deploy ramdisk (kernel + initramfs with the agent)")
    ramdisk_sub = ramdisk.add_subparsers(dest="ramdisk_command", required=True)
    from ironworks.lab.ramdisk import command as ramdisk_command

    ramdisk_command.add_arguments(ramdisk_sub.add_parser("build", help="build it (cached by its inputs)"))

    image = sub.add_parser("image", help="deployable OS images (whole-disk, raw + qcow2)")
    image_sub = image.add_subparsers(dest="image_command", required=True)
    from ironworks.images import command as image_command

    image_command.add_arguments(image_sub.add_parser("build", help="build debian or tiny (cached by its inputs)"))

    from ironworks.instances import cli as server_command

    server_command.add_arguments(sub.add_parser("server", help="one-call servers through the API (/v1/instances)"))

    args = parser.parse_args(argv)
    if args.command == "lab" and args.lab_command == "bmc":
        from ironworks.lab.bmc import runner as bmc_runner

        return bmc_runner.run_from_args(args)
    if args.command == "lab" and args.lab_command in ("up", "down", "status"):
        return lab_command.run_from_args(args)
    if args.command == "demo":
        return lab_command.run_demo(args)
    if args.command == "ramdisk" and args.ramdisk_command == "build":
        return ramdisk_command.run_from_args(args)
    if args.command == "server":
        return server_command.run_from_args(args)
    if args.command == "image" and args.image_command == "build":
        return image_command.run_from_args(args)
    if args.command == "user":
        return user_command.run_from_args(args, _settings(args))
    if args.command == "states":
        from ironworks.conductor import fsm

        if args.dot:
            sys.stdout.write(fsm.to_dot())
        else:
            from ironworks.states import TRANSITIONS

            for (source, event), dest in TRANSITIONS.items():
                print(f"{source:16} --{event}--> {dest}")
        return 0
    if args.command == "serve":
        from ironworks.auth.setup import SettingsRefused, check
        from ironworks.server import serve as run_server

        settings = _settings(args, host=args.host, port=args.port, log_level=args.log_level)
        try:
            check(settings)  # e.g. no noauth on a public address
        except SettingsRefused as exc:
            print(f"ironworks: {exc}", file=sys.stderr)
            return 2
        from ironworks.db.repos.conductors import ConductorAlreadyRunning

        try:
            return run_server(settings)
        except ConductorAlreadyRunning as exc:  # another live process has this conductor_name
            print(f"ironworks: {exc.message}", file=sys.stderr)
            return 2
    if args.command == "db" and args.db_command == "upgrade":
        from ironworks.db import migrate
        from ironworks.db.engine import Database

        settings = _settings(args)
        database = Database.from_url(settings.effective_database_url)
        migrate.upgrade(database)
        print(f"database at revision {migrate.current_revision(database)}")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
