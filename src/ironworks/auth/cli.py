"""``ironworks user add | list | delete | passwd``: the users ``auth_strategy = http_basic`` accepts.

A password is read from standard input with ``--password-stdin`` (one line, for scripts), otherwise asked
for twice on the terminal; it is never an argument, so it never shows in ``ps`` or shell history.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ironworks import errors


def add_arguments(parser: argparse.ArgumentParser, common: Any) -> None:
    sub = parser.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--project", help="the project whose nodes (owner or lessee) the user works on")
    add.add_argument("--role", required=True, choices=("admin", "member", "reader"))
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = sub.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    delete = sub.add_parser("delete", help="delete a user")
    delete.add_argument("name")
    listing = sub.add_parser("list", help="list users (never their passwords)")
    for p in (add, passwd, delete, listing):
        common(p)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise errors.InvalidParameterValue("The passwords do not match.")
    return first


def run_from_args(args: argparse.Namespace, settings: Any) -> int:
    from ironworks.auth import users
    from ironworks.db import migrate
    from ironworks.db.engine import Database
    from ironworks.db.repos.users import UserRepo

    database = Database.from_url(settings.effective_database_url)
    try:
        migrate.upgrade(database)
        repo = UserRepo(database)
        if args.user_command == "add":
            record = users.add(repo, args.name, project=args.project, role=args.role, password=_password(args))
            print(f"created user {record['name']} (role {record['role']}, project {record['project'] or '-'})")
        elif args.user_command == "passwd":
            users.set_password(repo, args.name, _password(args))
            print(f"password of {args.name} changed")
        elif args.user_command == "delete":
            repo.delete(args.name)
            print(f"deleted user {args.name}")
        else:
            print(f"{'NAME':24} {'ROLE':8} PROJECT")
            for rec in repo.list():
                print(f"{rec['name']:24} {rec['role']:8} {rec['project'] or '-'}")
        return 0
    except errors.IronworksError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
