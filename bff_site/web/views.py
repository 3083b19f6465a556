"""`GET /`: the server-rendered shell that paints at once while Pyodide starts."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bff_site.web.apps import WebConfig


@require_safe
def shell(request: HttpRequest) -> HttpResponse:
    """The shell page. 503 with a plain explanation when the client isn't built."""
    config = apps.get_app_config("web")
    assets = config.assets if isinstance(config, WebConfig) else None
    if assets is None:
        response = render(request, "web/unbuilt.html", status=503)
        response["Retry-After"] = "30"
    else:
        response = render(request, "web/shell.html", {"assets": assets})
    # The shell names versioned files, so it must never be cached stale; no-store also
    # keeps it out of the back-forward cache, so Back after sign-out shows nothing private.
    response["Cache-Control"] = "no-store"
    return response
