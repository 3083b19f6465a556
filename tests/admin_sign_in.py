"""Helpers for the admin sign-in tests of Order and the BFF (shared/admin_oidc): a real
Identity under gunicorn, and a person signing in at its real login form."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import requests

from devstack.base import REPO_ROOT, spawn, wait_until

PASSWORD = "demo-password-for-admin-tests"


@contextmanager
def running_identity(test_stack: Any, name: str) -> Iterator[None]:
    """Identity on the test stack's port, migrated, with the orchestrator's OAuth clients
    and the demo people (manager, barista, customer) signing in with PASSWORD."""
    test_stack.manage("identity", "migrate", "--noinput")
    specs = json.dumps(test_stack.oauth_client_specs())
    test_stack.manage("identity", "ensure_oauth_clients", stdin=specs)
    test_stack.manage("identity", "seed_demo", extra_env={"DEMO_PASSWORD": PASSWORD})
    port = test_stack.ports["identity"]
    process = spawn(
        name,
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
        yield
    finally:
        process.stop(timeout=10)


def _loopback(browser: requests.Session) -> None:
    for cookie in browser.cookies:
        cookie.secure = False  # loopback over plain HTTP, as browsers allow


def identity_sign_in(authorize_url: str, email: str) -> str:
    """Sign in at Identity's real login form; the URL Identity sends the browser back to."""
    browser = requests.Session()
    browser.trust_env = False
    response = browser.get(authorize_url, allow_redirects=False)
    for _ in range(10):
        assert response.status_code in (301, 302, 303), response.text[:300]
        location = urljoin(response.url, response.headers["Location"])
        if "/admin/oidc/callback" in location:
            return location
        _loopback(browser)
        if "/accounts/login/" not in location:
            response = browser.get(location, allow_redirects=False)
            continue
        page = browser.get(location)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        _loopback(browser)
        response = browser.post(
            page.url,
            data={
                "csrfmiddlewaretoken": csrf.group(1),
                "username": email,
                "password": PASSWORD,
                "next": parse_qs(urlsplit(page.url).query)["next"][0],
            },
            headers={"Referer": page.url},
            allow_redirects=False,
        )
    raise AssertionError("Identity never sent the browser back")


def callback_of(url: str) -> tuple[str, dict[str, str]]:
    """The callback's path and query, for a Django test client."""
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
