"""Secrets never reach responses or logs."""

from __future__ import annotations

import logging

from ironworks.logs import ContextFilter, mask_secrets, mask_text, node_context


def test_mask_secrets_nested():
    data = {"ipmi_address": "10.0.0.1", "ipmi_password": "pw", "nested": {"agent_token": "t", "ok": 1},
            "list": [{"redfish_password": "x"}], "empty_password": ""}
    masked = mask_secrets(data)
    assert masked == {"ipmi_address": "10.0.0.1", "ipmi_password": "******",
                      "nested": {"agent_token": "******", "ok": 1}, "list": [{"redfish_password": "******"}],
                      "empty_password": ""}
    assert data["ipmi_password"] == "pw"  # the input is not modified


def test_mask_text():
    line = "ipmitool -H 10.0.0.1 ipmi_password=hunter2 'agent_token': 'abc123' password: s3cret"
    masked = mask_text(line)
    for secret in ("hunter2", "abc123", "s3cret"):
        assert secret not in masked
    assert "10.0.0.1" in masked


def test_log_filter_masks_and_adds_context(caplog):
    logger = logging.getLogger("ironworks.test")
    handler = logging.Handler()
    records: list[logging.LogRecord] = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(ContextFilter())
    logger.addHandler(handler)
    token = node_context.set({"node": "abc"})
    try:
        logger.warning("BMC login failed with password=%s", "topsecret")
    finally:
        node_context.reset(token)
        logger.removeHandler(handler)
    assert "topsecret" not in records[0].getMessage()
    assert records[0].ctx == "node=abc"
