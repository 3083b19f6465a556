"""Reads about OAuth clients."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from oauth2_provider.models import Application

from identity_site.oauth.models import ClientPolicy

_origins: tuple[float, tuple[str, ...]] = (0.0, ())
_origins_lock = threading.Lock()


def client_allowed_scopes(*, application: Any) -> list[str]:
    """The scopes `application` may be granted (empty without a policy); memoised on the row."""
    cached = getattr(application, "_allowed_scopes", None)
    if cached is None:
        cached = list(
            ClientPolicy.objects.filter(application_id=application.pk)
            .values_list("allowed_scopes", flat=True)
            .first()
            or []
        )
        application._allowed_scopes = cached
    return list(cached)


def client_redirect_origins() -> tuple[str, ...]:
    """The origins (scheme://host:port) of every registered redirect and post-logout
    redirect URI, sorted; kept in this process for CLIENT_CACHE_SECONDS like client rows."""
    global _origins
    expires, origins = _origins
    if expires > time.monotonic():
        return origins
    found: set[str] = set()
    rows = Application.objects.filter(
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE
    ).values_list("redirect_uris", "post_logout_redirect_uris")
    for redirect_uris, logout_uris in rows:
        for uri in f"{redirect_uris} {logout_uris}".split():
            parts = urlsplit(uri)
            if parts.scheme in ("http", "https") and parts.netloc:
                found.add(f"{parts.scheme}://{parts.netloc}")
    origins = tuple(sorted(found))
    with _origins_lock:
        _origins = (time.monotonic() + settings.CLIENT_CACHE_SECONDS, origins)
    return origins
