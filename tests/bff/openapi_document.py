"""The BFF's OpenAPI document as it serves it (generated from its views), for tests that
validate real answers against what it promises."""

from __future__ import annotations

import functools
from typing import Any

from django.test import Client
from jsonschema import Draft202012Validator


@functools.cache
def served_document() -> dict[str, Any]:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    return dict(response.json())


def answer_validator(method: str, path: str, status: int) -> Draft202012Validator:
    """The validator of the JSON answer the document promises for `method path` → status."""
    document = served_document()
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})
