"""A request that never passed the auth middleware is anonymous (least privilege), never the noauth admin.

The service below is configured ``noauth`` (where every caller the middleware sees is the admin), but its
app is built without the middleware, as a mis-wired route or app would be: nothing but the public routes
answers, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ironworks.auth.identity import ANONYMOUS, NOAUTH
from tests.api.helpers import fault
from tests.fixtures.servers import ServiceUnderTest, make_settings


@pytest.fixture(scope="module")
def unwired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUnderTest]:
    state = tmp_path_factory.mktemp("unwired")
    svc = ServiceUnderTest(make_settings(str(state), f"sqlite:///{state}/u.sqlite", auth_strategy="noauth"))
    assert svc.app.middleware_stack is None  # built on the first request: drop the auth middleware before it
    svc.app.user_middleware = [m for m in svc.app.user_middleware if m.cls.__name__ != "AuthMiddleware"]
    svc.start()
    yield svc
    svc.stop()


def test_a_request_the_middleware_missed_is_anonymous(unwired):
    with unwired.client("latest") as c:
        assert c.get("/v1").status_code == 200  # public routes still answer
        listed = c.get("/v1/nodes")
        created = c.post("/v1/nodes", json={"driver": "fake-hardware", "name": "should-not-exist"})
        flavors = c.get("/v1/flavors")
    assert listed.status_code == 403, listed.text
    assert created.status_code == 403, created.text
    assert flavors.status_code == 403, flavors.text  # an any-reader rule does not admit the anonymous
    fault(created)
    with unwired.services.db.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM nodes")).scalar() == 0


def test_noauth_is_put_in_explicitly_by_the_middleware(api):
    """With the middleware in place, noauth still makes every caller the admin (Ironic's noauth)."""
    assert ANONYMOUS != NOAUTH and not ANONYMOUS.is_admin
    r = api.post("/v1/nodes", json={"driver": "fake-hardware"})
    assert r.status_code == 201, r.text
    rows = api.get("/v1/audit").json()["audit"]
    assert [row["user"] for row in rows] == ["noauth"]
