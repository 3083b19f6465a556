"""The base of every BFF API view: DRF, with the session as the caller.

Unlike DRF's own views, CSRF stays with Django's middleware (the session cookie is the
only credential, so every unsafe request needs the header, signed in or not), and a
method the view does not take is a 405 before anyone asks who the caller is, as the
plain views' `require_POST` answered. Bodies are read as JSON whatever their
Content-Type, with shared/request_input.py's limits.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseNotAllowed, QueryDict
from django.http.response import HttpResponseBase
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.views import APIView

from bff_site.sessions.authentication import SessionUserAuthentication, SignedIn
from shared.problems import InvalidInput
from shared.request_input import JSONParser


class SessionUserScheme(OpenApiAuthenticationExtension):
    target_class = SessionUserAuthentication
    name = "session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "__Host-coffeeshop-session"}


class BodyAsJSONParser(JSONParser):
    """The body read as JSON whatever its Content-Type says (as the BFF always read it),
    with shared/request_input.py's limits; the schema says application/json."""

    media_type = "*/*"


CSRF_HEADER = OpenApiParameter(
    "X-CSRF-Token",
    location=OpenApiParameter.HEADER,
    required=True,
    description="The session's CSRF token (`csrf_token` of GET /api/session)",
)


class SessionAutoSchema(AutoSchema):
    """drf-spectacular's schema of a BFF view: JSON bodies, and the CSRF header on every
    unsafe method."""

    def map_parsers(self) -> list[str]:
        return ["application/json"]

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method not in ("GET", "HEAD"):
            params.append(CSRF_HEADER)
        return params


class SessionAPIView(APIView):
    """The base of every BFF API view (signed-in callers unless `permission_classes` say)."""

    authentication_classes = [SessionUserAuthentication]
    permission_classes = [SignedIn]
    parser_classes = [BodyAsJSONParser]
    schema = SessionAutoSchema()
    # Only the methods a view defines (no OPTIONS metadata, no HEAD), as the plain views'
    # require_GET/require_POST allowed; `Allow` says the same.
    http_method_names = ["get", "post", "patch"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view = super().as_view(**initkwargs)
        view.csrf_exempt = False  # DRF exempts its views; the CSRF middleware checks ours
        return view

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = str(request.method).lower()
        if method not in self.http_method_names or not hasattr(self, method):
            # Empty, as Django's require_* answered: ProblemDetailsMiddleware says it.
            return HttpResponseNotAllowed(self.allowed_methods)
        return super().dispatch(request, *args, **kwargs)


def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body as an object ({} when empty); 400/413/415 naming the fault
    (shared/request_input.py's parser: size, UTF-8, depth, strict numbers)."""
    body = request.data
    if not isinstance(body, dict) or isinstance(body, QueryDict):  # a form's, unparsed
        raise InvalidInput("The body must be a JSON object.")
    return body
