"""OAuth endpoints where CoffeeShop differs from django-oauth-toolkit's views."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_safe
from oauth2_provider.exceptions import (
    InvalidIDTokenError,
    InvalidOIDCRedirectURIError,
    LogoutDenied,
    OIDCError,
)
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import (
    ConnectDiscoveryInfoView,
    IntrospectTokenView,
    RPInitiatedLogoutView,
    TokenView,
)
from oauthlib.common import add_params_to_uri

from identity_site.accounts.selectors import role_names
from identity_site.oauth.cache import (
    introspection_cached,
    introspection_evict,
    introspection_store,
    token_checksum,
)
from identity_site.oauth.signing_keys import current_key_ring, refresh_seconds
from identity_site.oauth.validators import ALLOWED_GRANT_TYPES

INACTIVE = {"active": False}


@method_decorator(csrf_exempt, name="dispatch")
class GrantCheckedTokenView(TokenView):
    """The token endpoint, answering grant types we do not offer before the library sees
    them (its device-code branch fails with a 500 on a request without device_code)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        grant_type = request.POST.get("grant_type", "")
        if grant_type not in ALLOWED_GRANT_TYPES:
            # RFC 6749 section 5.2.
            return JsonResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Use authorization_code, refresh_token or "
                    "client_credentials.",
                },
                status=400,
                headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
            )
        return super().post(request, *args, **kwargs)

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """The library's, without reading the token just issued back from the database
        when nobody listens to `app_authorized` (its only use): that SELECT was a third
        of a client_credentials token's CPU."""
        if app_authorized.has_listeners():
            return super().authorization_flow_token_response(request, *args, **kwargs)
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response


@method_decorator(csrf_exempt, name="dispatch")
class CachedIntrospectTokenView(IntrospectTokenView):
    """RFC 7662 introspection, POST only (a token in a query string ends up in logs).

    The caller authenticates as a client (HTTP Basic or a bearer token holding the
    `introspection` scope). Active answers are cached in Redis until the token expires
    (at most INTROSPECTION_CACHE_SECONDS) and evicted when the token is revoked.
    """

    http_method_names = ["post", "options"]

    @staticmethod
    def get_token_response(token_value: str | None = None) -> JsonResponse:
        if not token_value:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "Token parameter is missing."},
                status=400,
            )
        checksum = token_checksum(token_value)
        cached = introspection_cached(checksum=checksum)
        if cached is not None:
            return JsonResponse(cached)
        answer, ttl = _introspect(checksum)
        if answer["active"]:
            introspection_store(checksum=checksum, answer=answer, ttl=ttl)
            # A revocation that landed between our read and our write evicted nothing;
            # look once more so a revoked token is never served from the cache.
            if not get_access_token_model().objects.filter(token_checksum=checksum).exists():
                introspection_evict(checksum=checksum)
                return JsonResponse(INACTIVE)
        return JsonResponse(answer)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        return self.get_token_response(request.POST.get("token"))


# What an answer needs, read in one query as values (no model instances): the token's
# own columns, its client's id and its user's, instead of three whole rows.
_ANSWER_COLUMNS = (
    "expires",
    "created",
    "scope",
    "resource",
    "application__client_id",
    "user_id",
    "user__is_active",
    f"user__{get_user_model().USERNAME_FIELD}",
    "user__role",
)


def _introspect(checksum: str) -> tuple[dict[str, Any], int]:
    """(RFC 7662 answer, seconds it may be cached) for the token with this checksum.

    Inactive for an unknown or expired token (django-oauth-toolkit's `is_valid()`
    without scopes: an expiry, and now before it) and for one of a deactivated user."""
    rows = (
        get_access_token_model()
        .objects.filter(token_checksum=checksum)
        .values_list(*_ANSWER_COLUMNS)[:1]
    )
    found = next(iter(rows), None)
    if found is None:
        return dict(INACTIVE), 0
    expires, created, scope, resource, client_id, user_id, user_active, username, role = found
    now = timezone.now()
    if not expires or now >= expires:
        return dict(INACTIVE), 0
    if user_id is not None and not user_active:
        return dict(INACTIVE), 0
    answer: dict[str, Any] = {
        "active": True,
        "scope": scope,
        "token_type": "Bearer",
        "exp": int(expires.timestamp()),
        "iat": int(created.timestamp()),
    }
    if client_id is not None:
        answer["client_id"] = client_id
    if user_id is not None:
        answer["sub"] = str(user_id)
        answer["username"] = username
        answer["roles"] = role_names(role=role)
    if resource:
        answer["aud"] = resource
    remaining = int((expires - now).total_seconds())
    return answer, min(remaining, settings.INTROSPECTION_CACHE_SECONDS)


