"""OAuth clients (through `oauth_client_ensure`, as the orchestrator provisions them)
and the token rows django-oauth-toolkit writes, for tests that need them to exist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from identity_site.oauth.services import oauth_client_ensure
from tests.identity.factories.accounts import UserFactory

CALLBACK = "http://127.0.0.1:8000/auth/callback"


class ApplicationFactory(DjangoModelFactory[Application]):
    """A confidential authorization-code client by default. Built through the service,
    so a factory cannot make a client CoffeeShop would refuse (an implicit grant …);
    a test about such a client writes the row itself, on purpose."""

    class Meta:
        model = Application

    class Params:
        machine = factory.Trait(
            grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            redirect_uris=[],
            allowed_scopes=["introspection", "users:read"],
        )

    client_id = factory.Sequence(lambda n: f"client-{n}")
    name = factory.LazyAttribute(lambda o: o.client_id)
    grant_type = Application.GRANT_AUTHORIZATION_CODE
    secret = factory.Sequence(lambda n: f"client-secret-{n:04d}-" + "s" * 32)
    allowed_scopes: Any = ["openid", "profile", "email", "roles"]
    redirect_uris: Any = [CALLBACK]
    post_logout_redirect_uris: Any = []

    @classmethod
    def _create(cls, model_class: type[Application], *args: Any, **kwargs: Any) -> Application:
        return oauth_client_ensure(**kwargs)


class _TokenFactory(DjangoModelFactory[Any]):
    user = factory.SubFactory(UserFactory)
    application = factory.SubFactory(ApplicationFactory)


class AccessTokenFactory(_TokenFactory):
    """Live for five minutes unless `expires` says otherwise."""

    class Meta:
        model = AccessToken

    token = factory.Sequence(lambda n: f"at-{n}")
    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))
    scope = "openid"


class RefreshTokenFactory(_TokenFactory):
    class Meta:
        model = RefreshToken

    token = factory.Sequence(lambda n: f"rt-{n}")
    access_token = None


class GrantFactory(_TokenFactory):
    """An authorization code, live for a minute unless `expires` says otherwise."""

    class Meta:
        model = Grant

    code = factory.Sequence(lambda n: f"code-{n}")
    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(seconds=60))
    redirect_uri = CALLBACK


class IDTokenFactory(_TokenFactory):
    class Meta:
        model = IDToken

    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))
