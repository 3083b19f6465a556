"""Reads about OAuth clients."""

from __future__ import annotations

from typing import Any

from identity_site.oauth.models import ClientPolicy


def client_allowed_scopes(*, application: Any) -> list[str]:
    """The scopes `application` may be granted (empty without a policy); memoised on the row."""
    cached = getattr(application, "_allowed_scopes", None)
    if cached is None:
        cached = list(
            ClientPolicy.objects.filter(application_id=application.pk)
            .values_list("allowed_scopes", flat=True)
            .first()
            or []
        )
        application._allowed_scopes = cached
    return list(cached)
