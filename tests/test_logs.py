"""Secrets never reach responses or logs."""

from __future__ import annotations

import io
import logging

from ironworks.logs import ContextFilter, MaskingFormatter, mask_secrets, mask_text, node_context


def test_mask_secrets_nested():
    data = {
        "ipmi_address": "10.0.0.1",
        "ipmi_password": "pw",
        "nested": {"agent_token": "t", "ok": 1},
        "list": [{"redfish_password": "x"}],
        "empty_password": "",
    }
    masked = mask_secrets(data)
    assert masked == {
        "ipmi_address": "10.0.0.1",
        "ipmi_password": "******",
        "nested": {"agent_token": "******", "ok": 1},
        "list": [{"redfish_password": "******"}],
        "empty_password": "",
    }
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


def test_ipmi_kg_key_and_url_credentials_are_masked_in_data():
    data = {
        "ipmi_hex_kg_key": "0123456789abcdef",
        "redfish_address": "https://root:calvin@10.0.0.5/redfish/v1",
        "image_source": "http://deploy-token@images.example/disk.qcow2",
        "nested": [{"url": "ftp://u:p@ss-word@mirror/x"}],
        "plain": "https://bmc.example/redfish/v1",
    }
    assert mask_secrets(data) == {
        "ipmi_hex_kg_key": "******",
        "redfish_address": "https://root:******@10.0.0.5/redfish/v1",
        "image_source": "http://******@images.example/disk.qcow2",
        "nested": [{"url": "ftp://u:******@mirror/x"}],
        "plain": "https://bmc.example/redfish/v1",
    }


def test_mask_text_masks_kg_keys_and_url_credentials():
    line = "ipmitool -y ipmi_hex_kg_key=00ff11ee fetching https://admin:hunter2@bmc-7/redfish/v1 mail a@b.example"
    masked = mask_text(line)
    assert "00ff11ee" not in masked and "hunter2" not in masked
    assert "https://admin:******@bmc-7/redfish/v1" in masked and "a@b.example" in masked


def _capture(logger: logging.Logger) -> tuple[logging.Handler, io.StringIO]:
    """A handler set up as ``ironworks serve`` sets up its own (setup_logging), writing into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter())
    handler.setFormatter(MaskingFormatter("%(levelname)s %(name)s [%(ctx)s] %(message)s"))
    logger.addHandler(handler)
    return handler, out


def test_log_output_masks_url_credentials_kg_keys_and_tracebacks():
    logger = logging.getLogger("ironworks.test.masking")
    handler, out = _capture(logger)
    try:
        logger.warning("Image %s could not be fetched", "https://deployer:img-pass-1@images.example/a.raw")
        logger.warning("driver_info %s", {"ipmi_hex_kg_key": "kg-secret-2", "ipmi_address": "10.1.1.1"})
        try:
            raise ConnectionError("cannot reach https://root:bmc-pass-3@10.0.0.9/redfish/v1")
        except ConnectionError:
            logger.exception("power sync failed")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    for secret in ("img-pass-1", "kg-secret-2", "bmc-pass-3"):
        assert secret not in text
    assert "https://deployer:******@images.example/a.raw" in text and "10.1.1.1" in text
    assert "Traceback" in text and "https://root:******@10.0.0.9" in text
