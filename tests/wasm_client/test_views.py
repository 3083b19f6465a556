"""Rendered pages: what the end-to-end tests and assistive technology rely on."""

from __future__ import annotations

from html.parser import HTMLParser

from coffeeshop_client import router, views
from coffeeshop_client.cart import Cart
from coffeeshop_client.customize import default_selection
from coffeeshop_client.models import Menu, Order, Session
from coffeeshop_client.state import Problem, State

from tests.wasm_client.fakes import MENU, order_json


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = Collect()
    collector.feed(markup)
    return collector.tags


def state(**kwargs) -> State:
    s = State(menu=Menu.from_json(MENU), session_loaded=True)
    s.session = Session.from_json(
        {
            "authenticated": True,
            "user": {"id": 1, "name": "Casey", "roles": ["customer"]},
            "csrf_token": "t",
        }
    )
    for key, value in kwargs.items():
        setattr(s, key, value)
    return s


def ids_of(markup: str) -> list[str]:
    return [a["data-testid"] or "" for _, a in parse(markup) if a.get("data-testid")]


def test_menu_marks_items_and_escapes_names():
    html = views.page(state())

    assert ids_of(html).count("menu-item") == 3
    assert "Espresso &lt;b&gt;" in html
    assert ids_of(html).count("quick-add") == 2  # not for the sold-out banana bread
    assert "Sold out" in html


def test_every_control_has_an_id_and_no_page_uses_inline_style_or_script():
    s = state(cart=Cart().add(1, 2, (2,)), orders={"ord-0001": Order.from_json(order_json())})
    pages = []
    for fragment in ("#/", "#/product/1", "#/cart", "#/checkout", "#/orders/ord-0001"):
        s.route = router.parse(fragment)
        if s.route.name == "product":
            s.selection = default_selection(s.menu.product(1))  # type: ignore[union-attr]
        pages.append(views.page(s))
    for html in pages:
        for tag, attrs in parse(html):
            assert "style" not in attrs
            assert tag not in ("script", "style")
            assert not any(name.startswith("on") for name in attrs)
            if tag == "button" or (tag == "input" and attrs.get("type") != "hidden"):
                assert attrs.get("id"), (tag, attrs)
            if tag == "input" and attrs.get("type") != "hidden":
                assert any(t == "label" and a.get("for") == attrs["id"] for t, a in parse(html))


def test_product_page_shows_the_live_price_and_add_button():
    s = state(route=router.parse("#/product/1"))
    s.selection = default_selection(s.menu.product(1))  # type: ignore[union-attr]
    html = views.page(s)

    # Then, for a signed-in customer, "Save as my usual" (views/usuals.py).
    assert ids_of(html)[-5:-3] == ["live-price", "add-to-cart"]
    assert ids_of(html)[-3:] == ["save-usual", "favourite-name", "save-favourite"]
    assert ">£3.20<" in html
    assert 'id="option-3"' in html
    assert "(unavailable)" in html


def test_cart_total_and_checkout_button():
    s = state(route=router.parse("#/cart"), cart=Cart().add(1, 2, (2,), quantity=2).add(2, None))
    html = views.page(s)

    # (320 + 80 + 45) x 2 + 250
    assert '<strong class="price" data-testid="cart-total">£11.40</strong>' in html
    s.route = router.parse("#/checkout")
    checkout = views.page(s)
    assert 'data-testid="checkout-button"' in checkout
    assert "Pay £11.40" in checkout
    assert 'value="4242 4242 4242 4242"' not in checkout  # never pre-filled (issue 10)


def test_signed_out_customer_is_asked_to_sign_in_to_check_out():
    s = state(route=router.parse("#/cart"), cart=Cart().add(2, None))
    s.session = Session.anonymous()
    html = views.page(s)
    nav = views.nav(s)

    assert 'href="/auth/login?next=/checkout"' in html
    assert 'data-testid="sign-in"' in nav
    assert 'href="/auth/register"' in nav


def test_sign_out_is_a_real_post_form_with_the_csrf_token():
    nav = views.nav(state())

    assert '<form method="post" action="/auth/logout" class="inline" data-sign-out="1">' in nav
    assert 'name="csrfmiddlewaretoken" value="t"' in nav


def test_order_page_has_status_progress_and_aria():
    s = state(route=router.parse("#/orders/ord-0001"))
    s.orders = {"ord-0001": Order.from_json(order_json(status="in_preparation"))}
    html = views.page(s)

    assert 'data-testid="order-status" data-status="in_preparation"' in html
    assert 'aria-current="step"' in html
    assert 'data-testid="cancel-order"' not in html  # too late to cancel
    assert "To cancel this order, ask at the counter." in html


def test_an_unpaid_order_can_be_cancelled_without_a_countdown():
    s = state(route=router.parse("#/orders/ord-0001"))
    s.orders = {"ord-0001": Order.from_json(order_json(status="pending_payment"))}
    html = views.page(s)

    assert 'data-testid="cancel-order"' in html
    assert 'data-testid="cancel-time-left"' not in html


def test_error_banner_is_an_alert_with_retry():
    s = state(problem=Problem("The ordering service is unavailable right now.", retry="reload"))
    html = views.page(s)

    assert '<div class="banner banner-bad" role="alert" data-testid="error-banner">' in html
    assert 'data-action="retry"' in html


