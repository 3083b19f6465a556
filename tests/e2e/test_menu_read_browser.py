"""Issue 17 in a real browser: a menu a person wants to read. Each card shows its product's
photo (a drawing the BFF serves under a versioned name, cached for a year), dietary
badges and calories; the product page's calories follow the size chosen and its badges
the milk (oat makes a latte vegan). On a phone and on a desktop, with no CSP violation.

Screenshots (`COFFEESHOP_SCREENSHOTS`): `menu-photos-desktop`, `menu-photos-phone`,
`product-photo-desktop`, `product-photo-phone` (the README's).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, ViewportSize, expect

from tests.e2e.chromium import DESKTOP, chromium_launch, shot

PHONE: ViewportSize = {"width": 390, "height": 844}
PHOTO = re.compile(r"/photos/[a-z0-9-]+\.[0-9a-f]{12}\.svg$")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_launch() as launched:
        yield launched


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def _python_runs(page: Page) -> None:
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=90_000)


def _watch(page: Page) -> tuple[list[Response], list[str]]:
    photos: list[Response] = []
    problems: list[str] = []
    page.on("response", lambda r: photos.append(r) if PHOTO.search(r.url) else None)
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return photos, problems


def _drawn(page: Page, testid: str) -> list[int]:
    """The natural widths of the photos under `testid` that the browser has drawn."""
    return list(
        page.eval_on_selector_all(
            f'[data-testid="{testid}"] img[data-testid="product-photo"]',
            "imgs => imgs.filter(i => i.complete).map(i => i.naturalWidth)",
        )
    )


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_each_card_shows_its_photo_badges_and_calories_and_a_drink_follows_its_choices(
    browser: Browser, bff: str, viewport: ViewportSize, size: str
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    photos, problems = _watch(page)

    page.goto(bff + "/")
    _python_runs(page)

    cards = page.get_by_test_id("menu-item")
    expect(cards).to_have_count(5)
    for n in range(5):
        card = cards.nth(n)
        card.scroll_into_view_if_needed()
        expect(card.get_by_test_id("product-photo")).to_be_visible()
        expect(card.locator(".description")).not_to_be_empty()
        expect(card.get_by_test_id("diet-badge").first).to_be_visible()
        expect(card.get_by_test_id("menu-calories")).to_have_text(
            re.compile(r"^\d+(\u2013\d+)? kcal$")
        )
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img[data-testid=product-photo]')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=30_000,
    )
    assert sorted(set(_drawn(page, "menu-item"))) == [480]
    latte = cards.filter(has_text="Latte").first
    expect(latte.get_by_test_id("diet-badge")).to_have_text(
        ["Vegan with plant milk", "Contains caffeine"]
    )
    expect(latte.get_by_test_id("menu-calories")).to_have_text("140\u2013250 kcal")
    expect(cards.filter(has_text="Donuts").get_by_test_id("diet-badge")).to_have_text(
        ["Vegetarian"]
    )
    assert photos, "no photo was fetched"
    for response in photos:
        assert response.status == 200, response.url
        assert response.headers["cache-control"] == "max-age=315360000, public, immutable"
        assert response.headers["content-type"] == "image/svg+xml"
    shot(page, f"menu-photos-{size}")

    latte.get_by_test_id("customise").click()
    expect(page.get_by_test_id("product-name")).to_have_text("Latte")
    hero = page.locator("img.product-hero-photo")
    expect(hero).to_be_visible()
    assert hero.get_attribute("loading") is None  # on top of the page: loaded at once
    calories = page.get_by_test_id("calories")
    expect(calories).to_have_text("140 kcal (Small)")

    page.get_by_label(re.compile(r"^Large")).check()
    expect(calories).to_have_text("250 kcal (Large)")
    page.get_by_label(re.compile(r"^Medium")).check()
    expect(calories).to_have_text("190 kcal (Medium)")
    badges = page.get_by_test_id("diet-badges").get_by_test_id("diet-badge")
    expect(badges).to_have_text(["Vegan with plant milk", "Contains caffeine"])
    page.get_by_label(re.compile(r"^Oat")).check()
    expect(badges).to_have_text(["Vegan", "Contains caffeine"])
    page.get_by_label(re.compile(r"^Whole")).check()
    expect(badges).to_have_text(["Vegan with plant milk", "Contains caffeine"])
    page.get_by_label(re.compile(r"^Oat")).check()
    expect(badges).to_have_text(["Vegan", "Contains caffeine"])  # re-rendered, focus kept
    # The page keeps focus on the last choice (and scrolls to it): show its top instead.
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
    expect(hero).to_be_in_viewport()
    shot(page, f"product-photo-{size}")

    assert problems == []
    context.close()
