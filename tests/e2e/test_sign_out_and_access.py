"""Issue 10, access: sign-out on a shared device, sign-in errors, and a fired or demoted
barista losing access, on the whole system (`manage_all.py up`) with a real Chromium.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.browser import CHROMIUM_ARGS, ensure_chromium
from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.chromium import app_sign_in

# The first test also waits for `up` (minutes on a busy machine).
pytestmark = pytest.mark.timeout(900)

DESKTOP = {"width": 1280, "height": 900}
CART = "coffeeshop.cart"
WITHIN = 5.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


@pytest.fixture(scope="module")
def identity(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['identity']}"


class Console:
    """Every console error and uncaught exception of a page, read through the DevTools
    protocol (Runtime and Log domains), as the person's browser console would show them."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        session = page.context.new_cdp_session(page)
        session.on("Runtime.consoleAPICalled", self._console)
        session.on("Runtime.exceptionThrown", self._exception)
        session.on("Log.entryAdded", self._log)
        session.send("Runtime.enable")
        session.send("Log.enable")
        self.session = session

    def _console(self, event: dict[str, Any]) -> None:
        if event.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in event.get("args", [])]
            self.errors.append("console: " + " ".join(texts))

    def _exception(self, event: dict[str, Any]) -> None:
        details = event.get("exceptionDetails", {})
        exception = details.get("exception", {})
        self.errors.append("exception: " + str(exception.get("description") or details))

    def _log(self, event: dict[str, Any]) -> None:
        entry = event.get("entry", {})
        # Identity has no favicon; the browser's own request for it is not the app's error.
        if entry.get("level") == "error" and not str(entry.get("url", "")).endswith("/favicon.ico"):
            self.errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")


def _sign_in(page: Page, email: str, password: str) -> None:
    app_sign_in(page, email=email, password=password)


def _stored_cart(page: Page) -> list[Any]:
    raw = page.evaluate(f"() => localStorage.getItem('{CART}')")
    return list(json.loads(raw)) if raw else []


def test_after_sign_out_the_next_sign_in_asks_for_the_password_and_the_cart_is_gone(
    browser: Browser, bff: str, identity: str, system_stack: Stack
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    console = Console(page)
    page.goto(bff + "/")
    expect(page.get_by_test_id("menu-item").first).to_be_visible(timeout=60_000)
    _sign_in(page, "customer@coffeeshop.local", demo_password(system_stack))
    expect(page.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    # At once, as a person would: the tap may land before, during or after Python takes
    # the signed-in page over; it is never lost (a tap while the app starts is queued,
    # browser.Wiring).
    page.get_by_test_id("quick-add").first.click()
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_contain_text("1")
    assert len(_stored_cart(page)) == 1

    page.get_by_test_id("sign-out").click()
    # No question at Identity: the BFF's page sent the ID token as a POST body.
    expect(page.get_by_test_id("sign-in").first).to_be_visible(timeout=60_000)
    assert page.url == bff + "/"
    assert _stored_cart(page) == []
    assert page.evaluate("() => fetch('/api/session').then(r => r.json())")["user"] is None

    page.get_by_test_id("sign-in").first.click()
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)
    assert page.url.startswith(identity + "/accounts/login/")
    # Someone else signs in on the same device and finds nobody's cart.
    page.get_by_label("E-mail address").fill("barista@coffeeshop.local")
    page.get_by_label("Password").fill(demo_password(system_stack))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    assert page.url.startswith(bff + "/")
    assert _stored_cart(page) == []
    assert page.evaluate("() => fetch('/api/session').then(r => r.json())")["user"]["email"] == (
        "barista@coffeeshop.local"
    )

    assert console.errors == []
    context.close()


def test_cancelling_identitys_sign_out_question_goes_back_to_the_app(
    browser: Browser, bff: str, identity: str, system_stack: Stack
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    console = Console(page)
    page.goto(bff + "/")
    _sign_in(page, "customer@coffeeshop.local", demo_password(system_stack))
    expect(page.get_by_test_id("user-name")).to_be_visible(timeout=60_000)

    # A sign-out request without a hint (as from a link) makes Identity ask.
    query = urlencode({"client_id": "bff-web", "post_logout_redirect_uri": bff + "/"})
    page.goto(f"{identity}/o/logout/?{query}")
    expect(page.get_by_role("heading", name="Sign out of CoffeeShop?")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Stay signed in").click()

    expect(page.get_by_test_id("menu-item").first).to_be_visible(timeout=60_000)
    assert page.url == bff + "/"
    assert "logout_denied" not in page.content()
    assert console.errors == []
    context.close()


def test_a_cancelled_sign_in_shows_a_page_with_a_way_to_try_again(
    browser: Browser, bff: str, identity: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()

    page.goto(bff + "/auth/callback?error=access_denied&state=x")

    expect(page.get_by_role("heading", name="Sign-in cancelled")).to_be_visible()
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)
    assert page.url.startswith(identity + "/accounts/login/")
    context.close()


# ---- a fired or demoted barista ------------------------------------------------------------


def _identity_shell(stack: Stack, code: str) -> str:
    return stack.manage("identity", "shell", "-c", code).strip()


def _new_staff(stack: Stack, role: str) -> tuple[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@coffeeshop.test"
    password = "a-long-Password-2026"
    _identity_shell(
        stack,
        "from identity_site.accounts.services import user_create; "
        f"print(user_create(email={email!r}, password={password!r}, full_name='Sam', "
        f"role={role!r}).pk)",
    )
    return email, password


def _update(stack: Stack, email: str, changes: str) -> None:
    _identity_shell(
        stack,
        "from identity_site.accounts.models import User; "
        "from identity_site.accounts.services import user_update; "
        f"user_update(user=User.objects.get(email={email!r}), {changes})",
    )


def _within(check: Callable[[], bool]) -> float:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < WITHIN, "not within 5 s"
        time.sleep(0.2)
    return time.monotonic() - began


def test_a_deactivated_barista_loses_the_queue_within_5_seconds(
    bff: str, system_stack: Stack
) -> None:
    email, password = _new_staff(system_stack, "barista")
    phone, till = browser_client(bff), browser_client(bff)
    sign_in(phone, email=email, password=password)
    sign_in(till, email=email, password=password)
    assert phone.get("/api/staff/queue").status_code == 200
    assert till.get("/api/staff/queue").status_code == 200

    _update(system_stack, email, "is_active=False")

    took = _within(lambda: phone.get("/api/staff/queue").status_code == 401)
    print(f"\nbarista signed out {took:.1f}s after deactivation")
    assert till.get("/api/staff/queue").status_code == 401
    assert till.get("/api/session").json()["authenticated"] is False


def test_a_demoted_manager_gets_customer_roles_and_403_on_staff_endpoints_within_5_seconds(
    bff: str, system_stack: Stack
) -> None:
    email, password = _new_staff(system_stack, "manager")
    browser_ = browser_client(bff)
    sign_in(browser_, email=email, password=password)
    assert browser_.get("/api/staff/queue").status_code == 200

    _update(system_stack, email, "role='customer'")

    took = _within(lambda: browser_.get("/api/session").json()["user"]["roles"] == ["customer"])
    print(f"\nmanager demoted {took:.1f}s after the change")
    summary = browser_.get("/api/session").json()
    assert summary["authenticated"] is True
    assert summary["admin_url"] is None
    assert browser_.get("/api/staff/queue").status_code == 403
