"""drf-spectacular helpers: problem-details responses and closed shapes in a generated schema.

- `problems("401", "503")`: the error answers an operation documents, each an RFC 9457
  problem document served as application/problem+json (shared/problems.py).
- `@closed`: a response serializer whose component says `additionalProperties: false`,
  so a client (or a test validating answers against the schema) can rely on the shape
  having no more fields than it names; `closed_components` is the postprocessing hook
  that writes it (drf-spectacular has no per-serializer switch for it).
"""

from __future__ import annotations

from typing import Any, TypeVar

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from shared.problems import PROBLEM_CONTENT_TYPE

ERROR_TEXTS = {
    "400": "Bad input (problem details name the fields)",
    "401": "Sign-in required",
    "403": "Forbidden, or the CSRF header is missing",
    "404": "Not found (or not yours)",
    "409": "Not allowed in the order's current status",
    "413": "The body is too large",
    "415": "The body is not application/json",
    "422": "The Idempotency-Key was used with another body",
    "429": "Rate limited (see Retry-After)",
    "503": "A downstream service is unavailable (problem names it)",
}


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details; bad input adds `errors` naming each field."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)


def problems(*codes: str) -> dict[tuple[int, str], OpenApiResponse]:
    """`extend_schema(responses=…)` entries for these error statuses."""
    return {
        (int(code), PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, ERROR_TEXTS[code])
        for code in codes
    }


_CLOSED: set[str] = set()
S = TypeVar("S", bound=type[serializers.BaseSerializer[Any]])


def closed(serializer: S) -> S:
    """Mark a serializer's component as closed (`additionalProperties: false`)."""
    name = serializer.__name__
    _CLOSED.add(name.removesuffix("Serializer") if name != "Serializer" else name)
    return serializer


def closed_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS entry: close the `@closed` components."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name in _CLOSED and "properties" in schema:
            schema["additionalProperties"] = False
    return result
