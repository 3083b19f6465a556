from __future__ import annotations

import pytest
from coffeeshop_client import card, router, statuses
from coffeeshop_client.html import Markup, h


@pytest.mark.parametrize(
    ("location", "name", "params"),
    [
        ("", "menu", {}),
        ("/", "menu", {}),
        ("/cart", "cart", {}),
        ("/orders/ab-12", "order", {"id": "ab-12"}),
        ("/product/3?added=3&qty=1", "product", {"id": "3"}),
        ("/nowhere/at/all", "menu", {}),
        # Old links, from before the routes were paths:
        ("#/", "menu", {}),
        ("#/cart", "cart", {}),
        ("#/orders/ab-12", "order", {"id": "ab-12"}),
        ("#/product/3", "product", {"id": "3"}),
        ("#/queue", "queue", {}),
        ("#/nowhere/at/all", "menu", {}),
    ],
)
def test_routes_parse_from_the_path_or_an_old_fragment(location, name, params):
    route = router.parse(location)

    assert (route.name, route.params) == (name, params)


def test_routes_format_to_paths():
    assert router.href("order", id="x1") == "/orders/x1"


def test_only_the_apps_own_paths_are_taken_over():
    """What a click on a link may show without the server: the app's pages, not the
    sign-in, the admin or the API."""
    assert router.match("/product/3") == router.Route("product", {"id": "3"})
    assert router.match("/") == router.Route("menu")
    for path in ("/auth/login", "/admin/", "/api/menu", "/product/3/more", "/nowhere"):
        assert router.match(path) is None, path


def test_the_query_is_read_last_value_wins():
    assert router.query("/?added=3&qty=2") == {"added": "3", "qty": "2"}
    assert router.query("/cart") == {}
    assert router.query("/?a=1&a=2#x") == {"a": "2"}


def test_test_cards_pass_the_luhn_check_and_typos_do_not():
    assert card.card_problem("4242 4242 4242 4242") is None
    assert card.card_problem("4000000000000002") is None
    assert card.card_problem("4242 4242 4242 4241") == (
        "That card number has a typo (the check digit is wrong)."
    )
    assert card.card_problem("4242") == "Enter the 16 digits of the card."
    assert card.card_problem("4242-abcd") == "A card number has only digits."
    assert card.group("4242424242424242") == "4242 4242 4242 4242"


def test_statuses_have_labels_steps_and_next_actions():
    assert statuses.label("in_preparation") == "Being made"
    assert statuses.step_index("ready") == 2
    assert statuses.step_index("payment_failed") == -1
    assert statuses.NEXT_STEP["placed"] == ("in_preparation", "Start making")
    assert "collected" not in statuses.NEXT_STEP
    assert statuses.announcement("AB12", "ready") == "Order AB12 is ready to collect."
    assert statuses.announcement("AB12", "payment_failed", "Card declined") == (
        "Payment for order AB12 was declined: Card declined"
    )
    assert statuses.short_id("7f3c0e2a-0000-4000-8000-00000000ab12") == "AB12"


def test_html_escapes_text_and_attributes():
    out = h("a", {"href": '/x?a=1&b="2"', "data_testid": "t", "disabled": False}, "<b>")

    assert out == '<a href="/x?a=1&amp;b=&quot;2&quot;" data-testid="t">&lt;b&gt;</a>'
    assert h("p", None, Markup("<i>ok</i>")) == "<p><i>ok</i></p>"


def test_html_refuses_inline_styles_and_handlers():
    with pytest.raises(ValueError, match="CSP"):
        h("p", {"style": "color: red"})
    with pytest.raises(ValueError, match="CSP"):
        h("button", {"onclick": "go()"})
