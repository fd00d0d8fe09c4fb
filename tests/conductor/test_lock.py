"""The node lock is a database compare-and-set: of two threads racing for one node, exactly one wins.

Run against PostgreSQL (the multi-conductor database) with two conductor identities, and on SQLite too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ironworks import errors, states
from ironworks.conductor.task import TaskContext, acquire, begin
from ironworks.db import migrate
from ironworks.db.engine import Database
from ironworks.db.repos.nodes import NodeRepo
from ironworks.drivers.registry import DriverRegistry
from ironworks.settings import Settings
from tests.fixtures.servers import fresh_pg_database

ROUNDS = 10


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    with fresh_pg_database(pg_url) as url:
        db = Database.from_url(url)
        migrate.upgrade(db)
        yield db
        db.dispose()


def _contexts(db: Database) -> list[TaskContext]:
    drivers = DriverRegistry(["fake-hardware"])
    return [TaskContext(db, Settings(conductor_name=name), drivers, name) for name in ("cond-a", "cond-b")]


def _node(db: Database, state: str = states.AVAILABLE) -> str:
    values = {"uuid": None, "driver": "fake-hardware", "provision_state": state}
    values.update(DriverRegistry(["fake-hardware"]).resolve_interfaces("fake-hardware", {}))
    from ironworks.identifiers import new_uuid

    values["uuid"] = new_uuid()
    return str(NodeRepo(db).create(values)["uuid"])


def _race(db: Database, attempt: object) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def contender(ctx: TaskContext) -> None:
        barrier.wait()
        try:
            result = attempt(ctx)  # type: ignore[operator]
            with lock:
                outcomes.append(f"won:{ctx.name}:{result}")
        except errors.NodeLocked:
            with lock:
                outcomes.append("locked")

    threads = [threading.Thread(target=contender, args=(ctx,)) for ctx in _contexts(db)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_one_lock_wins_on_postgresql(pg_db: Database) -> None:
    holding = threading.Event()
    for _ in range(ROUNDS):
        node = _node(pg_db)
        holding.clear()
        release = threading.Event()

        def attempt(ctx: TaskContext, node: str = node, release: threading.Event = release) -> str:
            with acquire(ctx, node, "race", wait=False) as task:
                assert task.node["reservation"] == ctx.name
                release.wait(0.1)  # hold it while the other one tries
                return "held"

        outcomes = _race(pg_db, attempt)
        assert sorted(o.split(":")[0] for o in outcomes) == ["locked", "won"], outcomes
        assert NodeRepo(pg_db).get(node)["reservation"] is None


def test_one_begin_wins_on_postgresql(pg_db: Database) -> None:
    """Two API requests moving the same node: one transition, one intent, one NodeLocked/InvalidState."""
    for _ in range(4):
        node = _node(pg_db)

        def attempt(ctx: TaskContext, node: str = node) -> str:
            try:
                task = begin(ctx, node, event="deploy", purpose="active", action="deploy", args={})
            except errors.InvalidStateRequested:
                raise errors.NodeLocked(node=node, host="?") from None
            return str(task.node["provision_state"])

        outcomes = _race(pg_db, attempt)
        winners = [o for o in outcomes if o.startswith("won")]
        assert len(winners) == 1, outcomes
        record = NodeRepo(pg_db).get(node)
        assert record["provision_state"] == states.DEPLOYING
        assert record["reservation"] == winners[0].split(":")[1]
