"""The skip policy of tests/conftest.py: on CI a skip fails the run unless tests/skip_allowlist.toml names the
test with a reason; off CI skips pass but the summary lists each one CI would fail. Checked by running pytest on
a small suite that uses the real hooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ALLOWLIST, load_allowlist

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
import pytest

@pytest.fixture
def needs_tool():
    pytest.skip("frobnicate is not installed")

def test_plain_skip():
    pytest.skip("no root")

@pytest.mark.skipif(True, reason="marked off")
def test_marked_skip():
    pass

def test_fixture_skip(needs_tool):
    pass

def test_listed_skip():
    pytest.skip("TCG only here")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False

def test_passes():
    pass
"""

CONFTEST = """
from pathlib import Path

import tests.conftest as policy
from tests.conftest import pytest_configure, pytest_make_collect_report, pytest_runtest_makereport
from tests.conftest import pytest_terminal_summary

policy.ALLOWLIST = Path(__file__).with_name("allow.toml")
"""

ALLOW = """
[[skip]]
test = "test_suite.py::test_listed_*"
reason = "needs KVM; the CI machine has TCG only"
"""


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "allow.toml").write_text(ALLOW)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(ROOT)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-o", "addopts=", "test_suite.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_on_ci_a_skip_not_on_the_allowlist_fails_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path, "true")
    assert run.returncode == 1, run.stdout
    out = run.stdout
    assert "FAILED test_suite.py::test_plain_skip" in out
    assert "ERROR test_suite.py::test_marked_skip" in out  # skipped in setup: an error at setup
    assert "ERROR test_suite.py::test_fixture_skip" in out
    assert "skipped on CI: frobnicate is not installed" in out
    assert "SKIPPED [1] test_suite.py:" in out and "TCG only here" in out  # the allow-listed one skips
    assert "test_listed_skip: needs KVM; the CI machine has TCG only" in out
    assert "XFAIL test_suite.py::test_expected_failure" in out  # an expected failure is not a skip
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 2 errors" in out


def test_off_ci_skips_pass_but_the_summary_names_them(tmp_path: Path) -> None:
    run = _run(tmp_path, "false")
    assert run.returncode == 0, run.stdout
    out = run.stdout
    assert "3 SKIPPED TESTS THAT CI WOULD FAIL" in out
    for name in (
        "test_plain_skip: no root",
        "test_marked_skip: marked off",
        "test_fixture_skip: frobnicate is not installed",
    ):
        assert f"test_suite.py::{name}" in out
    assert "4 skipped" in out


def test_the_allowlist_is_data_with_a_reason_for_each_entry(tmp_path: Path) -> None:
    for entry in load_allowlist(ALLOWLIST):
        assert entry.test.startswith("tests/") and len(entry.reason) > 20
    bad = tmp_path / "bad.toml"
    for text in (
        '[[skip]]\ntest = "tests/x.py::*"\n',
        '[[skip]]\ntest = "tests/x.py"\nreason = " "\n',
        '[[skip]]\ntest = "tests/x.py"\nreason = "r"\nwhen = "always"\n',
        'tests = ["x"]\n',
    ):
        bad.write_text(text)
        with pytest.raises(pytest.UsageError):
            load_allowlist(bad)
