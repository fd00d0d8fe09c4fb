"""Running the service: build everything, start the conductor, serve HTTP until told to stop."""

from __future__ import annotations

import logging
import resource
import signal

import uvicorn

from ironworks.api.app import create_app
from ironworks.bootstrap import build_services
from ironworks.connections import uvicorn_config
from ironworks.logs import setup_logging
from ironworks.settings import Settings

LOG = logging.getLogger(__name__)


def serve(settings: Settings) -> int:
    setup_logging(settings.log_level)
    services = build_services(settings)
    services.start_conductor()
    app = create_app(services)
    LOG.info("Ironworks API on http://%s:%s, database %s", settings.host, settings.port,
             services.db.engine.url.render_as_string(hide_password=True))
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown; with these handlers in place that
    # re-raise is a no-op and the process exits 0 after closing everything below.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    _raise_file_limit(settings.max_connections + 512)
    server = uvicorn.Server(uvicorn_config(app, settings, log_level=settings.log_level.lower()))
    try:
        server.run()
    finally:
        services.close()
    if not server.started:
        LOG.error("The API did not start on %s:%s", settings.host, settings.port)
        return 3
    LOG.info("Ironworks stopped")
    return 0


def _raise_file_limit(wanted: int) -> None:
    """Let the process hold ``max_connections`` sockets plus its own files (soft limit up to the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        LOG.warning("Open files are limited to %d: fewer than max_connections + 512 = %d", target, wanted)
