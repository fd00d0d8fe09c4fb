"""Shared fixtures: the real service on SQLite and on PostgreSQL, and HTTP clients for it; the skip policy.

``service`` is parametrised over both databases, so every test that uses it runs twice. On CI (``CI`` set, as
``.ci/run`` does) an unreachable PostgreSQL is an error, never a skip, and so is every other skip that
tests/skip_allowlist.toml does not name with a reason.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.servers import ServiceUnderTest, fresh_pg_database, make_settings, pg_admin_url


def _pg_or_skip() -> str:
    url = pg_admin_url()
    if url is None:
        if on_ci():
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


# --- skips: on CI only the allow-listed ones (tests/skip_allowlist.toml) ---------------------------------------
# A skip hides a test that did not run. On CI the tests run as root with every tool of scripts/apt-packages.txt
# and PostgreSQL, so a skip means something is missing: it fails the run unless tests/skip_allowlist.toml names
# the test with a reason. Elsewhere skips stay allowed (a developer without root or QEMU), and the terminal
# summary lists, loudly, each one that CI would fail.

ALLOWLIST = Path(__file__).with_name("skip_allowlist.toml")


@dataclass(frozen=True)
class AllowedSkip:
    test: str  #: fnmatch pattern on the node id
    reason: str


_ALLOWED = pytest.StashKey[list[AllowedSkip]]()
Report = pytest.TestReport | pytest.CollectReport


def on_ci() -> bool:
    """``CI`` set to anything but empty/0/false/no (``.ci/run`` exports ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def load_allowlist(path: Path) -> list[AllowedSkip]:
    data = tomllib.loads(path.read_text())
    entries = data.get("skip", [])
    if set(data) - {"skip"} or not isinstance(entries, list):
        raise pytest.UsageError(f"{path}: only [[skip]] tables are allowed")
    allowed = []
    for n, entry in enumerate(entries, 1):
        test, reason = entry.get("test"), entry.get("reason")
        if (
            set(entry) != {"test", "reason"}
            or not isinstance(test, str)
            or not isinstance(reason, str)
            or not test.strip()
            or not reason.strip()
        ):
            raise pytest.UsageError(f"{path}: [[skip]] #{n} needs exactly a non-empty 'test' and 'reason'")
        allowed.append(AllowedSkip(test.strip(), reason.strip()))
    return allowed


def _allowed(config: pytest.Config, nodeid: str) -> AllowedSkip | None:
    return next((a for a in config.stash[_ALLOWED] if fnmatch.fnmatchcase(nodeid, a.test)), None)


def _is_skip(report: Report) -> bool:
    return report.skipped and not hasattr(report, "wasxfail")


def _skip_message(report: Report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, message = longrepr
        return f"{str(message).removeprefix('Skipped: ')} ({path}:{lineno})"
    return str(longrepr)


def _fail_on_ci(config: pytest.Config, report: Report) -> None:
    if on_ci() and _is_skip(report) and _allowed(config, report.nodeid) is None:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped on CI: {_skip_message(report)}\nOn CI a test may skip only when "
            "tests/skip_allowlist.toml names it with a reason: install what it needs "
            "(scripts/apt-packages.txt) instead."
        )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_ALLOWED] = load_allowlist(ALLOWLIST)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield  # the outermost wrapper: xfail has been decided already
    _fail_on_ci(item.config, report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    report = yield  # a module-level skip
    _fail_on_ci(collector.config, report)
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _is_skip(r)]
    allowed = [(r, a) for r in skipped if (a := _allowed(config, r.nodeid)) is not None]
    if allowed:
        terminalreporter.write_sep("-", f"{len(allowed)} skipped on the allow-list (tests/skip_allowlist.toml)")
        for report, entry in allowed:
            terminalreporter.write_line(f"{report.nodeid}: {entry.reason}")
    hidden = [r for r in skipped if _allowed(config, r.nodeid) is None]
    if hidden:  # only off CI: on CI they are failures
        terminalreporter.write_sep(
            "!", f"{len(hidden)} SKIPPED TESTS THAT CI WOULD FAIL (CI=true)", red=True, bold=True
        )
        for report in hidden:
            terminalreporter.write_line(f"{report.nodeid}: {_skip_message(report)}", red=True)
        terminalreporter.write_sep(
            "!", "these did not run: not a pass; see tests/skip_allowlist.toml", red=True, bold=True
        )
