"""Writes about OAuth clients and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import (
    AccessToken,
    Application,
    RefreshToken,
    refresh_token_expire_timedelta,
)

from identity_site.oauth.cache import token_checksum
from identity_site.oauth.models import ClientPolicy, CodeRedemption
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


class CodeAlreadyRedeemed(Exception):
    """Another exchange of the same authorization code got there first."""


def code_redemption_record(
    *, application: Application, code: str, access_token: str, refresh_token: str | None
) -> None:
    """Remember which tokens `code` was exchanged for (inside the exchange's transaction).

    Raises CodeAlreadyRedeemed when the code was exchanged before: two exchanges racing
    past the library's check both get here, and the unique key lets only one through.
    """
    now = timezone.now()
    family = None
    if refresh_token:
        family = (
            RefreshToken.objects.filter(token_checksum=token_checksum(refresh_token))
            .values_list("token_family", flat=True)
            .first()
        )
    CodeRedemption.objects.filter(expires__lt=now).delete()
    keep_for = refresh_token_expire_timedelta() or timedelta(days=14)
    try:
        with transaction.atomic():
            CodeRedemption.objects.create(
                application=application,
                code_checksum=token_checksum(code),
                access_token_checksum=token_checksum(access_token),
                token_family=family,
                expires=now + keep_for,
            )
    except IntegrityError:
        raise CodeAlreadyRedeemed from None


@transaction.atomic
def code_replay_revoke(*, application: Application, code: str) -> bool:
    """A used authorization code came back: revoke what its first exchange issued.

    RFC 6749 section 4.1.2 and RFC 9700 section 2.1.1: the access token, and the refresh
    token with every token rotated from it (its family). Deleting the access tokens
    evicts their cached introspection answers (identity_site/oauth/cache.py). Answers
    whether the code had been redeemed.
    """
    redemption = CodeRedemption.objects.filter(
        application=application, code_checksum=token_checksum(code)
    ).first()
    if redemption is None:
        return False
    if redemption.token_family is not None:
        RefreshToken.revoke_family(redemption.token_family)
    AccessToken.objects.filter(token_checksum=redemption.access_token_checksum).delete()
    return True
