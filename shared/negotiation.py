"""DRF content negotiation with a short way for the requests every client sends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# Accept headers that DRF's negotiation answers with the first renderer's own media
# type, whatever it is (an absent header counts as `*/*`).
_ANYTHING = frozenset({None, "*/*"})


class FirstRendererNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, without parsing the Accept header when it accepts anything.

    DRF tokenises and orders the Accept header against every renderer on each request
    (about a twentieth of an order placement's CPU). An absent Accept, `*/*`, or
    exactly the first renderer's media type, with no `?format=` or format suffix,
    selects the first renderer with its own media type, as DRF would. Anything else
    goes to DRF, which decides (406 included).
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        if renderers and not format_suffix:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            if (accept in _ANYTHING or accept == first.media_type) and (
                self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            ):
                return first, first.media_type
        selected: tuple[BaseRenderer, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return selected
