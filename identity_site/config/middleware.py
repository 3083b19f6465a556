"""Security headers on every answer of Identity: a strict Content-Security-Policy on its
pages (as the BFF has) and the usual hardening headers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from identity_site.oauth.selectors import client_redirect_origins

# Django admin ships inline scripts and styles of its own; the API docs page (Redoc)
# loads its script from a CDN. They get only what cannot break them.
LOOSE_PREFIXES = ("/admin/", "/api/docs/")
LOOSE_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
# Discovery and the JWKS are read cross-origin on purpose.
PUBLIC_PREFIXES = ("/o/.well-known/",)


class SecurityHeadersMiddleware:
    """CONTENT_SECURITY_POLICY on every answer outside LOOSE_PREFIXES, plus `form-action`.

    A form here may end somewhere else: the login form redirects to /o/authorize/, which
    redirects to the client's redirect URI, and browsers check `form-action` along the
    redirects. So an HTML page allows its forms 'self' and the origins of the registered
    clients' redirect URIs (identity_site/oauth/selectors.py), nothing else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(LOOSE_PREFIXES):
            response.setdefault("Content-Security-Policy", LOOSE_POLICY)
        else:
            form_action = "'self'"
            if response.get("Content-Type", "").startswith("text/html"):
                form_action = " ".join(["'self'", *client_redirect_origins()])
            response.setdefault(
                "Content-Security-Policy",
                f"{settings.CONTENT_SECURITY_POLICY}; form-action {form_action}",
            )
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        corp = "cross-origin" if request.path.startswith(PUBLIC_PREFIXES) else "same-origin"
        response.setdefault("Cross-Origin-Resource-Policy", corp)
        return response
