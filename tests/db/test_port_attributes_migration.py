"""Migration 0011 (port/portgroup attributes of API 1.88–1.111) on a database that already holds ports: names
that several ports shared (allowed before) keep the oldest port's and are cleared on the others, so Ironic's
unique port name can be enforced; new columns take Ironic's defaults."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from ironworks.db import migrate
from ironworks.db.engine import Database
from tests.fixtures.servers import fresh_pg_database


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a NOT NULL column without a server default, whatever the earlier revisions made it."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    return "x" if column.name not in ("uuid",) else str(uuid.uuid4())


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None or column.primary_key:
            continue
        values[column.name] = _filler(column)
    return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/m.sqlite"
        return
    with fresh_pg_database(request.getfixturevalue("pg_url")) as pg:
        yield pg


def test_duplicate_port_names_are_cleared_and_defaults_set(url):
    db = Database.from_url(url)
    try:
        before = ScriptDirectory(str(migrate.MIGRATIONS)).get_revision("0011").down_revision
        migrate.upgrade(db, str(before))
        meta = sa.MetaData()
        with db.engine.begin() as conn:
            nodes = sa.Table("nodes", meta, autoload_with=conn)
            ports = sa.Table("ports", meta, autoload_with=conn)
            node_id = _insert(conn, nodes, uuid=str(uuid.uuid4()), name="n1")
            ids = [
                _insert(conn, ports, uuid=str(uuid.uuid4()), node_id=node_id, address=f"52:54:00:00:09:0{i}", name=name)
                for i, name in enumerate(["eth0", "eth0", "eth1", None, "eth0"])
            ]
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, name, vendor, category, available_for_dynamic_portgroup FROM ports ORDER BY id")
            ).all()
        assert [(r[0], r[1]) for r in rows] == list(zip(ids, ["eth0", None, "eth1", None, None], strict=True))
        assert {(r[2], r[3], bool(r[4])) for r in rows} == {(None, None, True)}
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE ports SET name = 'eth0' WHERE id = :id"), {"id": ids[1]})
    finally:
        db.dispose()
