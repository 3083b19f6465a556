"""Issue 17 in the web client: the name on the cup and the note, "Order again" with
today's prices and sold-out lines flagged, and "my usual" added in one tap."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from coffeeshop_client import reorder, router, views
from coffeeshop_client.cart import Cart
from coffeeshop_client.models import Favourite, Menu, Order

from tests.wasm_client.fakes import MENU, order_json, queue_json
from tests.wasm_client.test_app import GOOD_CARD, make
from tests.wasm_client.test_views import ids_of, parse, state

INJECTION = '<img src=x onerror="alert(1)">Sam'


def with_ids(**extra: Any) -> dict[str, Any]:
    """A past order of a Large Latte with oat milk (ids of fakes.MENU), x2, at old prices."""
    line = {
        "product_id": 1,
        "variation_id": 2,
        "option_ids": [2],
        "product_name": "Latte",
        "variation_name": "Large",
        "options": ["Oat"],
        "quantity": 2,
        "unit_price": 300,
        "line_total": 600,
    }
    return order_json("ord-7", "collected", total=600, lines=[line], **extra)


def menu_with(changes: dict[int, bool]) -> dict[str, Any]:
    """fakes.MENU with the given Latte options' availability changed."""
    menu = json.loads(json.dumps(MENU))
    for group in menu["categories"][0]["products"][0]["option_groups"]:
        for option in group["options"]:
            option["is_available"] = changes.get(option["id"], option["is_available"])
    return menu


# ---- the name on the cup and the note ----------------------------------------------------


def test_the_queue_card_shows_the_cup_name_and_note_escaped():
    order = Order.from_json(order_json("o1", "placed", cup_name=INJECTION, note="No lid & hot"))
    s = state(
        route=router.parse("/queue"),
        queue=[order],
        queue_loaded=True,
        session=state().session.__class__.from_json(
            {"authenticated": True, "user": {"id": 9, "roles": ["barista"]}, "csrf_token": "t"}
        ),
    )

    html = views.page(s)

    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Sam" in html
    assert "No lid &amp; hot" in html
    assert ids_of(html).count("queue-cup-name") == 1
    assert ids_of(html).count("queue-note") == 1


def test_a_card_without_them_shows_neither():
    s = state(route=router.parse("/queue"), queue_loaded=True)
    s.queue = [Order.from_json(order_json("o1", "placed"))]
    s.session = state().session.__class__.from_json(
        {"authenticated": True, "user": {"id": 9, "roles": ["barista"]}, "csrf_token": "t"}
    )

    html = views.page(s)

    assert "queue-cup-name" not in html
    assert "queue-note" not in html


def test_the_order_page_shows_the_cup_name_and_note_escaped():
    order = Order.from_json(with_ids(cup_name=INJECTION, note="Oat & hot"))
    s = state(route=router.parse("/orders/ord-7"), orders={order.id: order})

    html = views.page(s)

    assert "<img" not in html
    assert "&lt;img" in html
    assert "Oat &amp; hot" in html
    assert {"order-cup-name", "order-note", "order-again", "save-usual-line"} <= set(ids_of(html))


def test_checkout_sends_the_trimmed_cup_name_and_note_and_forgets_them_after():
    app, bff, _platform = make("/checkout")
    bff.on("POST", "/api/orders", (201, order_json("o9", cup_name="Sam", note="Hot")))

    async def scenario() -> None:
        await app.start()
        app.set_cart(Cart().add(2, None))
        await app.dispatch("checkout", {**GOOD_CARD, "cup_name": " Sam ", "note": "Hot "})

    asyncio.run(scenario())

    (sent,) = bff.sent("POST", "/api/orders")
    body = json.loads(sent.body or "{}")
    assert (body["cup_name"], body["note"]) == ("Sam", "Hot")
    assert (app.state.cup_name, app.state.note) == ("", "")


def test_checkout_without_them_sends_the_body_it_always_sent():
    app, bff, _platform = make("/checkout")
    bff.on("POST", "/api/orders", (201, order_json("o9")))

    async def scenario() -> None:
        await app.start()
        app.set_cart(Cart().add(2, None))
        await app.dispatch("checkout", GOOD_CARD)

    asyncio.run(scenario())

    (sent,) = bff.sent("POST", "/api/orders")
    assert set(json.loads(sent.body or "{}")) == {"lines", "payment_method"}


