"""Fixtures for conductor tests that start their own service processes on a database they share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.servers import fresh_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, for the processes one test starts (they share it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shared.sqlite"
        return
    with fresh_pg_database(request.getfixturevalue("pg_url")) as url:
        yield url
