"""Running the service: build everything, start the conductor, serve HTTP until told to stop."""

from __future__ import annotations

import logging
import signal

import uvicorn

from ironworks.api.app import create_app
from ironworks.bootstrap import build_services
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
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                    log_level=settings.log_level.lower())
    finally:
        services.close()
    LOG.info("Ironworks stopped")
    return 0