class DiscoveryView(ConnectDiscoveryInfoView):
    """OpenID Provider metadata, completed with the RFC 8414 endpoints we serve and
    stating only what we accept: RS256 ID tokens, S256 PKCE, our three grant types."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            introspection_endpoint=self._get_endpoint_url(request, "introspect", required=True),
            revocation_endpoint=self._get_endpoint_url(request, "revoke-token", required=True),
            grant_types_supported=oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED,
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            scopes_supported=list(oauth2_settings.SCOPES),
        )
        answer = JsonResponse(data)
        answer["Access-Control-Allow-Origin"] = "*"
        return answer


@require_safe
def jwks(request: HttpRequest) -> JsonResponse:
    """The JWK Set (RFC 7517) of every key whose ID tokens may still be alive: the signing
    key and the retired keys within their retirement window, each with its `kid`.

    Relying parties may cache it for the refresh interval; one that meets an unknown
    `kid` fetches it again (OIDC Core section 10.1.1), as the BFF does.
    """
    answer = JsonResponse(current_key_ring().jwks())
    answer["Access-Control-Allow-Origin"] = "*"
    answer["Cache-Control"] = f"public, max-age={refresh_seconds()}"
    return answer


@method_decorator(csrf_exempt, name="dispatch")
class ExactRPInitiatedLogoutView(RPInitiatedLogoutView):
    """OIDC RP-initiated logout, as the BFF's sign-out uses it.

    - A relying party may POST the request (RP-Initiated Logout 1.0 §2), so its
      `id_token_hint` never travels in a URL. Such a POST comes from the RP's page
      without our CSRF token; the hint (an ID token only that RP holds) is what makes
      it the RP's. Every other POST (our confirmation form) is CSRF-checked.
    - post_logout_redirect_uri must equal a registered URI exactly (the library lets a
      loopback URI differ in its port).
    - An ID token we no longer know (expired and cleaned up) counts as no hint: the
      person is asked, rather than shown an error.
    - When the person must be asked (the hint names someone else than who is signed in
      here, or is unknown), the RP's POST shows the question rather than being taken
      as "no". The question's form never carries the hint, so its answer is
      CSRF-checked and acts for the person who answers it.
    - "Stay signed in" on the confirmation page goes back to the app that asked (its
      registered post-logout URI), not to a bare `logout_denied` error.
    """

    _back_to: tuple[Any, str, str | None] | None = None

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.POST.get("id_token_hint"):
            check = CsrfViewMiddleware(lambda _request: HttpResponse())
            refused = check.process_view(request, lambda _request: HttpResponse(), (), {})
            if refused is not None:
                return refused
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_initial()
        initial["id_token_hint"] = None
        return initial

    def form_valid(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        if data.get("id_token_hint") and not data.get("allow"):
            try:
                application, token_user = self.validate_logout_request(
                    id_token_hint=data["id_token_hint"],
                    client_id=data.get("client_id"),
                    post_logout_redirect_uri=data.get("post_logout_redirect_uri"),
                )
            except OIDCError as error:
                return self.error_response(error)
            if self.must_prompt(token_user):
                self.oidc_data = {
                    "client_id": data.get("client_id"),
                    "post_logout_redirect_uri": data.get("post_logout_redirect_uri"),
                    "state": data.get("state"),
                }
                question = self.form_class(initial=self.get_initial())
                return self.render_to_response(
                    self.get_context_data(form=question, application=application)
                )
        return super().form_valid(form)

    def validate_logout_request_user(self, id_token_hint: str | None, client_id: str | None) -> Any:
        try:
            return super().validate_logout_request_user(id_token_hint, client_id)
        except InvalidIDTokenError:
            return None

    def validate_post_logout_redirect_uri(
        self, application: Any, post_logout_redirect_uri: str | None
    ) -> None:
        if (
            post_logout_redirect_uri
            and application is not None
            and post_logout_redirect_uri not in application.post_logout_redirect_uris.split()
        ):
            raise InvalidOIDCRedirectURIError(
                "This client does not have this redirect uri registered."
            )
        super().validate_post_logout_redirect_uri(application, post_logout_redirect_uri)
        if post_logout_redirect_uri and application is not None:
            state = self.request.POST.get("state") or self.request.GET.get("state")
            self._back_to = (application, post_logout_redirect_uri, state or None)

    def error_response(self, error: OIDCError) -> HttpResponse:
        if isinstance(error, LogoutDenied) and self._back_to is not None:
            application, uri, state = self._back_to
            if state:
                uri = add_params_to_uri(uri, [("state", state)])
            return OAuth2ResponseRedirect(uri, application.get_allowed_schemes())
        return super().error_response(error)
