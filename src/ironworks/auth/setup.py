"""Wiring auth into the service: the start-up safety check and the middleware around the API app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ironworks.auth.audit import AuditRecorder
from ironworks.auth.authenticator import STRATEGIES, Authenticator
from ironworks.auth.htpasswd import HtpasswdFile
from ironworks.auth.middleware import AuthMiddleware
from ironworks.auth.passwords import BcryptPool
from ironworks.auth.throttle import LoginThrottle
from ironworks.db.repos.audit import AuditRepo
from ironworks.db.repos.users import UserRepo
from ironworks.settings import Settings, is_loopback

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ironworks.bootstrap import Services


class SettingsRefused(ValueError):
    """The settings would start an unsafe or broken service; the message says what to change."""


def check(settings: Settings) -> None:
    strategy = settings.effective_auth_strategy
    if strategy not in STRATEGIES:
        raise SettingsRefused(f"auth_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}.")
    if strategy == "noauth" and not is_loopback(settings.host) and not settings.auth_insecure_noauth:
        raise SettingsRefused(
            f"Refusing to serve the API without authentication on {settings.host}: anyone who can reach it "
            'would be admin. Set auth_strategy = "http_basic" and add users (ironworks user add), listen on '
            "127.0.0.1, or set auth_insecure_noauth = true if something in front of Ironworks authenticates."
        )


def authenticator(settings: Settings, services: Services) -> Authenticator:
    path = settings.http_basic_auth_user_file
    htpasswd = HtpasswdFile(path) if path else None
    throttle = LoginThrottle(
        per_user=settings.auth_failures_per_user,
        per_address=settings.auth_failures_per_address,
        window=settings.auth_failure_window,
    )
    pool = BcryptPool(settings.auth_bcrypt_workers)
    return Authenticator(
        settings.effective_auth_strategy,
        UserRepo(services.db),
        htpasswd,
        throttle=throttle,
        pool=pool,
        pending_per_address=settings.auth_pending_checks_per_address,
    )


def install(app: Starlette, services: Services) -> None:
    """Wrap ``app`` in the authentication + audit middleware; both are also on ``app.state`` (``authenticator``,
    ``audit_recorder``) for operators' tools and tests to observe."""
    settings = services.settings
    check(settings)
    app.state.authenticator = authenticator(settings, services)
    app.state.audit_recorder = AuditRecorder(AuditRepo(services.db))
    app.add_middleware(
        AuthMiddleware,
        authenticator=app.state.authenticator,  # type: ignore[arg-type]
        recorder=app.state.audit_recorder,
        realm=settings.http_basic_realm,
    )
