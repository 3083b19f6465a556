"""What every schemathesis run over our sites checks, and the hostile cases it always sends."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

PROBLEM_JSON = "application/problem+json"

# Generated header values may carry any Latin-1 character, as a WSGI server hands
# non-ASCII header bytes to Django (schemathesis keeps them ASCII by default).
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"generation": {"codec": "latin-1"}})

# A few examples per operation: the runs cover every operation of three sites on a
# shared 2-core machine, so each stays well under a minute.
FUZZ_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
NON_ASCII = ["caf\u00c3\u00a9", "\u00ff\u00fe", "\u2603"]


def header(response: Any, name: str) -> str:
    """A header of a schemathesis response (lower-case names, lists of values)."""
    values = response.headers.get(name.lower()) or [""]
    return str(values[0])


def check_answer(response: Any, what: str, *, oauth: bool = False) -> None:
    """No 5xx; every 4xx a problem document (RFC 9457), or for OAuth endpoints the
    error document RFC 6749 section 5.2 prescribes (`{"error": ...}` as JSON)."""
    status = response.status_code
    body = response.text_lossy()[:500]
    assert status < 500, f"{what}: {status} {body}"
    if 400 <= status < 500:
        content_type = header(response, "Content-Type")
        if oauth and content_type.startswith("application/json"):
            assert "error" in response.json(), f"{what}: {status} {body}"
            return
        assert content_type.startswith(PROBLEM_JSON), f"{what}: {status} {content_type} {body}"
        problem = response.json()
        assert problem["status"] == status, f"{what}: {body}"
        assert problem["title"], f"{what}: {body}"
