"""A service with ``auth_strategy = http_basic`` on SQLite and PostgreSQL, its users, and clients per user.

The service has its own database (not the session database of tests/conftest.py, whose service runs noauth)
and an htpasswd file with one bcrypt entry. Users are created once per session with a low bcrypt cost (the
hash is still real bcrypt); between tests every table except ``users`` is emptied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import openstack
import pytest

from ironworks.auth import users as user_admin
from ironworks.db.models import Base
from ironworks.db.repos.users import UserRepo
from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings

PASSWORD = "correct horse battery staple"
HTPASSWD_USER, HTPASSWD_PASSWORD = "ops-from-file", "file-secret-1"


@dataclass(frozen=True)
class User:
    name: str
    project: str | None
    role: str


#: the people of the RBAC tests: an operator, and a member and a reader of project "acme"
ADMIN = User("olga", "ops", "admin")
MEMBER = User("mia", "acme", "member")
READER = User("rob", "acme", "reader")
OTHER_MEMBER = User("mallory", "evil", "member")
USERS = (ADMIN, MEMBER, READER, OTHER_MEMBER)


def _reset(svc: ServiceUnderTest) -> None:
    with svc.services.db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "users":
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def _auth_service(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    state = tmp_path_factory.mktemp("auth-state")
    htpasswd = Path(state) / "htpasswd"
    hashed = bcrypt.hashpw(HTPASSWD_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    htpasswd.write_text(f"# operators\n{HTPASSWD_USER}:{hashed}\n")
    kind = "sqlite" if db_backend.startswith("sqlite") else "postgres"

    def start(url: str) -> ServiceUnderTest:
        settings = make_settings(str(state), url, auth_strategy="http_basic", http_basic_auth_user_file=str(htpasswd))
        svc = ServiceUnderTest(settings).start()
        repo = UserRepo(svc.services.db)
        for user in USERS:
            user_admin.add(repo, user.name, project=user.project, role=user.role, password=PASSWORD, rounds=4)
        return svc

    if kind == "sqlite":
        svc = start(f"sqlite:///{state}/auth.sqlite")
        yield svc
        svc.stop()
        return
    from tests.conftest import _pg_or_skip

    with fresh_pg_database(_pg_or_skip()) as url:
        svc = start(url)
        yield svc
        svc.stop()


@pytest.fixture
def auth_service(_auth_service: ServiceUnderTest) -> ServiceUnderTest:
    _reset(_auth_service)
    _auth_service.app.state.authenticator.throttle.reset()  # failed logins of one test do not throttle the next
    return _auth_service


def client(
    service: ServiceUnderTest, user: User | None, password: str = PASSWORD, version: str = "latest"
) -> httpx.Client:
    auth = (user.name, password) if user is not None else None
    return service.client(version, auth=auth)


@pytest.fixture
def admin(auth_service: ServiceUnderTest) -> Iterator[httpx.Client]:
    with client(auth_service, ADMIN) as c:
        yield c


def sdk(service: ServiceUnderTest, user: User, password: str = PASSWORD) -> openstack.connection.Connection:
    """openstacksdk logged in with ``auth_type=http_basic``, as an operator's clouds.yaml would say."""
    return openstack.connect(
        auth_type="http_basic",
        auth={"username": user.name, "password": password},
        baremetal_endpoint_override=service.url + "/",
        load_yaml_config=False,
        load_envvars=False,
    )
