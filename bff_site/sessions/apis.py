"""Sign-in, sign-out and the session summary the web client reads first."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET, require_POST

from bff_site.sessions import services
from shared.problems import DomainError, from_domain_error, problem


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
    url = services.login_begin(session=request.session, next_url=request.GET.get("next"))
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


@require_GET
@_problems
def callback(request: HttpRequest) -> HttpResponse:
    if "error" in request.GET:
        return problem(
            400,
            "Sign-in failed",
            str(request.GET.get("error_description") or request.GET["error"]),
            slug="login-failed",
        )
    code, state = request.GET.get("code"), request.GET.get("state")
    if not code or not state:
        return problem(400, "Sign-in failed", "code and state are required", slug="login-failed")
    next_url = services.login_complete(session=request.session, code=code, state=state)
    return HttpResponseRedirect(next_url)


@require_POST
@_problems
def logout(request: HttpRequest) -> HttpResponse:
    url = services.logout(session=request.session)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"redirect": url})
    return HttpResponseRedirect(url)


@require_GET
@_problems
def session_summary(request: HttpRequest) -> JsonResponse:
    user = services.session_user(session=request.session)
    roles = (user or {}).get("roles", [])
    return JsonResponse(
        {
            "authenticated": user is not None,
            "user": user,
            "csrf_token": get_token(request),
            "admin_url": f"{settings.ORDER_PUBLIC_URL}/admin/" if "manager" in roles else None,
        }
    )
