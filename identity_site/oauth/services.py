"""Writes about OAuth clients."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.hashers import check_password
from django.db import transaction
from oauth2_provider.models import Application

from identity_site.oauth.models import ClientPolicy
from shared.problems import InvalidInput

# DESIGN.md: authorization code (+ refresh token, which DOT allows for such clients)
# and client credentials; never implicit, password, hybrid or device.
ALLOWED_AUTHORIZATION_GRANTS = (
    Application.GRANT_AUTHORIZATION_CODE,
    Application.GRANT_CLIENT_CREDENTIALS,
)


@transaction.atomic
def oauth_client_ensure(
    *,
    client_id: str,
    name: str,
    grant_type: str,
    secret: str,
    allowed_scopes: Sequence[str],
    redirect_uris: Sequence[str] = (),
    post_logout_redirect_uris: Sequence[str] = (),
    client_type: str = Application.CLIENT_CONFIDENTIAL,
    skip_authorization: bool = True,
) -> Application:
    """Create or update the client `client_id` to match this spec exactly; idempotent.

    The secret is stored hashed; an unchanged secret is not re-hashed. Raises
    InvalidInput for a grant type CoffeeShop does not allow, a missing secret, or
    an authorization-code client without redirect URIs.
    """
    if grant_type not in ALLOWED_AUTHORIZATION_GRANTS:
        raise InvalidInput(f"grant type {grant_type!r} is not allowed here")
    if not secret:
        raise InvalidInput(f"client {client_id!r} needs a secret")
    if grant_type == Application.GRANT_AUTHORIZATION_CODE and not redirect_uris:
        raise InvalidInput(f"client {client_id!r} needs at least one redirect URI")
    app = Application.objects.select_for_update().filter(client_id=client_id).first()
    wanted = {
        "name": name,
        "client_type": client_type,
        "authorization_grant_type": grant_type,
        "redirect_uris": " ".join(redirect_uris),
        "post_logout_redirect_uris": " ".join(post_logout_redirect_uris),
        "skip_authorization": skip_authorization,
        "hash_client_secret": True,
        # ID tokens are RS256-signed with the key from the secret store (published as JWKS).
        "algorithm": (
            Application.RS256_ALGORITHM
            if grant_type == Application.GRANT_AUTHORIZATION_CODE
            else Application.NO_ALGORITHM
        ),
    }
    if app is None:
        app = Application(client_id=client_id)
    secret_changed = not app.client_secret or not check_password(secret, app.client_secret)
    if app.pk is None or secret_changed or any(getattr(app, k) != v for k, v in wanted.items()):
        for field, value in wanted.items():
            setattr(app, field, value)
        if secret_changed:
            app.client_secret = secret
        app.full_clean(exclude=["client_secret", "user"])
        app.save()
    ClientPolicy.objects.update_or_create(
        application=app, defaults={"allowed_scopes": sorted(set(allowed_scopes))}
    )
    return app
