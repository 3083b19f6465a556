"""Scopes backend: a client is offered exactly the scopes its ClientPolicy allows."""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes

from identity_site.oauth.selectors import client_allowed_scopes

# OpenID scopes a browser sign-in gets when the client asks for none.
SIGN_IN_SCOPES = ("openid", "profile", "email", "roles")


class ClientPolicyScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return []
        known = set(self.get_all_scopes())
        return [s for s in client_allowed_scopes(application=application) if s in known]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        """No scope asked: client_credentials get all they may have, sign-ins the OpenID ones."""
        available = self.get_available_scopes(application, request)
        grant_type = getattr(request, "grant_type", None)
        if grant_type == "client_credentials":
            return available
        return [s for s in available if s in SIGN_IN_SCOPES]
