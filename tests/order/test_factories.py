"""The Order suite's factories keep the invariants placement keeps: a factory-built
order is priced line for line as `order_place` prices it, its total is the sum of its
lines, its history walks legal transitions, and a paid one has a unique pickup number;
a factory charge is the payment row placement writes for its order."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from order_site.orders import services
from order_site.orders.models import TRANSITIONS, Order, OrderLine, OrderStatus
from order_site.payments.services import payment_new
from tests.order.factories.menu import OptionFactory, OptionGroupFactory, VariationFactory
from tests.order.factories.orders import OrderFactory, OrderLineFactory
from tests.order.factories.payments import PaymentFactory

pytestmark = pytest.mark.django_db

LINE_FIELDS = (
    "product_id",
    "product_name",
    "variation_id",
    "variation_name",
    "base_price",
    "variation_delta",
    "options",
    "quantity",
    "unit_price",
    "line_total",
)


def broken_invariants(order: Order) -> list[str]:
    """What is wrong with a stored order, in words (empty when nothing is)."""
    wrong = []
    lines = list(order.lines.all())
    for line in lines:
        deltas = line.variation_delta + sum(o["price_delta"] for o in line.options)
        if line.unit_price != line.base_price + deltas:
            wrong.append(f"line {line.id}: unit price is not base + deltas")
        if line.line_total != line.unit_price * line.quantity:
            wrong.append(f"line {line.id}: total is not unit price x quantity")
    if not lines:
        wrong.append("no lines")
    if order.total != sum(line.line_total for line in lines):
        wrong.append("total is not the sum of the lines")
    history = [(c.from_status, c.to_status) for c in order.status_changes.order_by("id")]
    if not history or history[0] != ("", OrderStatus.PENDING_PAYMENT):
        wrong.append("history does not start at pending_payment")
    if any(after not in TRANSITIONS[before] for before, after in history[1:]):
        wrong.append("history has an illegal transition")
    if history and history[-1][1] != order.status:
        wrong.append("history does not end at the order's status")
    paid = any(after == OrderStatus.PLACED for _, after in history)
    if paid != bool(order.number and order.paid_at and order.payment_reference):
        wrong.append("paid without a number, time and reference (or the other way round)")
    return wrong


@pytest.fixture
def latte() -> dict[str, Any]:
    """A latte at 4.00 with a Vanilla variation (+0.30), a Size group (Large +0.80)
    and a Milk group (Oat +0.40): 5.50."""
    vanilla = VariationFactory(product__name="Latte", product__base_price=400, price_delta=30)
    size = OptionGroupFactory(name="Size", min_selections=1)
    milk = OptionGroupFactory(name="Milk")
    large = OptionFactory(group=size, name="Large", price_delta=80)
    OptionFactory(group=size, name="Small")
    oat = OptionFactory(group=milk, name="Oat", price_delta=40)
    vanilla.product.option_groups.set([size, milk])
    return {"product": vanilla.product, "variation": vanilla, "chosen": [large, oat]}


def line_values(order: Order) -> list[tuple[Any, ...]]:
    return [tuple(getattr(line, f) for f in LINE_FIELDS) for line in order.lines.all()]


def test_a_factory_order_is_priced_line_for_line_as_placement_prices_it(latte):
    placed = services.order_place(
        customer_id=1001,
        idempotency_key="service",
        fingerprint="service",
        lines=[
            services.LineRequest(
                product_id=latte["product"].id,
                variation_id=latte["variation"].id,
                option_ids=tuple(o.id for o in latte["chosen"]),
                quantity=3,
            )
        ],
        render=lambda order: {"id": order.id},
        payment_method="pm_card_visa",
    ).order
    service_order = Order.objects.get(id=placed.id)

    factory_order = OrderFactory(lines=[{**latte, "quantity": 3}])

    assert line_values(factory_order) == line_values(service_order)
    assert (
        (factory_order.total, factory_order.currency, factory_order.status)
        == (
            service_order.total,
            service_order.currency,
            service_order.status,
        )
        == (1650, "GBP", "pending_payment")
    )
    assert broken_invariants(service_order) == []
    assert broken_invariants(factory_order) == []


def test_a_paid_factory_order_keeps_placements_invariants_as_the_service_path_does(latte):
    order = OrderFactory(lines=[{**latte, "quantity": 3}])
    paid = services.order_mark_paid(order_id=order.id, payment_reference="pi_service")

    factory_paid = OrderFactory(status="placed", lines=[latte])

    assert broken_invariants(paid) == []
    assert broken_invariants(factory_paid) == []
    # Both numbers come from the same counter: unique within the day.
    assert (paid.number, factory_paid.number) == ("A-001", "A-002")


@pytest.mark.parametrize("status", OrderStatus.values)
def test_a_factory_order_in_any_status_keeps_the_invariants(status):
    order = OrderFactory(status=status, lines=[{"quantity": 2}, {"product__base_price": 250}])

    assert broken_invariants(Order.objects.get(id=order.id)) == []
    assert order.total == 2 * 300 + 250


def test_a_total_alone_makes_one_line_of_that_price_and_a_total_the_lines_miss_is_refused():
    assert line_values(OrderFactory(total=450))[0][-2:] == (450, 450)

    with pytest.raises(ValueError, match="lines add up to 300"):
        OrderFactory(total=450, lines=[{}])

    assert list(Order.objects.values_list("total", flat=True)) == [450]


@pytest.mark.parametrize("wrong", [{"line_total": 301}, {"quantity": 0}, {"quantity": 21}], ids=str)
def test_the_database_refuses_a_line_the_factory_was_told_to_get_wrong(wrong):
    order = OrderFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLineFactory(order=order, **wrong)

    assert OrderLine.objects.filter(order=order).count() == 1


PAYMENT_FIELDS = ("order_id", "amount", "currency", "idempotency_key", "payment_token", "status")


def test_a_factory_charge_is_the_row_placement_writes_for_its_order():
    order = OrderFactory(currency="EUR", total=450)
    service_payment = payment_new(
        order_id=order.id, amount=order.total, currency="eur", payment_method="pm_card_visa"
    )

    factory_payment = PaymentFactory(order=order)

    assert [getattr(factory_payment, f) for f in PAYMENT_FIELDS] == [
        getattr(service_payment, f) for f in PAYMENT_FIELDS
    ]
    assert [getattr(factory_payment, f) for f in PAYMENT_FIELDS] == [
        order.id,
        450,
        "EUR",
        f"order-{order.id}-charge",
        "pm_card_visa",
        "requested",
    ]
