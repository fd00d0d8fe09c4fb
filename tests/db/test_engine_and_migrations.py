"""The database layer on real SQLite and PostgreSQL: migrations match the models, SQLite runs in WAL mode,
and concurrent writers neither fail nor lose rows."""

from __future__ import annotations

import threading
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from ironworks import errors
from ironworks.db import migrate
from ironworks.db.engine import Database
from ironworks.db.models import Base
from ironworks.db.repos.nodes import NodeRepo
from tests.fixtures.servers import fresh_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path, pg_url_optional):
    if request.param == "sqlite":
        db = Database.from_url(f"sqlite:///{tmp_path}/t.sqlite")
        migrate.upgrade(db)
        yield db
        db.dispose()
        return
    with fresh_pg_database(pg_url_optional) as url:
        db = Database.from_url(url)
        migrate.upgrade(db)
        yield db
        db.dispose()


@pytest.fixture
def pg_url_optional(request):
    if "postgres" in request.node.name:
        return request.getfixturevalue("pg_url")
    return None


def test_migrations_produce_exactly_the_models(database):
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # type-only differences between JSON variants are not schema drift; anything else is
    assert [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")] == []
    assert migrate.current_revision(database) == migrate.head_revision(database)


def test_sqlite_uses_wal(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path}/wal.sqlite")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_concurrent_writers_lose_nothing(database):
    repo = NodeRepo(database)
    failures: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(40):
                repo.create({"uuid": str(uuid.uuid4()), "name": f"w{t}-{i}", "driver": "fake-hardware",
                             "provision_state": "enroll", "conductor_group": ""})
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert repo.count() == 320


def test_concurrent_update_is_serialised(database):
    """Read-modify-write through ``NodeRepo.update`` never loses an increment."""
    repo = NodeRepo(database)
    node = repo.create({"uuid": str(uuid.uuid4()), "driver": "fake-hardware", "provision_state": "enroll",
                        "conductor_group": "", "extra": {"n": 0}})

    def bump() -> None:
        for _ in range(15):
            repo.update(node["uuid"], lambda rec: {"extra": {"n": rec["extra"]["n"] + 1}})

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert repo.get(node["uuid"])["extra"]["n"] == 90


def test_duplicate_name_is_a_conflict(database):
    repo = NodeRepo(database)
    repo.create({"uuid": str(uuid.uuid4()), "name": "same", "driver": "x", "provision_state": "enroll",
                 "conductor_group": ""})
    with pytest.raises(errors.DuplicateName):
        repo.create({"uuid": str(uuid.uuid4()), "name": "same", "driver": "x", "provision_state": "enroll",
                     "conductor_group": ""})
    assert repo.count() == 1
