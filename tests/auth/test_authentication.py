"""HTTP basic authentication as Ironic's http_basic mode: 401s, public routes, hashes, the htpasswd file,
the ``ironworks user`` commands and the start-up refusal of noauth on a public address."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import bcrypt
import httpx
import pytest
from openstack import exceptions as sdk_exc
from sqlalchemy import select

from ironworks.auth import users as user_admin
from ironworks.auth.htpasswd import HtpasswdError, parse
from ironworks.auth.setup import SettingsRefused, check
from ironworks.db.models import User as UserRow
from ironworks.db.repos.users import UserRepo
from ironworks.settings import Settings
from tests.api.helpers import fault
from tests.auth.conftest import HTPASSWD_PASSWORD, HTPASSWD_USER, MEMBER, PASSWORD, User, client, sdk


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_no_credentials_is_401_with_a_basic_challenge(auth_service):
    r = httpx.get(auth_service.url + "/v1/nodes")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Baremetal API"'
    assert fault(r)["faultstring"] == "Authorization required"
    assert r.headers["Openstack-Request-Id"].startswith("req-")


@pytest.mark.parametrize("user,password", [(MEMBER.name, "wrong"), ("nobody", PASSWORD), (MEMBER.name, "")])
def test_wrong_credentials_are_401_and_do_not_say_which_part_was_wrong(auth_service, user, password):
    r = httpx.post(auth_service.url + "/v1/nodes", json={"driver": "fake-hardware"}, headers=_basic(user, password))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert fault(r)["faultstring"] == "Incorrect username or password"


@pytest.mark.parametrize(
    "header", ["Bearer abc", "Basic", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode()]
)
def test_malformed_authorization_is_400(auth_service, header):
    r = httpx.get(auth_service.url + "/v1/nodes", headers={"Authorization": header})
    assert r.status_code == 400
    fault(r)


def test_public_routes_need_no_credentials(auth_service):
    assert httpx.get(auth_service.url + "/").status_code == 200
    assert httpx.get(auth_service.url + "/v1").status_code == 200
    # the ramdisk's lookup is answered on its merits (no such node), not with a challenge
    r = httpx.get(
        auth_service.url + "/v1/lookup",
        params={"addresses": "52:54:00:12:34:56"},
        headers={"X-OpenStack-Ironic-API-Version": "latest"},
    )
    assert r.status_code == 404


def test_sdk_with_a_wrong_password_gets_401(auth_service):
    conn = sdk(auth_service, MEMBER, password="not-it")
    try:
        with pytest.raises(sdk_exc.HttpException) as err:
            list(conn.baremetal.nodes())
        assert err.value.status_code == 401
    finally:
        conn.close()


def test_passwords_are_stored_as_bcrypt_hashes_only(auth_service):
    with auth_service.services.db.read() as session:
        rows = session.execute(select(UserRow.__table__)).mappings().all()
    assert rows
    for row in rows:
        assert row["password_hash"].startswith("$2b$")
        assert PASSWORD not in row["password_hash"]
        assert bcrypt.checkpw(PASSWORD.encode(), row["password_hash"].encode())
    assert all("password_hash" not in rec for rec in UserRepo(auth_service.services.db).list())


def test_password_change_and_deletion_take_effect_at_once(auth_service):
    repo = UserRepo(auth_service.services.db)
    temp = User("temp-user", "acme", "reader")
    user_admin.add(repo, temp.name, project=temp.project, role=temp.role, password="first-pass", rounds=4)
    try:
        with client(auth_service, temp, "first-pass") as c:
            assert c.get("/v1/nodes").status_code == 200
            repo.set_password(temp.name, bcrypt.hashpw(b"second-pass", bcrypt.gensalt(4)).decode())
            assert c.get("/v1/nodes").status_code == 401
        with client(auth_service, temp, "second-pass") as c:
            assert c.get("/v1/nodes").status_code == 200
            repo.delete(temp.name)
            assert c.get("/v1/nodes").status_code == 401
    finally:
        if repo.find(temp.name):
            repo.delete(temp.name)


def test_htpasswd_users_are_admins(auth_service):
    with httpx.Client(
        base_url=auth_service.url,
        auth=(HTPASSWD_USER, HTPASSWD_PASSWORD),
        headers={"X-OpenStack-Ironic-API-Version": "latest"},
    ) as c:
        r = c.post("/v1/nodes", json={"driver": "fake-hardware", "name": "from-file"})
        assert r.status_code == 201, r.text
        assert c.get("/v1/chassis").status_code == 200
    with httpx.Client(base_url=auth_service.url, auth=(HTPASSWD_USER, "wrong")) as c:
        assert c.get("/v1/nodes").status_code == 401


def test_htpasswd_accepts_bcrypt_only():
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(4)).decode()
    assert parse(f"# comment\n\nalice:{hashed}\n") == {"alice": hashed}
    with pytest.raises(HtpasswdError, match="only bcrypt"):
        parse("bob:$apr1$abc$def\n")
    with pytest.raises(HtpasswdError, match="user:hash"):
        parse("just-a-name\n")


def test_noauth_only_by_default_on_loopback():
    assert Settings(host="127.0.0.1").effective_auth_strategy == "noauth"
    assert Settings(host="::1").effective_auth_strategy == "noauth"
    assert Settings(host="0.0.0.0").effective_auth_strategy == "http_basic"
    with pytest.raises(SettingsRefused, match="without authentication on 0.0.0.0"):
        check(Settings(host="0.0.0.0", auth_strategy="noauth"))
    check(Settings(host="0.0.0.0", auth_strategy="noauth", auth_insecure_noauth=True))
    with pytest.raises(SettingsRefused, match="auth_strategy must be one of"):
        check(Settings(auth_strategy="keystone"))


def _ironworks(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("ironworks")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("IRONWORKS_")}
    full_env.update(env or {})
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120)


def test_serve_refuses_noauth_on_a_public_address(tmp_path):
    proc = _ironworks(
        "serve", "--host", "0.0.0.0", "--state-dir", str(tmp_path), env={"IRONWORKS_AUTH_STRATEGY": "noauth"}
    )
    assert proc.returncode == 2
    assert "Refusing to serve the API without authentication" in proc.stderr


def test_user_commands(tmp_path):
    state = ["--state-dir", str(tmp_path)]
    added = _ironworks(
        "user",
        "add",
        "carol",
        "--project",
        "acme",
        "--role",
        "member",
        "--password-stdin",
        *state,
        stdin="pw-of-carol\n",
    )
    assert added.returncode == 0, added.stderr
    assert "created user carol (role member, project acme)" in added.stdout
    again = _ironworks(
        "user", "add", "carol", "--project", "acme", "--role", "member", "--password-stdin", *state, stdin="x\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    no_project = _ironworks("user", "add", "dave", "--role", "reader", "--password-stdin", *state, stdin="x\n")
    assert no_project.returncode == 1 and "must belong to a project" in no_project.stderr
    listed = _ironworks("user", "list", *state)
    assert "carol" in listed.stdout and "pw-of-carol" not in listed.stdout and "$2b$" not in listed.stdout
    from ironworks.db.engine import Database

    db = Database.from_url(f"sqlite:///{tmp_path}/ironworks.sqlite")
    try:
        record = UserRepo(db).find("carol")
        assert record is not None and bcrypt.checkpw(b"pw-of-carol", record["password_hash"].encode())
    finally:
        db.dispose()
    assert _ironworks("user", "delete", "carol", *state).returncode == 0
    gone = _ironworks("user", "delete", "carol", *state)
    assert gone.returncode == 1 and "could not be found" in gone.stderr
