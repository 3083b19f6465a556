"""CoffeeShop's OAuth2/OIDC request validator (django-oauth-toolkit's extension point).

Narrows the library to what DESIGN.md allows (authorization code with PKCE,
refresh token, client credentials; no implicit, password, hybrid or device
grant) and adds the `email`, `name` and `roles` claims to ID tokens and userinfo.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator

from identity_site.accounts.selectors import user_roles

ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
ALLOWED_RESPONSE_TYPES = frozenset({"code"})


class _ClientCache:
    """Application rows by client_id, kept in this process for CLIENT_CACHE_SECONDS.

    Every token and introspection request authenticates a client; reading its row from
    PostgreSQL was half the cost of a cached introspection. The secret is still checked
    against the (hashed) secret of the cached row on every request. The price: a client
    whose secret, grant or scopes change, or that is deleted, keeps its old row in each
    worker for at most CLIENT_CACHE_SECONDS.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[float, Application]] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> Application | None:
        entry = self._rows.get(client_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, client: Application) -> None:
        ttl = settings.CLIENT_CACHE_SECONDS
        if ttl > 0:
            with self._lock:
                self._rows[client.client_id] = (time.monotonic() + ttl, client)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


client_cache = _ClientCache()


class CoffeeShopValidator(OAuth2Validator):
    # Which scope releases which claim (OIDC Core section 5.4; `roles` is ours).
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "email": "email",
        "email_verified": "email",
        "roles": "roles",
    }

    def _load_application(self, client_id: str, request: Any) -> Any:
        if not request.client:
            cached = client_cache.get(client_id)
            if cached is not None:
                request.client = cached
        client = super()._load_application(client_id, request)
        if client is not None:
            client_cache.put(client)
        return client

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return bool(super().validate_grant_type(client_id, grant_type, client, request))

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if response_type not in ALLOWED_RESPONSE_TYPES:
            return False
        return bool(super().validate_response_type(client_id, response_type, client, request))

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Exact string match against a registered URI (RFC 9700 section 4.1.3).

        The library also lets a loopback redirect URI differ in its port (RFC 8252
        section 7.3, meant for native apps); our clients are web servers on fixed
        ports, so any other port is refused as well.
        """
        registered = request.client.redirect_uris.split()
        return redirect_uri in registered and bool(
            super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)
        )

    def get_additional_claims(self) -> dict[str, Callable[[Any], Any]]:
        """Claims beyond `sub`; request-agnostic so discovery can list them in claims_supported."""
        return {
            "name": lambda request: request.user.full_name,
            "email": lambda request: request.user.email,
            # We do not verify addresses yet (no confirmation mail at registration).
            "email_verified": lambda request: False,
            "roles": lambda request: user_roles(user=request.user),
        }
