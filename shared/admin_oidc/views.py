"""Sign-in to the Django admin through Identity: authorization code + PKCE (S256).

`GET /admin/oidc/start` sends the browser to Identity with a fresh state, nonce and PKCE
challenge kept in the site's session; `GET /admin/oidc/callback` checks the state,
exchanges the code (the site is its own confidential client: HTTP Basic with its
secret), verifies the ID token against Identity's JWKS (shared/oidc.py: signature, iss,
aud, azp, exp, iat, nonce), then creates or updates the local Django user keyed by the token's `sub`
(`admin_user_sync`). Only managers get admin access: staff with the "managers" group
and the permissions the site lists; anyone else is refused with a page saying so, and
a manager who lost the role loses admin access at the next sign-in.

ADMIN_OIDC setting (a dict): CLIENT_ID, CLIENT_SECRET (from the site's Vault secret),
IDENTITY_URL (the server-to-server address), IDENTITY_PUBLIC_URL (what browsers reach),
MANAGER_PERMISSIONS (["app_label.codename", ...] the "managers" group holds).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shared import oidc

logger = logging.getLogger("coffeeshop.admin_oidc")

SESSION_KEY = "admin_oidc_pending"
SCOPES = "openid profile email roles"
MANAGERS_GROUP = "managers"
USERNAME_PREFIX = "identity-"
BACKEND = "django.contrib.auth.backends.ModelBackend"
TIMEOUT = 5.0
# A sign-in started longer ago than this is refused (the state is single-use anyway).
PENDING_SECONDS = 600


class SignInRefused(Exception):
    """The sign-in cannot go on; `status` and the texts become the page shown."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def config() -> dict[str, Any]:
    conf: dict[str, Any] = getattr(settings, "ADMIN_OIDC")  # noqa: B009 - a site setting
    return conf


def admin_oidc_urls() -> list[URLPattern]:
    """The two views, to put before `admin.site.urls` (`path("admin/oidc/", ...)`)."""
    return [
        path("admin/oidc/start", admin_oidc_start, name="admin-oidc-start"),
        path("admin/oidc/callback", admin_oidc_callback, name="admin-oidc-callback"),
    ]


# ---- Identity ------------------------------------------------------------------------


def _identity_get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=TIMEOUT)


def _server_url(url: str) -> str:
    """An endpoint from discovery, reached at IDENTITY_URL (the server-to-server address)."""
    base = urlsplit(config()["IDENTITY_URL"])
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def _public_url(url: str) -> str:
    """An endpoint from discovery as the browser must reach it (IDENTITY_PUBLIC_URL)."""
    base = urlsplit(config().get("IDENTITY_PUBLIC_URL") or config()["IDENTITY_URL"])
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def _discovery() -> dict[str, Any]:
    base = config()["IDENTITY_URL"].rstrip("/")
    try:
        response = _identity_get(f"{base}/o/.well-known/openid-configuration")
    except httpx.HTTPError:
        response = None
    if response is None or response.status_code != 200:
        raise SignInRefused(
            503, "CoffeeShop sign-in is unavailable", "Identity did not answer; try again soon."
        )
    doc: dict[str, Any] = response.json()
    return doc


def _redirect_uri(request: HttpRequest) -> str:
    # Registered exactly at Identity (devstack/clients.py, the client catalogue).
    return request.build_absolute_uri("/admin/oidc/callback")


