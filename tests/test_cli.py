"""The ``ironworks`` command: ``serve`` starts a working service on a fresh SQLite file or PostgreSQL;
``db upgrade`` migrates a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.fixtures.servers import free_port, fresh_pg_database

CLI = [sys.executable, "-m", "ironworks.cli"]


def _serve(args: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # fake-hardware is not enabled by default: these tests enrol fake nodes, so they enable it as an operator would
    env = dict(os.environ, IRONWORKS_ENABLED_HARDWARE_TYPES="fake-hardware,ipmi,redfish")
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    out = proc.stdout.read().decode() if proc.stdout else ""
    raise AssertionError(f"ironworks serve did not start:\n{out}")


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out.decode()


def test_serve_on_fresh_sqlite_keeps_data_across_restarts(tmp_path):
    proc, url = _serve(["--state-dir", str(tmp_path)])
    try:
        r = httpx.post(url + "/v1/nodes", json={"driver": "fake-hardware", "name": "persist",
                                                "driver_info": {"ipmi_password": "do-not-log"}},
                       headers={"X-OpenStack-Ironic-API-Version": "1.65"})
        assert r.status_code == 201
    finally:
        log = _stop(proc)
    assert proc.returncode == 0, log
    assert "do-not-log" not in log
    assert (tmp_path / "ironworks.sqlite").exists()
    proc, url = _serve(["--state-dir", str(tmp_path)])
    try:
        r = httpx.get(url + "/v1/nodes/persist", headers={"X-OpenStack-Ironic-API-Version": "1.65"})
        assert r.status_code == 200
    finally:
        _stop(proc)


def test_db_upgrade_and_serve_on_postgresql(pg_url, tmp_path):
    with fresh_pg_database(pg_url) as db_url:
        out = subprocess.run([*CLI, "db", "upgrade", "--database-url", db_url], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert "revision" in out.stdout
        proc, url = _serve(["--database-url", db_url, "--state-dir", str(tmp_path)])
        try:
            r = httpx.post(url + "/v1/nodes", json={"driver": "fake-hardware", "name": "on-pg"},
                           headers={"X-OpenStack-Ironic-API-Version": "1.65"})
            assert r.status_code == 201
            assert httpx.get(url + "/v1/nodes").json()["nodes"][0]["uuid"] == r.json()["uuid"]
        finally:
            _stop(proc)


def test_bad_setting_fails_clearly(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("colour = 'red'\n")
    out = subprocess.run([*CLI, "serve", "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "colour" in out.stderr


@pytest.mark.parametrize("args", [["serve", "--port", "notaport"], ["nonsense"]])
def test_usage_errors(args):
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
