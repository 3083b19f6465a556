"""Admin for OAuth clients: the library's Application admin plus each client's scopes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field
from django.http import HttpRequest
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin
from oauth2_provider.models import Application

from identity_site.oauth.models import ClientPolicy
from identity_site.oauth.services import ALLOWED_AUTHORIZATION_GRANTS


class ClientPolicyInline(admin.StackedInline):
    model = ClientPolicy
    can_delete = False
    help_text = "Scopes this client may be granted, comma-separated."


# The library registered its own admin on import; ours replaces it.
admin.site.unregister(Application)


@admin.register(Application)
class ApplicationAdmin(DOTApplicationAdmin):
    """Only the grant types CoffeeShop allows can be chosen (the validator enforces it too)."""

    inlines = [ClientPolicyInline]

    def formfield_for_choice_field(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "authorization_grant_type":
            kwargs["choices"] = [
                (value, label)
                for value, label in db_field.choices or []
                if value in ALLOWED_AUTHORIZATION_GRANTS
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)