def test_the_checkout_form_has_the_two_fields_with_orders_limits():
    s = state(route=router.parse("/checkout"), cart=Cart().add(2, None), cup_name="Sam")

    html = views.page(s)

    assert 'id="cup-name"' in html
    assert 'maxlength="20"' in html
    assert 'value="Sam"' in html
    assert 'id="note"' in html
    assert 'maxlength="140"' in html


# ---- order again ---------------------------------------------------------------------------


def test_order_again_fills_the_cart_priced_today_and_says_so():
    app, _bff, platform = make("/orders")
    _bff.on("GET", "/api/orders", (200, {"results": [with_ids()]}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("order-again", {"order": "ord-7"})
        await app.on_route(platform.path)

    asyncio.run(scenario())

    assert platform.navigations[-1] == "/cart"
    assert app.state.cart.to_api() == [
        {"product_id": 1, "variation_id": 2, "option_ids": [2], "quantity": 2}
    ]
    # Today's price: 3.20 + 0.80 + 0.45 = 4.45 each, not the 3.00 paid then.
    assert "£8.90" in platform.view_html
    assert "Added 2 items from order A-001 at today&#x27;s prices." in platform.view_html
    assert "cart-line-problem" not in platform.view_html
    assert 'data-testid="go-to-checkout"' in platform.view_html


def test_a_sold_out_line_goes_in_flagged_and_checkout_waits():
    app, bff, platform = make("/orders")
    bff.on("GET", "/api/menu", (200, menu_with({2: False})))
    bff.on("GET", "/api/orders", (200, {"results": [with_ids()]}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("order-again", {"order": "ord-7"})
        await app.on_route(platform.path)

    asyncio.run(scenario())

    assert app.state.cart.count == 2
    assert "Latte: Oat milk is sold out today." in platform.announced[-1]
    assert ids_of(platform.view_html).count("cart-line-problem") == 1
    assert "Oat milk is sold out today." in platform.view_html
    assert 'data-testid="go-to-checkout"' not in platform.view_html
    assert 'data-testid="checkout-blocked"' in platform.view_html


def test_a_line_whose_product_left_the_menu_is_named_not_dropped_silently():
    gone = {**with_ids()["lines"][0], "product_id": None, "product_name": "Gingerbread"}
    order = Order.from_json(order_json("o2", "collected", lines=[gone, with_ids()["lines"][0]]))

    done = reorder.order_again(Cart(), Menu.from_json(MENU), order)

    assert done.added == 2
    assert done.flagged == ("Gingerbread: no longer on the menu, not added.",)
    assert done.cart.count == 2


def test_each_way_a_line_can_no_longer_be_served_is_said():
    menu = Menu.from_json(MENU)

    assert reorder.line_problem(menu, 99, None, ()) == "No longer on the menu."
    assert reorder.line_problem(menu, 3, None, ()) == "Banana bread is sold out today."
    assert reorder.line_problem(menu, 1, 3, (1,)) == "Huge Latte is sold out today."
    assert reorder.line_problem(menu, 1, 77, (1,)) == "That size is no longer offered."
    assert reorder.line_problem(menu, 1, 1, (3,)) == "Soy milk is sold out today."
    assert reorder.line_problem(menu, 1, 1, (88,)) == "One of its options is no longer offered."
    assert reorder.line_problem(menu, 1, 1, (2, 4)) is None


def test_the_orders_list_has_order_again_on_each_order():
    o = Order.from_json(with_ids())
    s = state(route=router.parse("/orders"), orders={o.id: o}, order_ids=[o.id], orders_loaded=True)

    assert ids_of(views.page(s)).count("order-again") == 1


# ---- my usual ------------------------------------------------------------------------------

USUAL = {"id": 5, "name": "Monday <b>", "product_id": 1, "variation_id": 2, "option_ids": [2]}


def test_the_menu_lists_my_usuals_with_todays_price_escaped():
    s = state(favourites=[Favourite.from_json(USUAL)])

    html = views.page(s)

    assert ids_of(html)[:4] == ["usuals", "usual", "usual-name", "usual-price"]
    assert "Monday &lt;b&gt;" in html
    assert "Latte, Large, Oat" in html
    assert ">£4.45<" in html
    assert "usual-problem" not in html


def test_a_usual_sold_out_today_is_flagged_and_cannot_be_added():
    s = state(menu=Menu.from_json(menu_with({2: False})), favourites=[Favourite.from_json(USUAL)])

    html = views.page(s)

    assert "Oat milk is sold out today." in html
    (add,) = [attrs for _, attrs in parse(html) if attrs.get("id") == "favourite-add-5"]
    assert "disabled" in add


def test_a_regular_reorders_their_usual_in_two_taps():
    app, bff, platform = make("/")
    bff.on("GET", "/api/favourites", (200, {"results": [USUAL]}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("favourite-add", {"favourite": "5"})  # tap 1

    asyncio.run(scenario())

    assert app.state.cart.to_api() == [
        {"product_id": 1, "variation_id": 2, "option_ids": [2], "quantity": 1}
    ]
    assert platform.announced[-1] == "Added Monday <b> to your cart."
    # Tap 2 is the Checkout link beside the usuals.
    assert 'href="/checkout" data-testid="usuals-checkout"' in platform.view_html
    assert "Checkout (1)" in platform.view_html


def test_the_menu_is_rendered_with_the_usuals_before_the_first_render():
    app, bff, platform = make("/")
    bff.on("GET", "/api/favourites", (200, {"results": [USUAL]}))

    asyncio.run(app.start())

    assert platform.focused_heading == 0
    assert 'data-testid="usuals"' in platform.view_html
    assert bff.sent("GET", "/api/favourites")


def test_save_as_my_usual_from_a_product_page_sends_the_drink_as_chosen():
    app, bff, platform = make("/product/1")
    bff.on("GET", "/api/favourites", (200, {"results": []}))
    bff.on("POST", "/api/favourites", (201, {**USUAL, "name": "Mine"}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("choose-variation", {"id": "2"})
        await app.dispatch("toggle-option", {"id": "2"})
        await app.dispatch("favourite-save", {"name": "  Mine  "})

    asyncio.run(scenario())

    (sent,) = bff.sent("POST", "/api/favourites")
    assert json.loads(sent.body or "{}") == {
        "product_id": 1,
        "variation_id": 2,
        "option_ids": [2],
        "name": "Mine",
    }
    assert sent.headers["X-CSRF-Token"] == "csrf-123"
    assert [f.id for f in app.state.favourites] == ["5"]
    assert "Saved Mine as my usual" in platform.view_html


def test_save_as_my_usual_from_a_past_order_line():
    app, bff, platform = make("/orders/ord-7")
    bff.on("GET", "/api/favourites", (200, {"results": []}))
    bff.on("GET", "/api/orders/ord-7", (200, with_ids()))
    bff.on("POST", "/api/favourites", (201, {**USUAL, "name": ""}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("favourite-from-line", {"order": "ord-7", "line": "0"})

    asyncio.run(scenario())

    (sent,) = bff.sent("POST", "/api/favourites")
    assert json.loads(sent.body or "{}")["option_ids"] == [2]
    assert 'data-testid="saved-usual"' in platform.view_html


def test_a_refused_save_says_why_in_the_banner():
    app, bff, platform = make("/orders/ord-7")
    bff.on("GET", "/api/orders/ord-7", (200, with_ids()))
    bff.on(
        "POST",
        "/api/favourites",
        (409, {"title": "Too many favourites", "status": 409, "detail": "You have 20."}),
    )

    async def scenario() -> None:
        await app.start()
        await app.dispatch("favourite-from-line", {"order": "ord-7", "line": "0"})

    asyncio.run(scenario())

    assert 'data-testid="error-banner"' in platform.view_html
    assert app.state.favourites == []


def test_removing_a_usual_takes_it_off_the_menu():
    app, bff, platform = make("/")
    bff.on("GET", "/api/favourites", (200, {"results": [USUAL]}))
    bff.on("DELETE", "/api/favourites/5", (204, None))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("favourite-remove", {"favourite": "5"})

    asyncio.run(scenario())

    assert bff.sent("DELETE", "/api/favourites/5")
    assert 'data-testid="usuals"' not in platform.view_html


def test_the_queue_answer_carries_the_cup_name_to_the_card():
    app, bff, platform = make("/queue", roles=("barista",))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json("o1", "placed", cup_name="Jo"))))

    asyncio.run(app.start())

    assert 'data-testid="queue-cup-name">Jo<' in platform.view_html
