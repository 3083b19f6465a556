"""CoffeeShop's OAuth2/OIDC request validator (django-oauth-toolkit's extension point).

Narrows the library to what DESIGN.md allows (authorization code with PKCE,
refresh token, client credentials; no implicit, password, hybrid or device
grant) and adds the `email`, `name` and `roles` claims to ID tokens and userinfo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from identity_site.accounts.selectors import user_roles

ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
ALLOWED_RESPONSE_TYPES = frozenset({"code"})


class CoffeeShopValidator(OAuth2Validator):
    # Which scope releases which claim (OIDC Core section 5.4; `roles` is ours).
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "email": "email",
        "email_verified": "email",
        "roles": "roles",
    }

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
