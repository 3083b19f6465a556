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
    policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    jar = http.cookiejar.CookieJar(policy=policy)
    return httpx.Client(base_url=base_url, cookies=httpx.Cookies(jar), timeout=20)


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
