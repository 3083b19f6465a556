"""A real Identity for the Order tests that talk to it (introspection, user lookups)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.base import REPO_ROOT, spawn, wait_until

IDENTITY_PROCESS = "identity-for-order-tests"


def identity_access_log(test_stack: Any) -> Path:
    """Gunicorn's access log of the Identity below: one line per request it answered."""
    return Path(test_stack.state) / "logs" / f"{IDENTITY_PROCESS}.access.log"


@pytest.fixture(scope="module")
def identity(test_stack: Any) -> Iterator[dict[str, dict[str, Any]]]:
    """A running Identity; yields the OAuth client specs by client id.

    Identity runs under gunicorn on the test stack's Identity port (migrated, with the
    OAuth clients the orchestrator provisions); Order reaches it at IDENTITY_URL.
    """
    specs = test_stack.oauth_client_specs()
    test_stack.manage("identity", "migrate", "--noinput")
    test_stack.manage("identity", "ensure_oauth_clients", stdin=json.dumps(specs))
    port = test_stack.ports["identity"]
    process = spawn(
        IDENTITY_PROCESS,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "identity_site.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--access-logfile",
            str(identity_access_log(test_stack)),
        ],
        state_dir=test_stack.state,
        env=test_stack.site_env("identity"),
        cwd=REPO_ROOT,
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until("identity", healthy, timeout=60, process=process)
        yield {spec["client_id"]: spec for spec in specs}
    finally:
        process.stop(timeout=10)
