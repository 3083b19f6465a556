from __future__ import annotations

from coffeeshop_client.cart import Cart


def test_adding_the_same_drink_twice_merges_into_one_line():
    cart = Cart().add(1, 2, (5, 4)).add(1, 2, [4, 5], quantity=2)

    assert len(cart.lines) == 1
    assert cart.lines[0].quantity == 3
    assert cart.lines[0].option_ids == (4, 5)
    assert cart.count == 3


def test_different_options_make_different_lines():
    cart = Cart().add(1, 2, (4,)).add(1, 2, (5,)).add(1, 1, (4,))

    assert [line.key for line in cart.lines] == ["1:2:4", "1:2:5", "1:1:4"]


def test_quantity_is_capped_at_twenty_per_line():
    cart = Cart().add(1, None, (), quantity=15).add(1, None, (), quantity=9)

    assert cart.lines[0].quantity == 20
    assert cart.set_quantity("1::", 99).lines[0].quantity == 20


def test_quantity_zero_removes_the_line():
    cart = Cart().add(1, None).add(2, None)

    assert [line.product_id for line in cart.change_quantity("1::", -1).lines] == [2]
    assert cart.set_quantity("2::", 0).count == 1


def test_cart_survives_a_round_trip_through_storage():
    cart = Cart().add(1, 2, (4,), quantity=2).add(7, None)

    assert Cart.loads(cart.dumps()) == cart
    assert cart.to_api() == [
        {"product_id": 1, "variation_id": 2, "option_ids": [4], "quantity": 2},
        {"product_id": 7, "variation_id": None, "option_ids": [], "quantity": 1},
    ]


def test_unreadable_storage_gives_an_empty_cart():
    assert Cart.loads("not json").is_empty
    assert Cart.loads('[{"nope": 1}]').is_empty
    assert Cart.loads(None).is_empty
