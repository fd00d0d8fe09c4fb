"""Migration 0008 on real SQLite and PostgreSQL: networks that existed before tenancy become shared with no
owner (nothing that worked breaks), and server names become unique per project instead of deployment-wide."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ironworks.db import migrate
from ironworks.db.engine import Database
from tests.fixtures.servers import fresh_pg_database

NOW = dt.datetime(2026, 1, 1)


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request, tmp_path):
    """A database at revision 0007 (before tenancy)."""
    if request.param == "sqlite":
        db = Database.from_url(f"sqlite:///{tmp_path}/t.sqlite")
        migrate.upgrade(db, "0007")
        yield db
        db.dispose()
        return
    with fresh_pg_database(request.getfixturevalue("pg_url")) as url:
        db = Database.from_url(url)
        migrate.upgrade(db, "0007")
        yield db
        db.dispose()


def _instance(conn, uuid: str, name: str, owner: str | None) -> None:
    conn.execute(
        text(
            "INSERT INTO instances (uuid, name, hostname, owner, traits, image, networks, ssh_keys, "
            "has_root_password, has_user_data, created_at) VALUES (:uuid, :name, :name, :owner, '[]', '{}', '[]', "
            "'[]', :no, :no, :now)"
        ),
        {"uuid": uuid, "name": name, "owner": owner, "no": False, "now": NOW},
    )


def test_existing_networks_become_shared_and_names_unique_per_project(old_database):
    db = old_database
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO networks (uuid, name, vlan_id, dns_nameservers, routes, roles, extra, created_at) "
                "VALUES ('11111111-1111-4111-8111-111111111111', 'legacy', 100, '[]', '[]', '[\"tenant\"]', '{}', :now)"
            ),
            {"now": NOW},
        )
        _instance(conn, "22222222-2222-4222-8222-222222222222", "web-1", "acme")
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision(db)
    with db.engine.begin() as conn:
        row = conn.execute(text("SELECT owner, shared FROM networks WHERE name = 'legacy'")).one()
        assert row.owner is None and bool(row.shared) is True
        assert conn.execute(text("SELECT name, owner FROM instances")).one() == ("web-1", "acme")
        # another project may now use the name
        _instance(conn, "33333333-3333-4333-8333-333333333333", "web-1", "evil")
    # the same project may not
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        _instance(conn, "44444444-4444-4444-8444-444444444444", "web-1", "acme")
    # a network created after the migration without saying so is not shared
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO networks (uuid, name, dns_nameservers, routes, roles, extra, created_at) "
                "VALUES ('55555555-5555-4555-8555-555555555555', 'new', '[]', '[]', '[]', '{}', :now)"
            ),
            {"now": NOW},
        )
        assert bool(conn.execute(text("SELECT shared FROM networks WHERE name = 'new'")).scalar()) is False
