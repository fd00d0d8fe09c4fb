"""Wiring auth into the service: the start-up safety check and the middleware around the API app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ironworks.auth.audit import AuditRecorder
from ironworks.auth.authenticator import STRATEGIES, Authenticator
from ironworks.auth.htpasswd import HtpasswdFile
from ironworks.auth.middleware import AuthMiddleware
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
    return Authenticator(settings.effective_auth_strategy, UserRepo(services.db), htpasswd)


def install(app: Starlette, services: Services) -> None:
    """Wrap ``app`` in the authentication + audit middleware."""
    settings = services.settings
    check(settings)
    app.add_middleware(
        AuthMiddleware,
        authenticator=authenticator(settings, services),  # type: ignore[arg-type]
        recorder=AuditRecorder(AuditRepo(services.db)),
        realm=settings.http_basic_realm,
    )
