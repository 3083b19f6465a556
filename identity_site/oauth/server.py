"""The oauthlib server django-oauth-toolkit builds, narrowed to what CoffeeShop allows."""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server

# RFC 7636 section 4.2 allows "plain"; RFC 9700 section 2.1.1 says use S256. With only
# S256 known, oauthlib answers an authorization request with code_challenge_method=plain
# (or none, which RFC 7636 defaults to plain) with error=invalid_request before a code
# is ever issued.
S256_ONLY = {"S256": code_challenge_method_s256}


class CoffeeShopServer(Server):
    """OIDC server whose authorization-code grants accept PKCE S256 and nothing else."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = S256_ONLY
