"""CoffeeShop's OAuth2/OIDC request validator (django-oauth-toolkit's extension point).

Narrows the library to what DESIGN.md allows (authorization code with PKCE,
refresh token, client credentials; no implicit, password, hybrid or device
grant) and adds the `email`, `name` and `roles` claims to ID tokens and userinfo.
A replayed authorization code revokes what its first exchange issued, and no token
is issued to, refreshed for or accepted from a deactivated user.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import router, transaction
from jwcrypto import jws, jwt
from oauth2_provider.models import Application, Grant, IDToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from identity_site.accounts.selectors import user_is_active_locked, user_roles
from identity_site.oauth.services import (
    CodeAlreadyRedeemed,
    code_redemption_record,
    code_replay_revoke,
)
from identity_site.oauth.signing_keys import current_key_ring

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

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """The library's check, plus two of ours.

        A code without its Grant row was redeemed before (the library deletes the row at
        the exchange) or never issued; if it was redeemed, the tokens of that first
        exchange are revoked (RFC 6749 section 4.1.2, RFC 9700 section 2.1.1). A code of a
        user deactivated since is refused. The Grant is kept on the request for the PKCE
        and redirect-URI checks that follow, so a concurrent exchange deleting it cannot
        turn them into a 500.
        """
        grant = Grant.objects.select_related("user").filter(code=code, application=client).first()
        if grant is None:
            code_replay_revoke(application=client, code=code)
            return False
        if grant.is_expired() or not grant.user.is_active:
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        request.coffeeshop_grant = grant
        return True

    def _grant(self, code: str, request: Any) -> Any:
        grant = getattr(request, "coffeeshop_grant", None)
        if grant is not None and grant.code == code:
            return grant
        return Grant.objects.get(code=code, application=request.client)

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        return self._grant(code, request).code_challenge or None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        return self._grant(code, request).code_challenge_method or None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return bool(self._grant(code, request).redirect_uri_allowed(redirect_uri))

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """The library's check (rotation, reuse detection), and the user must be active."""
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        return bool(valid) and bool(request.user.is_active)

    def validate_bearer_token(self, token: Any, scopes: Any, request: Any) -> bool:
        """A token of a deactivated user is not accepted (userinfo, the users API)."""
        valid = super().validate_bearer_token(token, scopes, request)
        return bool(valid) and (request.user is None or bool(request.user.is_active))

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except CodeAlreadyRedeemed:
            # Lost the race against another exchange of the same code: what this one
            # issued is rolled back, what the other one issued is revoked here.
            code_replay_revoke(application=request.client, code=request.code)
            raise errors.InvalidGrantError(request=request) from None

    def _save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The library's save, in its transaction, between two checks of ours.

        Before: the user's row is locked and must be active, so a deactivation either
        waits for this issuance (and then revokes its tokens too) or is seen by it.
        After: an authorization code records what it was exchanged for.
        """
        for_user = request.grant_type in ("authorization_code", "refresh_token") and request.user
        if for_user and not user_is_active_locked(user_id=request.user.pk):
            raise errors.InvalidGrantError(
                description="The account is not active.", request=request
            )
        saved = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            code_redemption_record(
                application=request.client,
                code=request.code,
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
            )
        return saved

    def get_additional_claims(self) -> dict[str, Callable[[Any], Any]]:
        """Claims beyond `sub`; request-agnostic so discovery can list them in claims_supported."""
        return {
            "name": lambda request: request.user.full_name,
            "email": lambda request: request.user.email,
            # True once the person followed the link mailed at registration.
            "email_verified": lambda request: request.user.email_verified,
            "roles": lambda request: user_roles(user=request.user),
        }

    def finalize_id_token(self, id_token: Any, token: Any, token_handler: Any, request: Any) -> str:
        """The library's method, signing RS256 ID tokens with the key ring's current key
        (which follows rotations) instead of the key in the settings at start-up."""
        if request.client.algorithm != Application.RS256_ALGORITHM:
            return str(super().finalize_id_token(id_token, token, token_handler, request))
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        # oauthlib bug #746, as in the library.
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = current_key_ring().signing
        header = {"typ": "JWT", "alg": Application.RS256_ALGORITHM, "kid": key.thumbprint()}
        signed = jwt.JWT(
            header=json.dumps(header, default=str), claims=json.dumps(id_token, default=str)
        )
        signed.make_signed_token(key)
        with transaction.atomic(using=router.db_for_write(IDToken)):
            saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return str(signed.serialize())

    def _get_key_for_token(self, token: str) -> Any:
        """Keys to check an ID token we signed (e.g. an id_token_hint at logout): every
        published key for RS256 clients, so a token from before a rotation still counts."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        claims = json.loads(unverified.objects["payload"].decode("utf-8"))
        if "aud" not in claims:
            return None
        application = self._get_client_by_audience(claims["aud"])
        if application is None:
            return None
        if application.algorithm == Application.RS256_ALGORITHM:
            return current_key_ring().verification_keys()
        return application.jwk_key
