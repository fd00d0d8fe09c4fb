"""Settings: defaults, TOML file, IRONWORKS_* environment, overrides — in that order of precedence."""

from __future__ import annotations

import pytest

from ironworks.settings import load_settings


def test_defaults():
    s = load_settings(env={})
    assert (s.host, s.port) == ("127.0.0.1", 6385)
    assert s.effective_database_url == "sqlite:////var/lib/ironworks/ironworks.sqlite"
    assert s.enabled_hardware_types == ("ipmi", "redfish")  # fake-hardware only where enabled explicitly


def test_precedence(tmp_path):
    cfg = tmp_path / "ironworks.toml"
    cfg.write_text('[ironworks]\nport = 7000\nhost = "0.0.0.0"\nautomated_clean = false\n'
                   'enabled_hardware_types = ["ipmi"]\n')
    s = load_settings(cfg, env={"IRONWORKS_PORT": "7001", "IRONWORKS_CONDUCTOR_WORKERS": "4"})
    assert s.port == 7001 and s.host == "0.0.0.0" and s.automated_clean is False
    assert s.conductor_workers == 4 and s.enabled_hardware_types == ("ipmi",)
    s = load_settings(cfg, env={"IRONWORKS_PORT": "7001"}, overrides={"port": 7002, "database_url": None})
    assert s.port == 7002
    s = load_settings(env={"IRONWORKS_CONFIG": str(cfg), "IRONWORKS_ENABLED_HARDWARE_TYPES": "ipmi,redfish"})
    assert s.port == 7000 and s.enabled_hardware_types == ("ipmi", "redfish")


def test_bad_settings_are_errors(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("no_such_setting = 1\n")
    with pytest.raises(ValueError, match="no_such_setting"):
        load_settings(cfg, env={})
    with pytest.raises(ValueError):
        load_settings(env={"IRONWORKS_PORT": "not-a-number"})
    with pytest.raises(ValueError, match="boolean"):
        load_settings(env={"IRONWORKS_AUTOMATED_CLEAN": "perhaps"})
