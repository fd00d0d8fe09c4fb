"""Password guessing: unknown users cost the same bcrypt as known ones, failures are throttled per user name
and per source address (429 + Retry-After, then recovery), bcrypt runs on its own bounded threads, and a
broken htpasswd file keeps its last good entries.

The throttle's clock is replaced by a fake one (``clock``); the counts of bcrypt checks come from the
service's own bcrypt pool (``app.state.authenticator.pool.checks``, by cost).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
import httpx
import pytest

from ironworks.auth import users as user_admin
from ironworks.auth.passwords import cost_of
from tests.api.helpers import fault
from tests.auth.conftest import HTPASSWD_PASSWORD, HTPASSWD_USER, MEMBER, OTHER_MEMBER, PASSWORD, READER, User


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def authn(auth_service):
    return auth_service.app.state.authenticator


@pytest.fixture
def clock(authn, monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(authn.throttle, "clock", fake)
    return fake


def _get(service, user: str, password: str) -> httpx.Response:
    return httpx.get(
        service.url + "/v1/nodes", auth=(user, password), headers={"X-OpenStack-Ironic-API-Version": "1.1"}
    )


def test_unknown_and_known_users_get_the_same_refusal_through_the_same_bcrypt(auth_service, authn):
    user_cost = cost_of(authn.users.find(MEMBER.name)["password_hash"])
    before = sum(authn.pool.checks.values())
    known = _get(auth_service, MEMBER.name, "wrong-password")
    after_known = authn.pool.checks.copy()
    unknown = _get(auth_service, "no-such-user", "wrong-password")
    assert (known.status_code, unknown.status_code) == (401, 401)
    assert fault(known) == fault(unknown)
    assert known.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    # one bcrypt check each, of the stored hashes' cost: the unknown name was checked against a dummy hash
    assert sum(after_known.values()) == before + 1
    assert authn.pool.checks[user_cost] == after_known[user_cost] + 1
    assert sum(authn.pool.checks.values()) == before + 2


def test_the_success_cache_never_answers_a_wrong_password(auth_service, authn):
    assert _get(auth_service, READER.name, PASSWORD).status_code == 200
    checks = sum(authn.pool.checks.values())
    assert _get(auth_service, READER.name, PASSWORD).status_code == 200  # from the cache: no bcrypt
    assert sum(authn.pool.checks.values()) == checks
    assert _get(auth_service, READER.name, PASSWORD + "x").status_code == 401  # bcrypt, and refused
    assert sum(authn.pool.checks.values()) == checks + 1


def test_failures_per_user_are_throttled_then_recover(auth_service, authn, clock):
    limit = auth_service.settings.auth_failures_per_user
    for _ in range(limit):
        assert _get(auth_service, OTHER_MEMBER.name, "guess").status_code == 401
    checks = sum(authn.pool.checks.values())
    throttled = _get(auth_service, OTHER_MEMBER.name, "guess")
    right_guess = _get(auth_service, OTHER_MEMBER.name, PASSWORD)
    for r in (throttled, right_guess):
        assert r.status_code == 429, r.text
        assert "Too many failed login attempts" in fault(r)["faultstring"]
        assert 0 < int(r.headers["Retry-After"]) <= auth_service.settings.auth_failure_window
    assert sum(authn.pool.checks.values()) == checks  # a throttled login costs no bcrypt
    # another user, from the same address, logs in meanwhile
    assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 200
    # names that do not exist are throttled alike (a 429 does not tell that a name exists)
    for _ in range(limit):
        assert _get(auth_service, "ghost", "guess").status_code == 401
    assert _get(auth_service, "ghost", "guess").status_code == 429
    clock.now += auth_service.settings.auth_failure_window - 1
    assert _get(auth_service, OTHER_MEMBER.name, PASSWORD).status_code == 429
    clock.now += 1
    assert _get(auth_service, OTHER_MEMBER.name, PASSWORD).status_code == 200


def test_failures_per_address_are_throttled_then_recover(auth_service, clock):
    settings = auth_service.settings
    assert settings.auth_failures_per_user < settings.auth_failures_per_address
    for i in range(settings.auth_failures_per_address):  # one guess per name: no name reaches its own limit
        assert _get(auth_service, f"guess-{i}", "pw").status_code == 401
        clock.now += 1
    r = _get(auth_service, MEMBER.name, PASSWORD)  # this address is throttled, whoever logs in from it
    first_ages_out = settings.auth_failure_window - settings.auth_failures_per_address  # the first was that long ago
    assert r.status_code == 429 and r.headers["Retry-After"] == str(int(first_ages_out))
    clock.now += first_ages_out  # the first failure aged out: one try is back
    assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 200
    assert _get(auth_service, "guess-again", "pw").status_code == 401
    assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 429


def test_other_requests_are_served_while_every_bcrypt_thread_is_busy(auth_service, authn):
    """bcrypt has its own threads: with all of them taken, requests needing no check are still answered, and a
    login needing one waits for a free bcrypt thread rather than failing."""
    assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 200  # now in the success cache
    release = threading.Event()
    blockers = [authn.pool._executor.submit(release.wait, 60) for _ in range(authn.pool.workers)]
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(_get, auth_service, READER.name, PASSWORD + "-not-cached")
            for _ in range(5):
                assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 200
                assert httpx.get(auth_service.url + "/v1").status_code == 200
            assert not waiting.done()
            release.set()
            assert waiting.result(timeout=30).status_code == 401
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=30)


def test_one_address_cannot_fill_the_bcrypt_queue(auth_service, authn):
    """An address may have only so many logins waiting for bcrypt; more answer 429 at once, while a login from
    another address still gets its place in the queue."""
    per_address = auth_service.settings.auth_pending_checks_per_address
    release = threading.Event()
    blockers = [authn.pool._executor.submit(release.wait, 60) for _ in range(authn.pool.workers)]
    other_address = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=60)
    try:
        with ThreadPoolExecutor(max_workers=per_address + 1) as pool:
            queued = [pool.submit(_get, auth_service, f"guesser-{i}", "pw") for i in range(per_address)]
            _wait_until(lambda: authn._pending["127.0.0.1"] == per_address)
            busy = _get(auth_service, MEMBER.name, PASSWORD + "-not-cached")
            assert busy.status_code == 429 and busy.headers["Retry-After"] == "1", busy.text
            assert "being checked at once" in fault(busy)["faultstring"]
            elsewhere = pool.submit(other_address.get, auth_service.url + "/v1/nodes", auth=(READER.name, "guess"))
            _wait_until(lambda: authn._pending["127.0.0.2"] == 1)  # queued, not refused
            release.set()
            assert [f.result(timeout=60).status_code for f in queued] == [401] * per_address
            assert elsewhere.result(timeout=60).status_code == 401  # checked, not turned away
        assert _get(auth_service, MEMBER.name, PASSWORD).status_code == 200  # slots are given back
    finally:
        release.set()
        other_address.close()
        for blocker in blockers:
            blocker.result(timeout=30)


def test_parallel_first_requests_of_one_client_share_one_check(auth_service, authn):
    repo = authn.users
    user_admin.add(repo, "parallel", project="acme", role="reader", password="parallel-pw", rounds=4)
    release = threading.Event()
    blockers = [authn.pool._executor.submit(release.wait, 60) for _ in range(authn.pool.workers)]
    try:
        checks = sum(authn.pool.checks.values())
        count = auth_service.settings.auth_pending_checks_per_address + 2
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = [pool.submit(_get, auth_service, "parallel", "parallel-pw") for _ in range(count)]
            _wait_until(lambda: authn._pending["127.0.0.1"] == 1)
            release.set()
            assert [a.result(timeout=60).status_code for a in answers] == [200] * count  # none turned away
        assert sum(authn.pool.checks.values()) == checks + 1
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=30)
        repo.delete("parallel")


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the service"
        time.sleep(0.01)


@pytest.fixture
def htpasswd_file(auth_service) -> Path:
    path = Path(auth_service.settings.http_basic_auth_user_file)
    good = path.read_text()
    yield path
    path.write_text(good)
    auth_service.app.state.authenticator.htpasswd.lookup("")  # re-read: the next test sees the good file


def _htpasswd_login(service, user: str, password: str) -> int:
    return _get(service, user, password).status_code


def test_a_broken_htpasswd_file_keeps_its_last_good_entries(auth_service, htpasswd_file, caplog):
    good = htpasswd_file.read_text()
    newcomer = bcrypt.hashpw(b"newcomer-pw", bcrypt.gensalt(4)).decode()
    caplog.set_level(logging.WARNING, logger="ironworks.auth.htpasswd")
    # a bad line (a plain-text password) added along with a new user: the whole new version is refused
    htpasswd_file.write_text(good + f"newcomer:{newcomer}\neve:plain-text-secret-42\n")
    assert _htpasswd_login(auth_service, HTPASSWD_USER, HTPASSWD_PASSWORD) == 200
    assert _htpasswd_login(auth_service, HTPASSWD_USER, "wrong") == 401
    assert _htpasswd_login(auth_service, "newcomer", "newcomer-pw") == 401
    assert _htpasswd_login(auth_service, MEMBER.name, PASSWORD) == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "ironworks.auth.htpasswd"]
    assert len(warnings) == 1, warnings  # logged once per broken version, not per login
    assert "line 4" in warnings[0] and "plain-text-secret-42" not in warnings[0]
    # the file disappears: still the last good entries, still 401 for the rest
    htpasswd_file.unlink()
    assert _htpasswd_login(auth_service, HTPASSWD_USER, HTPASSWD_PASSWORD) == 200
    assert _htpasswd_login(auth_service, "newcomer", "newcomer-pw") == 401
    assert _htpasswd_login(auth_service, HTPASSWD_USER, "wrong") == 401
    # fixed: the new version is read
    htpasswd_file.write_text(good + f"newcomer:{newcomer}\n")
    assert _htpasswd_login(auth_service, "newcomer", "newcomer-pw") == 200


def test_a_missing_htpasswd_user_file_at_start_is_refused(tmp_path):
    from ironworks.auth.htpasswd import HtpasswdError, HtpasswdFile

    with pytest.raises(HtpasswdError, match="cannot read the auth user file"):
        HtpasswdFile(str(tmp_path / "absent"))


def test_the_sdk_sees_a_throttled_login_as_an_http_error(auth_service, clock):
    from openstack import exceptions as sdk_exc

    from tests.auth.conftest import sdk

    for _ in range(auth_service.settings.auth_failures_per_user):
        _get(auth_service, MEMBER.name, "nope")
    conn = sdk(auth_service, User(MEMBER.name, MEMBER.project, MEMBER.role))
    try:
        with pytest.raises(sdk_exc.HttpException) as err:
            list(conn.baremetal.nodes())
        assert err.value.status_code == 429
    finally:
        conn.close()
