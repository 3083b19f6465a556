"""The web client's pages rendered by the BFF (bff_site/gateway/pages.py): the menu, a
product and the cart usable before Python has loaded, with plain forms, one cart cookie
both sides read, and bad input refused without changing the cart.

Order runs for real behind the BFF (migrated, demo menu seeded); the web client is built
as `up` builds it, and its views are imported from the archive the browser runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client
from django.urls import resolve

from bff_site.clients.http import order_service
from bff_site.gateway import pages
from bff_site.web.assets import dist_dir
from devstack import sites
from devstack.base import Process
from devstack.stack import Stack


@pytest.fixture(scope="module")
def order(test_stack: Stack) -> Iterator[Process]:
    test_stack.manage("order", "migrate", "--noinput")
    test_stack.manage("order", "seed_menu")
    test_stack.restart_site("order")
    process = test_stack.process("order")
    assert process is not None
    try:
        yield process
    finally:
        process.stop(timeout=10)


@pytest.fixture(scope="module")
def built() -> None:
    """The web client built (a no-op when it is current), read as the BFF reads it."""
    sites.build_web_client()
    apps.get_app_config("web").ready()


@pytest.fixture
def menu(order: Process, built: None) -> dict[str, Any]:
    cache.clear()
    order_service.cache_clear()
    order_service().breaker.reset()  # type: ignore[union-attr]
    response = Client().get("/api/menu")
    assert response.status_code == 200
    return dict(response.json())


def ids(menu: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for category in menu["categories"]:
        for product in category["products"]:
            found[product["name"]] = product["id"]
            for group in product["option_groups"]:
                found[f"{product['name']}/{group['name']}"] = group["id"]
                for option in group["options"]:
                    found[f"{group['name']}/{option['name']}"] = option["id"]
    return found


def token_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page's forms"
    return match.group(1)


def cart_of(browser: Client) -> list[dict[str, Any]]:
    from coffeeshop_client.cart import CART_COOKIE, Cart

    cookie = browser.cookies.get(CART_COOKIE)
    return Cart.from_token(cookie.value if cookie else None).to_api()


def test_every_page_of_the_client_is_served_here(built):
    from coffeeshop_client import router

    for pattern in router.ROUTES.values():
        path = re.sub(r"\{\w+\}", "7", pattern)
        assert resolve(path).func is pages.page, path


def test_the_menu_arrives_rendered_with_forms_that_work_without_python(menu):
    browser = Client(enforce_csrf_checks=True)
    response = browser.get("/")
    html = response.content.decode()

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "Latte" in html
    assert 'data-testid="menu-item"' in html
    assert 'action="/cart/lines"' in html
    assert 'method="post"' in html
    assert 'data-testid="app-loading"' not in html  # no skeleton: the menu itself
    assert "Cart (0)" in html
    assert token_of(html)


def test_the_menu_arrives_with_each_products_photo_badges_and_calories(menu):
    photos = json.loads((dist_dir() / "manifest.json").read_text(encoding="utf-8"))["photos"]

    html = unescape(Client().get("/").content.decode())

    for name, key in [("Latte", "latte"), ("Iced Coffee", "iced-coffee"), ("Donuts", "donuts")]:
        card = html.split(f'data-product-name="{name}"', 1)[1]
        card = card.split('data-testid="menu-item"', 1)[0]
        assert f'src="/{photos[key]}"' in card, name
        assert Client().get("/" + photos[key]).status_code == 200
    assert 'width="480" height="360"' in html
    assert 'data-badge="caffeine">Contains caffeine</li>' in html
    assert 'data-badge="vegetarian">Vegetarian</li>' in html
    assert 'data-testid="menu-calories">140\u2013250 kcal</p>' in html
    assert 'data-testid="menu-calories">260 kcal</p>' in html


def test_the_product_page_arrives_with_the_photo_and_the_calories_of_the_first_size(menu):
    n = ids(menu)

    html = unescape(Client().get(f"/product/{n['Latte']}").content.decode())

    assert 'class="product-hero-photo"' in html
    assert 'data-testid="calories" aria-live="polite">140 kcal (Small)</p>' in html
    assert "A double shot of our house espresso" in html


def test_quick_add_puts_the_cards_choice_in_the_cart_cookie_and_says_so(menu):
    n = ids(menu)
    browser = Client(enforce_csrf_checks=True)
    token = token_of(browser.get("/").content.decode())

    response = browser.post(
        "/cart/lines", {"csrfmiddlewaretoken": token, "product": n["Latte"], "next": "/"}
    )

    assert response.status_code == 303
    assert response["Location"] == f"/?added={n['Latte']}&qty=1"
    [line] = cart_of(browser)
    assert line["product_id"] == n["Latte"]
    assert line["quantity"] == 1
    page = unescape(browser.get(response["Location"]).content.decode())
    assert "Added Latte to your cart." in page
    assert "Cart (1)" in page


def test_a_customised_drink_from_the_product_page_lands_in_the_cart_as_chosen(menu):
    n = ids(menu)
    browser = Client(enforce_csrf_checks=True)
    html = browser.get(f"/product/{n['Latte']}").content.decode()
    assert 'data-testid="add-to-cart"' in html

    response = browser.post(
        "/cart/lines",
        {
            "csrfmiddlewaretoken": token_of(html),
            "product": n["Latte"],
            "quantity": 2,
            f"group-{n['Latte/Size']}": n["Size/Large"],
            f"group-{n['Latte/Milk']}": n["Milk/Oat"],
            "next": f"/product/{n['Latte']}",
        },
    )

    assert response.status_code == 303
    assert response["Location"].startswith(f"/product/{n['Latte']}?added=")
    assert cart_of(browser) == [
        {
            "product_id": n["Latte"],
            "variation_id": None,
            "option_ids": sorted([n["Size/Large"], n["Milk/Oat"]]),
            "quantity": 2,
        }
    ]
    cart_page = unescape(browser.get("/cart").content.decode())
    assert 'data-testid="cart-line"' in cart_page
    assert "Oat" in cart_page


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"quantity": 21}, "Choose a quantity from 1 to 20."),
        ({"quantity": "lots"}, "Choose a quantity from 1 to 20."),
        ({"option": 999999}, "That choice is not on the menu."),
    ],
)
def test_a_choice_the_menu_does_not_offer_is_a_400_and_the_cart_is_unchanged(menu, change, said):
    n = ids(menu)
    browser = Client(enforce_csrf_checks=True)
    token = token_of(browser.get("/").content.decode())
    browser.post("/cart/lines", {"csrfmiddlewaretoken": token, "product": n["Espresso"]})
    before = cart_of(browser)

    form: dict[str, Any] = {
        "csrfmiddlewaretoken": token,
        "product": n["Latte"],
        "quantity": change.get("quantity", 1),
        f"group-{n['Latte/Milk']}": change.get("option", n["Milk/Oat"]),
    }
    response = browser.post("/cart/lines", form)

    assert response.status_code == 400
    assert said in unescape(response.content.decode())
    assert cart_of(browser) == before


def test_a_product_not_on_the_menu_is_a_400(menu):
    browser = Client(enforce_csrf_checks=True)
    token = token_of(browser.get("/").content.decode())

    response = browser.post("/cart/lines", {"csrfmiddlewaretoken": token, "product": 999999})

    assert response.status_code == 400
    assert "Not on the menu" in response.content.decode()
    assert cart_of(browser) == []


def test_without_the_sessions_csrf_token_nothing_is_added(menu):
    n = ids(menu)
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")

    response = browser.post("/cart/lines", {"product": n["Latte"]})

    assert response.status_code == 403
    assert cart_of(browser) == []


def test_somewhere_else_is_never_where_the_form_goes_back_to(menu):
    n = ids(menu)
    browser = Client(enforce_csrf_checks=True)
    token = token_of(browser.get("/").content.decode())

    for elsewhere, back in (("//evil.example/", "/?"), ("//cart", "/cart?"), ("/x", "/?")):
        response = browser.post(
            "/cart/lines",
            {"csrfmiddlewaretoken": token, "product": n["Latte"], "next": elsewhere},
        )

        assert response["Location"].startswith(back + "added="), elsewhere


def test_checkout_is_never_rendered_before_python_runs_it(menu):
    """Its card form works only in the client: the server sends the frame and a loader,
    so no native submit can ever carry a card anywhere."""
    html = Client().get("/checkout").content.decode()

    assert 'id="pay-form"' not in html
    assert 'name="card' not in html
    assert 'class="loading"' in html


def test_without_a_built_client_every_page_says_so_with_a_503(monkeypatch):
    from bff_site.web.apps import WebConfig

    monkeypatch.setattr(WebConfig, "assets", None)

    for response in (Client().get("/"), Client().post("/cart/lines", {"product": 1})):
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
