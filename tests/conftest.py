"""Shared fixtures: the real service on SQLite and on PostgreSQL, and HTTP clients for it.

``service`` is parametrised over both databases, so every test that uses it runs twice. On CI (``CI=true``)
an unreachable PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings, pg_admin_url


def _pg_or_skip() -> str:
    url = pg_admin_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on CI (set IRONWORKS_TEST_PG_URL)")
        pytest.skip("PostgreSQL is not reachable (set IRONWORKS_TEST_PG_URL)")
    return url


@pytest.fixture(scope="session")
def pg_url() -> str:
    return _pg_or_skip()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL for an empty database of each kind, for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/ironworks.sqlite"
        return
    with fresh_pg_database(_pg_or_skip()) as url:
        yield url


@pytest.fixture(scope="session")
def _session_service(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    svc = ServiceUnderTest(make_settings(str(tmp_path_factory.mktemp("state")), db_backend)).start()
    yield svc
    svc.stop()


@pytest.fixture
def service(_session_service: ServiceUnderTest) -> ServiceUnderTest:
    """The running service with an empty database."""
    _session_service.reset()
    return _session_service


@pytest.fixture
def api(service: ServiceUnderTest) -> Iterator[httpx.Client]:
    """An HTTP client at the newest microversion."""
    with service.client("latest") as client:
        yield client