def test_queue_board_groups_by_status_with_one_tap_buttons():
    s = state(route=router.parse("#/queue"), queue_loaded=True)
    s.session = Session.from_json(
        {"authenticated": True, "user": {"id": 2, "name": "Bo", "roles": ["barista"]}}
    )
    s.queue = [
        Order.from_json(order_json("a1", "placed")),
        Order.from_json(order_json("b2", "in_preparation")),
        Order.from_json(order_json("c3", "ready")),
    ]
    html = views.page(s)
    buttons = [a for t, a in parse(html) if a.get("data-testid") == "advance-button"]

    assert [(b["data-order"], b["data-to"]) for b in buttons] == [
        ("a1", "in_preparation"),
        ("b2", "ready"),
        ("c3", "collected"),
    ]
    assert ids_of(html).count("queue-item") == 3


def test_behind_a_backlog_the_newest_arrivals_come_first_in_their_column():
    s = state(route=router.parse("#/queue"), queue_loaded=True)
    s.session = Session.from_json(
        {"authenticated": True, "user": {"id": 2, "name": "Bo", "roles": ["barista"]}}
    )
    s.queue = [Order.from_json(order_json(f"o{n}", "placed")) for n in range(50)]
    s.queue_newest = {
        "placed": [Order.from_json(order_json(f"o{n}", "placed")) for n in (501, 500)]
    }
    s.queue_counts = {"placed": 502, "in_preparation": 0, "ready": 0}
    s.queue_more = {"placed": "c50"}
    html = views.page(s)
    cards = [a["data-order-id"] for _, a in parse(html) if a.get("data-testid") == "queue-item"]

    # The latest order is at the top of the column, in sight, not under 50 older cards.
    assert cards == ["o501", "o500", *[f"o{n}" for n in range(50)]]
    assert html.index("Newest arrivals") < html.index("Oldest first") < html.index("Show more")


def test_an_expired_session_offers_to_sign_in_again_and_come_back():
    s = state(
        route=router.parse("#/orders/ab12"),
        problem=Problem("Please sign in to do that.", status=401),
    )
    html = views.page(s)

    assert 'href="/auth/login?next=/orders/ab12"' in html


def barista_queue(**kwargs) -> State:
    s = state(route=router.parse("#/queue"), queue_loaded=True, **kwargs)
    s.session = Session.from_json(
        {"authenticated": True, "user": {"id": 2, "name": "Bo", "roles": ["barista"]}}
    )
    s.queue = [
        Order.from_json(order_json("a1", "placed")),
        Order.from_json(order_json("b2", "in_preparation")),
        Order.from_json(order_json("c3", "ready")),
    ]
    return s


def test_placed_and_in_preparation_cards_offer_reject_and_ready_ones_do_not():
    html = views.page(barista_queue())
    buttons = [a for t, a in parse(html) if a.get("data-testid") == "reject-button"]

    assert [(b["data-action"], b["data-order"]) for b in buttons] == [
        ("reject-open", "a1"),
        ("reject-open", "b2"),
    ]
    assert "reject-form" not in ids_of(html)


def test_reject_asks_for_a_reason_in_a_small_form_on_the_card():
    html = views.page(barista_queue(rejecting="a1"))
    tags = parse(html)
    [form] = [a for t, a in tags if t == "form" and a.get("data-testid") == "reject-form"]
    [reason] = [a for t, a in tags if a.get("data-testid") == "reject-reason"]

    assert (form["data-action"], form["data-order"]) == ("reject", "a1")
    assert (reason["name"], reason["maxlength"], "required" in reason) == ("reason", "200", True)
    assert any(t == "label" and a.get("for") == reason["id"] for t, a in tags)
    assert ids_of(html).count("reject-button") == 1  # b2 still offers its own
    assert "Reject and refund" in html


def test_a_rejected_order_page_shows_why_and_that_it_is_refunded():
    order = Order.from_json(
        order_json("ord-0001", "rejected", status_reason="Out of oat milk & soy")
    )
    s = state(route=router.parse("#/orders/ord-0001"), orders={"ord-0001": order})
    html = views.page(s)

    assert 'data-testid="order-rejected"' in html
    assert (
        '<strong>Rejected: </strong><span data-testid="reject-reason-shown">'
        "Out of oat milk &amp; soy</span> — refunded"
    ) in html
    assert "Taking payment" not in html


def test_the_pickup_number_names_the_order_on_its_page_its_list_and_the_barista_card():
    paid = Order.from_json(order_json("5169", "placed", number="A-042"))
    page = state(route=router.parse("#/orders/5169"))
    page.orders = {"5169": paid}
    listing = state(route=router.parse("#/orders"))
    listing.orders, listing.order_ids, listing.orders_loaded = {"5169": paid}, ["5169"], True
    board = state(
        route=router.parse("#/queue"),
        session=Session.from_json(
            {"authenticated": True, "user": {"id": "2", "name": "B", "roles": ["barista"]}}
        ),
        queue=[paid],
        queue_loaded=True,
    )

    shown = [views.page(s) for s in (page, listing, board)]

    assert all("A-042" in html for html in shown)
    assert not any("5169</" in html or "#5169" in html for html in shown)
