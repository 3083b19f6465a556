"""The placement body's check: a canonical body by the reader compiled from the DRF
serializer (shared/fast_serializers.py), everything else by the serializer itself, and
the two never disagree (order_site/orders/serializers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from order_site.orders.serializers import (
    MAX_ID,
    LineInputSerializer,
    PlaceOrderInputSerializer,
    _place_order_input_canonical,
    place_order_input,
)
from shared.cart import MAX_LINES
from shared.fast_serializers import reader
from shared.pricing import MAX_QUANTITY, MIN_QUANTITY


def by_drf(data: Any) -> dict[str, Any] | None:
    serializer = PlaceOrderInputSerializer(data=data)
    if not serializer.is_valid():
        return None
    validated = dict(serializer.validated_data)
    validated["lines"] = [
        {**line, "option_ids": list(line["option_ids"])} for line in validated["lines"]
    ]
    return validated


# Values around every edge the serializer draws: in and out of range, of the wrong
# JSON type, and those DRF coerces (numeric strings, whole floats, booleans).
edge_ints = st.sampled_from(
    [0, 1, 2, -1, MIN_QUANTITY, MAX_QUANTITY, MAX_QUANTITY + 1, MAX_ID, MAX_ID + 1, 10**30]
)
values = st.one_of(
    edge_ints,
    st.integers(-5, 60),
    st.booleans(),
    st.none(),
    st.sampled_from(["1", " 2", "x", "", "3.0", 2.0, 2.5]),
    st.lists(st.integers(0, 5), max_size=3),
)
option_lists = st.one_of(
    st.lists(st.one_of(st.integers(0, 9), edge_ints), max_size=22),
    st.lists(values, max_size=3),
    values,
)
methods = st.sampled_from(
    [
        "pm_card_visa",
        "4242 4242 4242 4242",
        "4000000000000002",
        " pm_card_visa",
        "pm_card_visa\n",
        "pm_",
        "pm-card",
        "",
        "1234",
        None,
        7,
    ]
)
lines = st.fixed_dictionaries(
    {},
    optional={
        "product_id": st.one_of(st.integers(0, 9), values),
        "variation_id": st.one_of(st.integers(0, 9), values),
        "option_ids": option_lists,
        "quantity": st.one_of(st.integers(MIN_QUANTITY - 1, MAX_QUANTITY + 1), values),
        "extra": values,
    },
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {"lines": st.lists(lines, max_size=4)},
        optional={"payment_method": methods, "note": values},
    ),
    st.fixed_dictionaries(
        {"lines": st.lists(lines, min_size=MAX_LINES - 1, max_size=MAX_LINES + 2)}
    ),
    values,
)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_a_body_checked_directly_is_what_the_serializer_makes_of_it(body: Any):
    direct = _place_order_input_canonical(body)

    if direct is not None:
        assert direct == by_drf(body)
    expected = by_drf(body)
    if expected is None:
        with pytest.raises(ValidationError):
            place_order_input(body)
    else:
        assert place_order_input(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"payment_method": "pm_card_visa", "lines": [{"product_id": 3, "quantity": 1}]},
        {
            "payment_method": "pm_card_visa",
            "lines": [{"product_id": 3, "variation_id": None, "option_ids": [], "quantity": 2}],
        },
        {
            "lines": [{"product_id": 3, "variation_id": 4, "option_ids": [5, 6], "quantity": 20}],
            "payment_method": "pm_1a2B3c_chargeDeclined",
        },
    ],
)
def test_the_usual_bodies_are_checked_directly(body: dict[str, Any]):
    direct = _place_order_input_canonical(body)

    assert direct is not None
    assert direct == by_drf(body)
    assert direct["payment_method"] == body["payment_method"]


def test_anything_else_is_left_to_the_serializer():
    assert (
        _place_order_input_canonical(
            {"payment_method": "pm_card_visa", "lines": [{"product_id": "3", "quantity": 1}]}
        )
        is None
    )
    assert (
        _place_order_input_canonical(
            {"payment_method": "pm_card_visa", "lines": [{"product_id": True, "quantity": 1}]}
        )
        is None
    )
    assert _place_order_input_canonical({"lines": [], "payment_method": "pm_x"}) is None
    line = {"product_id": 3, "quantity": 1}
    assert _place_order_input_canonical({"lines": [line]}) is None  # no payment method
    card = {"lines": [line], "payment_method": "4242424242424242"}
    assert _place_order_input_canonical(card) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"lines": [{"product_id": 3, "quantity": 1}]},
            "A payment method is required: A payment-method token (pm_…) from the payment "
            "provider, not a card number.",
        ),
        (
            {"lines": [{"product_id": 3, "quantity": 1}], "payment_method": "4242424242424242"},
            "A payment-method token (pm_…) from the payment provider, not a card number.",
        ),
        (
            {"lines": [{"product_id": 3, "quantity": 1}], "payment_method": 4242424242424242},
            "A payment-method token (pm_…) from the payment provider, not a card number.",
        ),
    ],
)
def test_a_body_without_a_payment_token_is_refused_naming_payment_method(
    body: dict[str, Any], message: str
):
    with pytest.raises(ValidationError) as raised:
        place_order_input(body)

    assert raised.value.detail == {"payment_method": [message]}  # type: ignore[comparison-overlap]
    assert "4242" not in str(raised.value.detail)


def test_the_reader_follows_the_serializers_declaration():
    class TwoLinesAtMost(PlaceOrderInputSerializer):
        lines = serializers.ListField(child=LineInputSerializer(), min_length=1, max_length=2)

    read = reader(TwoLinesAtMost())
    line = {"product_id": 3, "quantity": 1}

    assert read({"lines": [line] * 2, "payment_method": "pm_card_visa"}) == {
        "lines": [{"product_id": 3, "variation_id": None, "option_ids": [], "quantity": 1}] * 2,
        "payment_method": "pm_card_visa",
        "cup_name": "",
        "note": "",
    }
    assert read({"lines": [line] * 3, "payment_method": "pm_card_visa"}) is None


def test_a_field_the_reader_cannot_check_is_refused_when_it_is_compiled():
    class WithADay(serializers.Serializer):
        day = serializers.DateField()

    with pytest.raises(TypeError, match="day"):
        reader(WithADay())
