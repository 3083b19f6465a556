"""Reading what a client sends: JSON bodies and the Idempotency-Key header, one way everywhere.

A malformed request gets a 4xx problem document naming what is wrong, before any
code acts on it. Every site's DRF views read JSON bodies with `JSONParser`
(REST_FRAMEWORK's DEFAULT_PARSER_CLASSES), which refuses a body that is

- larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413),
- not UTF-8 (RFC 8259 section 8.1), or has an unpaired surrogate escape (which no
  database, cache or downstream can store),
- nested deeper than MAX_JSON_DEPTH: Python's parser recurses, so a 5,000-deep body
  raised RecursionError (a 500) where a 400 belongs, and a body just under the
  interpreter's limit would break the next recursive code (validation, JSON output);
- not JSON: `NaN`/`Infinity`, a number out of float range, an integer too long to read.

Depth is checked on the raw bytes before parsing, cheaply: strings are cut out, then
matched bracket pairs are removed one level per pass, at most MAX_JSON_DEPTH passes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import parsers

from shared.problems import BodyTooLarge, DomainError, InvalidInput, from_domain_error

MAX_JSON_DEPTH = 32
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# draft-ietf-httpapi-idempotency-key-header: the value is a String (RFC 8941 section
# 3.3.3: printable ASCII). Visible characters only, so a key survives any proxy and
# log unchanged; the length is capped by the column that stores it in Order.
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_ONLY_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class MalformedBody(DomainError):
    status, slug, title = 400, "malformed-body", "Malformed request"


class UnsupportedCharset(DomainError):
    status, slug, title = 415, "unsupported-charset", "Unsupported charset"


def _too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit` (or is unbalanced)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # strings may hold brackets too: this only ever over-counts
    brackets = _STRING.sub(b"", raw).translate(_SQUARE, _ONLY_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def json_parse(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value in `raw` (UTF-8 bytes); raises MalformedBody naming what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MalformedBody(
            f"The body is not UTF-8 (invalid byte at position {err.start}).",
            errors={"body": ["JSON must be encoded as UTF-8."]},
        ) from None
    too_deep = _too_deep(raw, max_depth)
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as err:
        if not too_deep:  # an unbalanced text fails the bracket count too: say what it is
            raise MalformedBody(
                f"The body is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno}).",
                errors={"body": ["Not valid JSON."]},
            ) from None
    except RecursionError:
        too_deep = True
    except ValueError as err:  # NaN/Infinity, 1e999, an integer of over 4,300 digits
        detail = str(err).split(":")[0] if "digits" in str(err) else str(err)
        raise MalformedBody(
            f"The body is not valid JSON: {detail}.", errors={"body": ["Not valid JSON."]}
        ) from None
    if too_deep:
        raise MalformedBody(
            f"The body is nested deeper than {max_depth} levels.",
            errors={"body": [f"Nested deeper than {max_depth} levels."]},
        )
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedBody(
                "The body has a \\u escape of an unpaired UTF-16 surrogate.",
                errors={"body": ["Unpaired surrogate in a string."]},
            ) from None
    return value


def _charset(media_type: str | None) -> str | None:
    for param in (media_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with this module's limits (size, UTF-8, depth, strict numbers).

    DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the size is capped here while reading.
    """

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        charset = _charset(media_type)
        if charset is not None and charset not in ("utf-8", "utf8"):
            raise UnsupportedCharset(
                f"JSON must be UTF-8, not {charset[:40]}.",
                errors={"Content-Type": ["Use charset=utf-8 or none."]},
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge.over_limit()
        return json_parse(raw)


_VISIBLE_ASCII_OR_SPACE = re.compile(r"[\x20-\x7e]*")


class HeaderCheckMiddleware:
    """400, naming the header, for an `Authorization` header that is not printable ASCII.

    Credentials are token68 or auth-params (RFC 9110 section 11.4), ASCII by definition;
    django-oauth-toolkit decoded non-ASCII Basic credentials into a 500.
    """

    HEADERS = ("Authorization",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        for name in self.HEADERS:
            value = request.headers.get(name)
            if value is not None and not _VISIBLE_ASCII_OR_SPACE.fullmatch(value):
                return from_domain_error(
                    InvalidInput(
                        f"The {name} header may hold printable ASCII characters only.",
                        errors={name: ["Only printable ASCII characters."]},
                    )
                )
        return self.get_response(request)


def idempotency_key_check(value: str | None) -> str:
    """The Idempotency-Key header's value; raises InvalidInput (400) naming the header when
    it is missing, too long or not visible ASCII (a non-ASCII key used to be a 500 at the
    BFF, which could not forward it)."""
    value = value or ""
    if _IDEMPOTENCY_KEY.fullmatch(value):
        return value
    if not value:
        problem = "This header is required."
    elif len(value) > IDEMPOTENCY_KEY_MAX_LENGTH:
        problem = f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
    else:
        problem = "Only visible ASCII characters (no spaces, no accents)."
    raise InvalidInput(
        f"Send an Idempotency-Key header (1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII "
        "characters).",
        errors={IDEMPOTENCY_KEY_HEADER: [problem]},
    )
