"""OIDC login for browsers (DESIGN.md auth flow 1): code + PKCE, tokens kept in the session.

The session lives in Redis; the browser holds only the `__Host-` session cookie.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.utils.http import url_has_allowed_host_and_scheme

from bff_site.clients import identity
from bff_site.sessions import people
from shared import oidc
from shared.problems import DomainError

PENDING_KEY = "oidc_pending"
TOKENS_KEY = "oidc_tokens"
USER_KEY = "user"
# Set on the fresh session that sign-out leaves behind: the next sign-in from this
# browser sends prompt=login, so Identity asks for the password even if its own
# session survived the RP-initiated logout (OIDC Core 1.0 §3.1.2.1).
SIGNED_OUT_KEY = "signed_out"
# The people.py news sequence number read before the code exchange: news numbered
# higher came after the ID token was issued and overrides its claims.
NEWS_SEQ_KEY = "news_seq"
MAX_PENDING = 5
PENDING_TTL = 600
REFRESH_MARGIN = 30  # refresh this many seconds before the access token expires


class LoginFailed(DomainError):
    status, slug, title = 400, "login-failed", "Sign-in failed"


def callback_url() -> str:
    return settings.BFF_PUBLIC_URL.rstrip("/") + "/auth/callback"


def safe_next(url: str | None) -> str:
    """Only same-site relative paths are accepted as a place to return to."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return "/"


def sign_in_prompt(*, session: SessionBase) -> str | None:
    """`login` when this browser signed out since its last sign-in, else None."""
    return "login" if session.get(SIGNED_OUT_KEY) else None


def login_begin(*, session: SessionBase, next_url: str | None, prompt: str | None = None) -> str:
    """Remember state, nonce and PKCE verifier; answer Identity's authorization URL."""
    request = oidc.authorization_request(
        endpoint=identity.public_url(identity.discovery()["authorization_endpoint"]),
        client_id=settings.OIDC_CLIENT_ID,
        redirect_uri=callback_url(),
        scope=settings.OIDC_SCOPES,
        prompt=prompt,
    )
    pending: dict[str, Any] = dict(session.get(PENDING_KEY, {}))
    now = time.time()
    pending = {k: v for k, v in pending.items() if now - v["at"] < PENDING_TTL}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["at"]))
    pending[request.state] = {
        "verifier": request.code_verifier,
        "nonce": request.nonce,
        "next": safe_next(next_url),
        "at": now,
    }
    session[PENDING_KEY] = pending
    return request.url


def login_complete(*, session: SessionBase, code: str, state: str) -> str:
    """Exchange the code, verify the ID token, start a fresh session; answer where to go."""
    pending: dict[str, Any] = dict(session.get(PENDING_KEY, {}))
    flow = pending.pop(state, None)
    session[PENDING_KEY] = pending
    if flow is None or time.time() - flow["at"] > PENDING_TTL:
        raise LoginFailed(
            "This sign-in link has expired or was already used; please sign in again."
        )
    news_seq = people.news_seq()
    tokens = identity.token_exchange(
        code=code, code_verifier=flow["verifier"], redirect_uri=callback_url()
    )
    claims = identity.verify_id_token(
        tokens["id_token"], nonce=flow["nonce"], access_token=tokens.get("access_token")
    )
    # A new session id after sign-in: no session fixation (OWASP ASVS V3.2.1).
    session.cycle_key()
    session.pop(PENDING_KEY, None)
    session.pop(SIGNED_OUT_KEY, None)
    _store_tokens(session, tokens)
    roles = claims.get("roles") or []
    user_id = str(claims["sub"])
    session[USER_KEY] = {
        "id": user_id,
        "email": claims.get("email", ""),
        "name": claims.get("name") or claims.get("given_name") or claims.get("email", ""),
        "roles": list(roles) if isinstance(roles, list) else [str(roles)],
    }
    session[NEWS_SEQ_KEY] = news_seq
    people.session_index_add(user_id=user_id, session_key=str(session.session_key))
    return str(flow["next"])


