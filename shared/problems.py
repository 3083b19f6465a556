"""RFC 9457 problem details: one error shape for every site.

Domain code raises `DomainError` subclasses; DRF's exception handler and Django's
error handlers below turn every failure into `application/problem+json` with
`type`, `title`, `status`, `detail` and, for bad input, the offending fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase

logger = logging.getLogger("coffeeshop.problems")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://coffeeshop.example/problems/"


class DomainError(Exception):
    """A rule of the domain was broken; subclasses set status, slug and title."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidInput(DomainError):
    status, slug, title = 400, "invalid-input", "Invalid input"


class BodyTooLarge(DomainError):
    """RFC 9110 section 15.5.14: the body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE."""

    status, slug, title = 413, "body-too-large", "Request body too large"

    @classmethod
    def over_limit(cls) -> BodyTooLarge:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return cls(f"The request body is larger than {limit} bytes.", limit=limit)


class Unavailable(DomainError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


def problem_body(
    status: int, title: str, detail: str = "", *, slug: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A problem-details document (RFC 9457 section 3)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem(
    status: int, title: str, detail: str = "", *, slug: str | None = None, **extra: Any
) -> JsonResponse:
    """Build a problem-details response (RFC 9457 section 3)."""
    body = problem_body(status, title, detail, slug=slug, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def from_domain_error(exc: DomainError) -> JsonResponse:
    return problem(exc.status, exc.title, exc.detail, slug=exc.slug, **exc.extra)


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF `EXCEPTION_HANDLER`: every API error as problem details; unknown errors as a bare 500."""
    from rest_framework import exceptions as drf_exc
    from rest_framework.response import Response

    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge.over_limit()
    if isinstance(exc, DomainError):
        # The document itself, rendered once by DRF (not a JsonResponse parsed back).
        document = problem_body(exc.status, exc.title, exc.detail, slug=exc.slug, **exc.extra)
        return Response(document, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = drf_exc.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exc.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf_exc.ValidationError(exc.messages)
    if isinstance(exc, drf_exc.APIException):
        body: dict[str, Any] = {
            "type": TYPE_BASE + str(exc.default_code).replace("_", "-"),
            "title": _title(exc),
            "status": exc.status_code,
        }
        if isinstance(exc, drf_exc.ValidationError):
            body["detail"] = "The request has invalid fields."
            body["errors"] = exc.detail
        else:
            body["detail"] = str(exc.detail)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        return Response(
            body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE
        )
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        {"type": TYPE_BASE + "internal-error", "title": "Internal server error", "status": 500},
        status=500,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _title(exc: Any) -> str:
    return str(exc.default_detail).rstrip(".") if exc.default_detail else "Error"


class ProblemDetailsMiddleware:
    """Django's and libraries' bare 4xx answers as problem documents like every other error.

    An empty 4xx (Django's 405 from `require_POST`, django-oauth-toolkit's 403 for an
    unauthenticated introspection) becomes a problem document, keeping `Allow` and
    `WWW-Authenticate`; an OAuth error document (RFC 6749 section 5.2) sent as text/html
    (django-oauth-toolkit's userinfo 401) is labelled as the JSON it is. Anything with a
    body of its own (an HTML page for a person) is left alone.
    """

    KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not 400 <= response.status_code < 500 or response.streaming:
            return response
        content = getattr(response, "content", b"")
        if content.startswith(b'{"error"') and response.get("Content-Type", "").startswith(
            "text/html"
        ):
            response["Content-Type"] = "application/json"
            return response
        if content.strip():
            return response
        status = response.status_code
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        detail = f"{title} ({str(request.method)[:16]} {request.path[:200]})."
        if status == 405 and response.get("Allow"):
            detail = f"{str(request.method)[:16]} is not allowed here; use {response['Allow']}."
        replaced = problem(status, title, detail)
        for name in self.KEPT_HEADERS:
            if response.has_header(name):
                replaced[name] = response[name]
        return replaced


# Django's own error views (urls.py: handler400 = "shared.problems.bad_request" …).
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    # Django turns a SuspiciousOperation into this view: name the ones a client can mend.
    if isinstance(exception, RequestDataTooBig):
        return from_domain_error(BodyTooLarge.over_limit())
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return problem(400, "Bad request", "The request has too many form fields or files.")
    if isinstance(exception, MultiPartParserError):
        # Django's reasons name the part at fault ("Invalid boundary in multipart: None").
        return problem(400, "Bad request", f"The multipart body could not be read: {exception}")
    return problem(400, "Bad request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem(403, "Forbidden", "You are not allowed to do this.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem(404, "Not found", f"Nothing at {request.path}.")


def server_error(request: HttpRequest) -> JsonResponse:
    return problem(500, "Internal server error", slug="internal-error")


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    # Django's reasons are fixed phrases ("CSRF cookie not set.", "Origin checking failed …")
    # that help a client developer and reveal nothing secret.
    detail = "Send the CSRF token with this request."
    if reason:
        detail += f" ({reason})"
    return problem(403, "CSRF check failed", detail, slug="csrf")
