"""An HTTP client that behaves like a browser on http://127.0.0.1 for the end-to-end tests.

Browsers treat loopback as a secure context and send `Secure` cookies to it;
Python's cookie jar does not, so this one is told to.
"""

from __future__ import annotations

import html
import http.cookiejar
import re

import httpx


def browser_client(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=20)
    client.cookies.jar.set_policy(
        http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    )

    def add_cookies(request: httpx.Request) -> None:
        # httpx adds cookies from a copy of the jar that has the default policy, so the
        # client's own jar (with ours) writes the Cookie header instead.
        if "cookie" not in request.headers:
            client.cookies.jar.add_cookie_header(httpx.Cookies._CookieCompatRequest(request))

    client.event_hooks["request"] = [add_cookies]
    return client


def sign_in(client: httpx.Client, *, email: str, password: str) -> httpx.Response:
    """BFF /auth/login → Identity's login form → consent-free authorize → BFF callback."""
    page = client.get("/auth/login", follow_redirects=True)
    assert page.status_code == 200, page.text[:500]
    assert "/accounts/login/" in str(page.url), page.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    next_field = re.search(r'name="next" value="([^"]*)"', page.text)
    assert token
    assert next_field

    return client.post(
        str(page.url),
        data={
            "csrfmiddlewaretoken": token.group(1),
            "username": email,
            "password": password,
            "next": html.unescape(next_field.group(1)),
        },
        headers={"Referer": str(page.url)},
        follow_redirects=True,
    )