def _store_tokens(session: SessionBase, tokens: dict[str, Any]) -> None:
    previous = session.get(TOKENS_KEY) or {}
    session[TOKENS_KEY] = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token") or previous.get("refresh_token"),
        "id_token": tokens.get("id_token") or previous.get("id_token"),
        "expires_at": time.time() + int(tokens.get("expires_in", 300)),
    }


def session_user(*, session: SessionBase) -> dict[str, Any] | None:
    """The signed-in user, refreshing the tokens first when they are about to expire.

    What Identity said about the person since sign-in wins over the ID token's claims
    (`people.py`): a deactivated person's session ends here, a role change is applied,
    so the roles forwarded to Order are never older than Identity's last user event.
    A refresh that Identity refuses (revoked, reused, user gone) ends the session.
    """
    user = session.get(USER_KEY)
    tokens = session.get(TOKENS_KEY)
    if not user or not tokens:
        return None
    news = people.person_news(user_id=str(user["id"]))
    if news is not None and news.seq > int(session.get(NEWS_SEQ_KEY, 0)):
        if not news.active:
            _end(session, user_id=str(user["id"]))
            return None
        user = {**user, "roles": list(news.roles)}
        session[USER_KEY] = user
        session[NEWS_SEQ_KEY] = news.seq
    if tokens["expires_at"] - REFRESH_MARGIN > time.time():
        return dict(user)
    # One refresh per session at a time: with rotation and reuse detection, two
    # concurrent refreshes with the same token would revoke the whole family.
    lock = cache.lock(f"refresh:{session.session_key}", timeout=10, blocking_timeout=10)  # type: ignore[attr-defined]
    with lock:
        fresh = session.load()  # another request may have refreshed meanwhile
        current = fresh.get(TOKENS_KEY) or tokens
        if current["expires_at"] - REFRESH_MARGIN > time.time():
            session[TOKENS_KEY] = current
            return dict(user)
        try:
            refreshed = identity.token_refresh(refresh_token=current["refresh_token"])
        except identity.IdentityError:
            _end(session, user_id=str(user["id"]))
            return None
        session[TOKENS_KEY] = current
        _store_tokens(session, refreshed)
        session.save()
    return dict(user)


def _end(session: SessionBase, *, user_id: str) -> None:
    if session.session_key:
        people.session_index_remove(user_id=user_id, session_key=session.session_key)
    session.flush()


@dataclass(frozen=True)
class EndSession:
    """Identity's end-session endpoint and the form fields to POST there (RP-Initiated
    Logout 1.0 §2 allows POST; the ID token never goes into a URL)."""

    url: str
    fields: dict[str, str]


def logout(*, session: SessionBase) -> EndSession | None:
    """Revoke the tokens and end the session; answer how to end Identity's session too.

    The session left behind remembers only that this browser signed out, so the next
    sign-in asks for the password (`sign_in_prompt`). None when there is nothing to
    end at Identity (nobody was signed in, or Identity is unreachable).
    """
    tokens = session.get(TOKENS_KEY) or {}
    user = session.get(USER_KEY)
    for hint in ("refresh_token", "access_token"):
        if tokens.get(hint):
            # Identity down: the session still ends here; the tokens expire on their own.
            with contextlib.suppress(DomainError):
                identity.revoke(token=tokens[hint], hint=hint)
    if user:
        _end(session, user_id=str(user["id"]))
        session[SIGNED_OUT_KEY] = True
    else:
        session.flush()
    id_token = tokens.get("id_token")
    if not id_token:
        return None
    try:
        endpoint = identity.discovery().get("end_session_endpoint")
    except DomainError:
        endpoint = None
    if not endpoint:
        return None
    # With a valid id_token_hint for the person signed in at Identity, Identity ends its
    # session without asking (RP-Initiated Logout 1.0 §2); revoking the access token
    # above leaves the ID token's record in place, so the hint still checks out.
    return EndSession(
        url=identity.public_url(endpoint),
        fields={
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": settings.BFF_PUBLIC_URL.rstrip("/") + "/",
        },
    )
