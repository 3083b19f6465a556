"""Sign-in, sign-out and the session summary the web client reads first.

The `auth/` endpoints are browser navigations (redirects to and from Identity, HTML
pages), so they stay plain Django views; the summary is an API view like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from bff_site.sessions import services
from bff_site.sessions.apiview import SessionAPIView
from bff_site.sessions.authentication import Public, caller
from bff_site.sessions.serializers import SessionSerializer
from bff_site.web.apps import WebConfig
from shared.problems import DomainError, from_domain_error, problem

# The end-session form between the sign-out POST and the page that sends it (one use).
END_SESSION_KEY = "end_session"
# The cart the server-rendered pages' plain forms fill (coffeeshop_client.cart.CART_COOKIE;
# tests/bff/test_oidc_sign_in.py checks they agree): gone with the person who signs out,
# even when Python never ran on this device to empty it.
CART_COOKIE = "coffeeshop_cart"

# What a person reads when Identity sends them back with an error (RFC 6749 §4.1.2.1).
SIGN_IN_ERRORS = {
    "access_denied": (
        "Sign-in cancelled",
        "The sign-in was cancelled, so you are not signed in.",
    ),
    "login_required": ("Sign-in needed", "Please sign in with your e-mail address and password."),
    "temporarily_unavailable": (
        "Sign-in is busy",
        "The sign-in service is busy right now. Please try again in a minute.",
    ),
    "server_error": (
        "Sign-in is not working",
        "The sign-in service had a problem. Please try again in a minute.",
    ),
}


def _problems(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except DomainError as exc:
            return from_domain_error(exc)

    return wrapper


@require_GET
@_problems
def login(request: HttpRequest) -> HttpResponse:
    url = services.login_begin(
        session=request.session,
        next_url=request.GET.get("next"),
        prompt=services.sign_in_prompt(session=request.session),
    )
    return HttpResponseRedirect(url)


@require_GET
@_problems
def register(request: HttpRequest) -> HttpResponse:
    """Identity's registration page; once registered, straight on into the sign-in flow.

    `next` is the authorization request itself (a path on Identity), so the new
    customer comes back here signed in without typing the password again.
    """
    authorize = urlsplit(
        services.login_begin(session=request.session, next_url=request.GET.get("next"))
    )
    query = urlencode({"next": urlunsplit(("", "", authorize.path, authorize.query, ""))})
    return HttpResponseRedirect(
        f"{settings.IDENTITY_PUBLIC_URL}{settings.IDENTITY_REGISTER_PATH}?{query}"
    )


def _wants_json(request: HttpRequest) -> bool:
    """An API client that asked for JSON (a browser's navigation asks for text/html)."""
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def _page(
    request: HttpRequest, template: str, context: dict[str, object], status: int
) -> HttpResponse:
    config = apps.get_app_config("web")
    assets = config.assets if isinstance(config, WebConfig) else None
    response = render(request, template, {**context, "assets": assets}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _sign_in_failed(
    request: HttpRequest, status: int, title: str, detail: str, slug: str = "login-failed"
) -> HttpResponse:
    """Problem details for API clients; for a person, a page saying what happened with a
    way to try again and a way home."""
    if _wants_json(request):
        return problem(status, title, detail, slug=slug)
    return _page(
        request, "sessions/sign_in_failed.html", {"title": title, "detail": detail}, status
    )


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    if "error" in request.GET:
        error = str(request.GET["error"])
        title, detail = SIGN_IN_ERRORS.get(
            error,
            ("Sign-in failed", str(request.GET.get("error_description") or error)),
        )
        return _sign_in_failed(request, 400, title, detail)
    code, state = request.GET.get("code"), request.GET.get("state")
    if not code or not state:
        return _sign_in_failed(
            request,
            400,
            "Sign-in failed",
            "This sign-in link is incomplete: code and state are required.",
        )
    try:
        next_url = services.login_complete(session=request.session, code=code, state=state)
    except DomainError as exc:
        return _sign_in_failed(request, exc.status, exc.title, exc.detail, exc.slug)
    return HttpResponseRedirect(next_url)


@require_POST
@_problems
def logout(request: HttpRequest) -> HttpResponse:
    """End the session here, then Identity's: a page whose form POSTs the ID token to
    Identity's end-session endpoint (sent by a static script; a button without script).

    A JSON client gets `{"redirect": "/"}`: its next sign-in asks for the password, but
    Identity's session is ended only by the page (the ID token stays out of JSON and URLs).
    """
    end = services.logout(session=request.session)
    response: HttpResponse
    if request.headers.get("Accept", "").startswith("application/json"):
        response = JsonResponse({"redirect": "/"})
    elif end is None:
        response = HttpResponseRedirect("/")
    else:
        # Post/Redirect/Get: the page is a GET, so "Back" after signing out reloads it
        # (and finds it used up) instead of a "confirm form resubmission" error.
        request.session[END_SESSION_KEY] = {"url": end.url, "fields": end.fields}
        response = HttpResponseRedirect(reverse("signed-out"), status=303)
    response.delete_cookie(CART_COOKIE, path="/", samesite="Lax")
    return response


@require_GET
def signed_out(request: HttpRequest) -> HttpResponse:
    """The page that ends Identity's session, once: its form is handed out a single time;
    coming back to it later (the browser's Back button) goes to the menu."""
    end = request.session.pop(END_SESSION_KEY, None)
    if not isinstance(end, dict):
        return HttpResponseRedirect("/")
    return _page(request, "sessions/end_session.html", {"end": end}, 200)


class SessionApi(SessionAPIView):
    permission_classes = [Public]

    @extend_schema(
        summary="Who is signed in, and the CSRF token", responses={200: SessionSerializer}
    )
    def get(self, request: Request) -> Response:
        user = caller(request)
        roles = (user or {}).get("roles", [])
        return Response(
            {
                "authenticated": user is not None,
                "user": user,
                "csrf_token": get_token(request._request),
                "admin_url": f"{settings.ORDER_PUBLIC_URL}/admin/" if "manager" in roles else None,
            }
        )
