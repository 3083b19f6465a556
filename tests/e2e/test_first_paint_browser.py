"""Issue 16 in a real browser: the menu is usable before Python is. The BFF renders each
page's first HTML with the client's own views; the menu's "Add" and a product page's
"Add to cart" are plain forms; when Pyodide takes the page over, the cart built while it
loaded and the choices made on the page are still there.

Pyodide is held back here (its module's request is parked) until the cart is built, so
"before Python loads" is certain rather than a race.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.e2e.chromium import chromium_launch, shot

PYODIDE_MODULE = re.compile(r".*/pyodide/[^/]+/pyodide\.mjs$")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_launch() as launched:
        yield launched


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def test_a_cart_built_before_python_loads_survives_its_take_over(
    browser: Browser, bff: str
) -> None:
    context = browser.new_context()
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    context.route(PYODIDE_MODULE, hold)
    page = context.new_page()

    page.goto(bff + "/")
    latte = page.get_by_test_id("menu-item").filter(has_text="Latte").first
    expect(latte.get_by_test_id("menu-price")).to_have_text("£4.00")  # rendered, not loaded
    expect(page.locator("html")).to_have_class(re.compile("is-booting"))
    latte.get_by_test_id("quick-add").click()  # a plain form: the BFF adds the line

    expect(page.get_by_test_id("notice")).to_contain_text("Added Latte to your cart.")
    expect(page.get_by_role("link", name="Cart, 1 items")).to_be_visible()
    page.get_by_test_id("menu-item").filter(has_text="Latte").first.get_by_test_id(
        "customise"
    ).click()
    expect(page.get_by_test_id("product-name")).to_have_text("Latte")
    page.get_by_label("Large").check()
    page.get_by_label("Oat").check()
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("link", name="Cart, 2 items")).to_be_visible()
    # Chosen while Python still loads, not added yet: kept when Python takes over.
    page.get_by_label("Pumpkin Spice").check()
    expect(page.locator("html")).to_have_class(re.compile("is-booting"))
    shot(page, "first-paint-product-before-python")
    assert held, "Pyodide was not held back: the test proves nothing"

    context.unroute(PYODIDE_MODULE)
    for route in held:
        with contextlib.suppress(Exception):  # the page that asked for it may be gone
            route.continue_()

    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=60_000)
    expect(page.locator("#variation-none")).not_to_be_checked()
    expect(page.get_by_label("Pumpkin Spice")).to_be_checked()
    expect(page.get_by_role("link", name="Cart, 2 items")).to_be_visible()
    assert "?" not in page.url  # the "added" query is dropped once Python runs the page

    page.get_by_role("link", name="Cart, 2 items").click()  # now the client's own route
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).locator(".details")).to_have_text("Small")
    expect(lines.nth(1).locator(".details")).to_contain_text("Large")
    expect(lines.nth(1).locator(".details")).to_contain_text("Oat")
    context.close()


def _mark(page: Any, name: str) -> bool:
    return bool(page.evaluate(f"() => performance.getEntriesByName({name!r}).length > 0"))


def test_a_warm_reload_restores_the_boot_snapshot_and_the_app_works_from_it(
    browser: Browser, bff: str
) -> None:
    """After a first start the page's worker stores a snapshot of the interpreter with
    the app imported; the next load restores it instead of booting Python, and the app
    runs from it: the menu is taken over, a tap adds to the cart, routes work."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(bff + "/")
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=60_000)
    assert not _mark(page, "coffeeshop:snapshot-restored")  # a cold cache: none yet
    page.wait_for_function(
        "() => performance.getEntriesByName('coffeeshop:snapshot-stored').length > 0",
        timeout=90_000,
    )
    stored = page.evaluate(
        """async () => {
          const cache = await caches.open("coffeeshop-boot-snapshot");
          return (await cache.keys()).map((request) => new URL(request.url).pathname);
        }"""
    )
    version = page.locator("#app").get_attribute("data-version")
    assert len(stored) == 1, stored
    assert stored[0].endswith("/" + str(version)), stored

    page.reload()
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=60_000)
    assert _mark(page, "coffeeshop:snapshot-restored")
    assert not _mark(page, "coffeeshop:snapshot-stored")  # nothing to make again
    latte = page.get_by_test_id("menu-item").filter(has_text="Latte").first
    latte.get_by_test_id("quick-add").click()
    expect(page.get_by_role("link", name="Cart, 1 items")).to_be_visible()
    assert "?added" not in page.url  # Python handled the tap, not the plain form
    page.get_by_role("link", name="Cart, 1 items").click()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    assert page.url.endswith("/cart")
    context.close()


def test_a_snapshot_pyodide_refuses_is_dropped_and_python_starts_as_usual(
    browser: Browser, bff: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(bff + "/")
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=60_000)
    version = page.locator("#app").get_attribute("data-version")
    pyodide_dir = str(page.locator("#app").get_attribute("data-pyodide-dir"))
    key = f"/boot-snapshot/{pyodide_dir.strip('/').rsplit('/', 1)[-1]}/{version}"
    # A damaged entry under the current key (gzip of bytes that are no snapshot).
    page.evaluate(
        """async (key) => {
          const packed = new Blob([new Uint8Array(4096).fill(7)]).stream()
            .pipeThrough(new CompressionStream("gzip"));
          const cache = await caches.open("coffeeshop-boot-snapshot");
          await cache.put(key, new Response(packed));
        }""",
        key,
    )

    page.reload()
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=60_000)
    assert not _mark(page, "coffeeshop:snapshot-restored")
    expect(page.get_by_test_id("menu-item").first).to_be_visible()
    # Dropped, then made again from the start that replaced it.
    page.wait_for_function(
        "() => performance.getEntriesByName('coffeeshop:snapshot-stored').length > 0",
        timeout=90_000,
    )
    context.close()
