"""The relying-party side of OpenID Connect, on Authlib: the authorization request with
PKCE, and the ID token's checks.

Only the protocol lives here; the caller keeps its HTTP transport (the BFF's goes
through a circuit breaker, shared/http.py) and where it stores the pending request
and the tokens (the BFF's Redis session). docs/decisions.md, "OIDC relying party",
says why Authlib's protocol pieces and not its HTTP clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

# What Identity signs ID tokens with; a token naming any other algorithm is refused
# (RFC 8725 section 3.1), `none` included.
ID_TOKEN_ALGORITHMS = ["RS256"]
# Why an ID token is refused, by the claim at fault (OIDC Core 1.0 section 3.1.3.7).
CLAIM_FAULTS = {
    "iss": "the ID token was issued by someone else",
    "aud": "the ID token is not meant for this site",
    "azp": "the ID token is not meant for this site",
    "exp": "the ID token has expired",
    "nonce": "the ID token's nonce does not match",
}


class IdTokenRefused(Exception):
    """The ID token fails a check; the message says which, in words for a log or a page."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def authorization_request(
    *,
    endpoint: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    prompt: str | None = None,
) -> AuthorizationRequest:
    """An authorization-code request with a fresh state, nonce and PKCE S256 challenge
    (RFC 6749 section 4.1.1, RFC 7636 section 4, OIDC Core 1.0 section 3.1.2.1)."""
    state, nonce = generate_token(32), generate_token(32)
    verifier = generate_token(64)  # RFC 7636 section 4.1: 43 to 128 unreserved characters
    url = prepare_grant_uri(
        endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        prompt=prompt,
    )
    return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)


def id_token_claims(
    id_token: str,
    *,
    key_set: Callable[[bool], dict[str, Any]],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The claims of an ID token that passes OIDC Core 1.0 section 3.1.3.7: signed by a
    key of the issuer's set with an allowed algorithm; `iss`, `aud` (and `azp`), `exp`,
    `iat`, `nonce`, and `at_hash` when present. Raises IdTokenRefused.

    `key_set(fresh)` answers the issuer's JWKS; it is asked again with fresh=True once
    when the token names a key the set lacks (the issuer rotated its keys).
    """
    registry = JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)

    def keys(fresh: bool) -> KeySet:
        return KeySet.import_key_set(cast("Any", key_set(fresh)))

    try:
        try:
            token = jwt.decode(id_token, keys(False), registry=registry)
        except InvalidKeyIdError:
            token = jwt.decode(id_token, keys(True), registry=registry)
    except (JoseError, ValueError) as exc:  # joserfc: ValueError for a key not in the set
        raise IdTokenRefused("the ID token's signature is not valid") from exc
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate()
    except ClaimError as exc:
        raise IdTokenRefused(
            CLAIM_FAULTS.get(exc.claim, f"the ID token's {exc.claim} is not valid")
        ) from exc
    except JoseError as exc:
        raise IdTokenRefused(f"the ID token is not valid: {exc.error}") from exc
    return dict(token.claims)