def _token_exchange(*, doc: dict[str, Any], code: str, verifier: str, redirect_uri: str) -> str:
    conf = config()
    try:
        response = httpx.post(
            _server_url(doc["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
            },
            auth=(conf["CLIENT_ID"], conf["CLIENT_SECRET"]),
            timeout=TIMEOUT,
        )
    except httpx.HTTPError:
        raise SignInRefused(
            503, "CoffeeShop sign-in is unavailable", "Identity did not answer; try again soon."
        ) from None
    if response.status_code != 200:
        logger.warning("admin sign-in: the token endpoint refused the code: %s", response.text)
        raise SignInRefused(
            400, "Sign-in failed", "Identity refused this sign-in; please sign in again."
        )
    id_token = response.json().get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused(400, "Sign-in failed", "Identity sent no ID token.")
    return id_token


def _verified_claims(*, doc: dict[str, Any], id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once it passes OIDC Core 1.0 section 3.1.3.7 (shared/oidc.py)."""

    def key_set(fresh: bool) -> dict[str, Any]:
        keys: dict[str, Any] = _identity_get(_server_url(doc["jwks_uri"])).json()
        return keys

    try:
        return oidc.id_token_claims(
            id_token,
            key_set=key_set,
            issuer=doc["issuer"],
            client_id=config()["CLIENT_ID"],
            nonce=nonce,
        )
    except (oidc.IdTokenRefused, httpx.HTTPError, ValueError) as exc:
        logger.warning("admin sign-in: ID token refused: %s", exc)
        raise SignInRefused(400, "Sign-in failed", "The sign-in could not be verified.") from None


# ---- the local user ------------------------------------------------------------------


def _managers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    wanted = config().get("MANAGER_PERMISSIONS", [])
    permissions = []
    for name in wanted:
        app_label, codename = name.split(".", 1)
        found = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if found is None:
            logger.warning("admin sign-in: no permission %s for the managers group", name)
            continue
        permissions.append(found)
    group.permissions.set(permissions)
    return group


@transaction.atomic
def admin_user_sync(*, claims: dict[str, Any]) -> User:
    """Create or update the local user of Identity's `sub` from verified ID-token claims.

    A manager is staff in the "managers" group (never superuser); anyone else keeps no
    admin access (not staff, no group). Baristas work from the app's queue, not here.
    """
    is_manager = "manager" in (claims.get("roles") or [])
    user, created = User.objects.get_or_create(username=f"{USERNAME_PREFIX}{claims['sub']}"[:150])
    if created:
        user.set_unusable_password()
    user.email = str(claims.get("email") or "")[:254]
    user.first_name = str(claims.get("name") or "")[:150]
    user.is_staff = is_manager
    user.is_superuser = False
    user.is_active = True
    user.save()
    group = _managers_group()
    if is_manager:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    return user


# ---- views ---------------------------------------------------------------------------


def _refused(request: HttpRequest, error: SignInRefused) -> HttpResponse:
    response = render(
        request,
        "admin_oidc/refused.html",
        {"title": error.title, "detail": error.detail},
        status=error.status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _next_path(request: HttpRequest, candidate: str | None) -> str:
    if (
        candidate
        and candidate.startswith("/admin/")
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})
    ):
        return candidate
    return "/admin/"


@never_cache
@require_GET
def admin_oidc_start(request: HttpRequest) -> HttpResponse:
    try:
        doc = _discovery()
    except SignInRefused as error:
        return _refused(request, error)
    redirect_uri = _redirect_uri(request)
    sign_in = oidc.authorization_request(
        endpoint=_public_url(doc["authorization_endpoint"]),
        client_id=config()["CLIENT_ID"],
        redirect_uri=redirect_uri,
        scope=SCOPES,
    )
    request.session[SESSION_KEY] = {
        "state": sign_in.state,
        "nonce": sign_in.nonce,
        "verifier": sign_in.code_verifier,
        "redirect_uri": redirect_uri,
        "next": _next_path(request, request.GET.get("next")),
        "at": time.time(),
    }
    return HttpResponseRedirect(sign_in.url)


@never_cache
@require_GET
def admin_oidc_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    try:
        if request.GET.get("error"):
            raise SignInRefused(400, "Sign-in cancelled", "You are not signed in.")
        state = request.GET.get("state", "")
        if (
            not isinstance(pending, dict)
            or not state
            or not secrets.compare_digest(state, pending["state"])
            or time.time() - pending["at"] > PENDING_SECONDS
        ):
            raise SignInRefused(
                400,
                "Sign-in expired",
                "This sign-in link has expired or was already used; please sign in again.",
            )
        code = request.GET.get("code", "")
        if not code:
            raise SignInRefused(400, "Sign-in failed", "Identity sent no authorization code.")
        doc = _discovery()
        id_token = _token_exchange(
            doc=doc, code=code, verifier=pending["verifier"], redirect_uri=pending["redirect_uri"]
        )
        claims = _verified_claims(doc=doc, id_token=id_token, nonce=pending["nonce"])
        user = admin_user_sync(claims=claims)
        if not user.is_staff:
            raise SignInRefused(
                403,
                "No admin access",
                "Your CoffeeShop account has no access to this admin: it is for managers. "
                "Baristas and customers use the CoffeeShop app.",
            )
    except SignInRefused as error:
        if error.status == 403 and request.user.is_authenticated:
            logout(request)
        return _refused(request, error)
    # cast: mypy's settings take Identity's AUTH_USER_MODEL; these sites use Django's User.
    login(request, cast(Any, user), backend=BACKEND)
    logger.info("admin sign-in of %s through Identity", user.username)
    return HttpResponseRedirect(pending["next"])
