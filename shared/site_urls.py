"""The URLs and error handlers every site's `config/urls.py` has.

A site's urls.py takes the handlers with `from shared.site_urls import handler400, …`
(Django looks them up as names of the URLconf module) and puts `*site_urls.probe_urls()`
first and `*site_urls.schema_urls()` among its own routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from shared import health

# Every error a site answers is an RFC 9457 problem document (shared/problems.py).
handler400 = "shared.problems.bad_request"
handler403 = "shared.problems.permission_denied"
handler404 = "shared.problems.page_not_found"
handler500 = "shared.problems.server_error"


def probe_urls() -> list[URLPattern]:
    """`healthz` (the process answers) and `readyz` (its dependencies do): shared/health.py."""
    return [
        path("healthz", health.healthz, name="healthz"),
        path("readyz", health.readyz, name="readyz"),
    ]


def schema_urls(schema_view: Callable[..., Any] | None = None) -> list[URLPattern]:
    """The OpenAPI document at `api/schema/` (drf-spectacular's unless a site gives its
    own view) and its ReDoc page at `api/docs/`."""
    return [
        path("api/schema/", schema_view or SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="docs"),
    ]
