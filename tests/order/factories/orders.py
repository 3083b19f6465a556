"""Orders with their lines, priced the way placement prices them.

Built through the models, not `order_place`: a test of the queue, a sweep or a
receipt needs an order in a given state, and the service only makes
`pending_payment` orders (and also writes the charge and the `order.placed` event,
which such tests would then have to step around). What placement guarantees, the
factory keeps (tests/order/test_factories.py holds it to the service path):

- a line's unit price is the product's base price + the variation's delta + the
  options' deltas, and its total is unit price x quantity (also a DB constraint);
- the order's total is the sum of its lines (`total=` alone makes one line of a
  product at that price; `total=` that disagrees with `lines=` is refused);
- the status history starts at "" → pending_payment and walks legal transitions
  (`TRANSITIONS`) to the order's status;
- an order that was paid has a payment reference, `paid_at` and a pickup number,
  which comes from `pickup_number_next`, the service, so numbers stay unique per
  day alongside orders paid the real way.

Not written: outbox events and the payments app's rows (tests that need them place
the order through the API or `order_place`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import factory
from django.db import transaction
from django.utils import timezone
from factory.django import DjangoModelFactory

from order_site.menu.models import DEFAULT_CURRENCY
from order_site.orders.models import (
    TRANSITIONS,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from order_site.orders.numbers import pickup_number_next
from tests.order.factories.menu import ProductFactory

DEFAULT_CUSTOMER_ID = 1001  # tests/order/conftest.py's CUSTOMER_ID


def status_path(status: str) -> list[str]:
    """The shortest legal walk of statuses from pending_payment to `status`."""
    paths: dict[str, list[str]] = {OrderStatus.PENDING_PAYMENT: [OrderStatus.PENDING_PAYMENT]}
    queue = deque([OrderStatus.PENDING_PAYMENT.value])
    while queue:
        here = queue.popleft()
        for there in sorted(TRANSITIONS[here]):
            if there not in paths:
                paths[there] = [*paths[here], there]
                queue.append(there)
    return paths[status]


class OrderLineFactory(DjangoModelFactory[OrderLine]):
    """One line of an order, a snapshot of the menu rows it names. Give it through
    `OrderFactory(lines=[{...}])`, which keeps the order's total right; `chosen=[…]`
    takes the `Option` rows chosen for the line."""

    class Meta:
        model = OrderLine

    class Params:
        chosen: Any = ()

    order = None  # required: OrderFactory passes its order
    variation = None
    product = factory.Maybe(
        "variation",
        yes_declaration=factory.SelfAttribute("variation.product"),
        no_declaration=factory.SubFactory(ProductFactory),
    )
    product_name = factory.SelfAttribute("product.name")
    variation_name = factory.LazyAttribute(lambda o: o.variation.name if o.variation else "")
    base_price = factory.SelfAttribute("product.base_price")
    variation_delta = factory.LazyAttribute(lambda o: o.variation.price_delta if o.variation else 0)
    options = factory.LazyAttribute(
        lambda o: [
            {"id": x.id, "group": x.group.name, "name": x.name, "price_delta": x.price_delta}
            for x in o.chosen
        ]
    )
    quantity = 1
    unit_price = factory.LazyAttribute(
        lambda o: o.base_price + o.variation_delta + sum(x["price_delta"] for x in o.options)
    )
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class OrderRowFactory(DjangoModelFactory[Order]):
    """An order's row alone, of 2.50, for customer 1001: no lines, no history, no pickup
    number. For a test that needs orders by the thousand, built and written in one
    `bulk_create` (`Order.objects.bulk_create(OrderRowFactory.build_batch(n))`);
    OrderFactory writes each order's lines and history, right for one, slow for 20,000."""

    class Meta:
        model = Order

    customer_id = DEFAULT_CUSTOMER_ID
    status = OrderStatus.PENDING_PAYMENT
    total = 250
    currency = DEFAULT_CURRENCY
    idempotency_key = factory.Sequence(lambda n: f"factory-{n}")
    request_fingerprint = "factory"
    response_status = 201
    response_body = factory.Dict({})


class OrderFactory(OrderRowFactory):
    """A `pending_payment` order of one line (a product at 3.00) for customer 1001.

    `lines=[{"product": latte, "quantity": 2}, …]` gives the lines (keyword arguments
    of OrderLineFactory); `status=` any status, reached by legal transitions; `total=`
    alone, an order of that total. Create only (`.build()` is not supported).
    """

    lines: Any = None
    total: Any = None

    @classmethod
    def _build(cls, model_class: type[Order], *args: Any, **kwargs: Any) -> Order:
        raise NotImplementedError("OrderFactory writes its lines: use OrderFactory(...)")

    @classmethod
    def _create(
        cls,
        model_class: type[Order],
        *args: Any,
        lines: list[dict[str, Any]] | None = None,
        total: int | None = None,
        **kwargs: Any,
    ) -> Order:
        if lines is None:
            lines = [{"product": ProductFactory(base_price=total)}] if total is not None else [{}]
        path = status_path(kwargs["status"])
        with transaction.atomic():
            order = model_class.objects.create(*args, total=0, **kwargs)
            made = [OrderLineFactory(order=order, **spec) for spec in lines]
            order.total = sum(line.line_total for line in made)
            if total is not None and total != order.total:
                raise ValueError(f"total={total} but the lines add up to {order.total}")
            if OrderStatus.PLACED in path:
                order.paid_at = timezone.now()
                order.payment_reference = f"pi_factory_{order.id}"
                order.number_day = timezone.localdate(order.paid_at)
                order.number = pickup_number_next(day=order.number_day)
            order.save()
            OrderStatusChange.objects.bulk_create(
                OrderStatusChange(
                    order=order,
                    from_status=before,
                    to_status=after,
                    actor_id=order.customer_id if before == "" else None,
                )
                for before, after in zip(["", *path], path, strict=False)
            )
        return order
