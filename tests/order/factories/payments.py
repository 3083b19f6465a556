"""Order's charges, as placement writes them (`payment_new`): one `requested` payment
per order, for the order's total and currency, its idempotency key derived from the
order. A test of the charge, the dispatcher or a refund starts from such a row; the
tests of `payment_request` itself call the service."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from order_site.payments.models import Payment
from order_site.payments.services import charge_key
from tests.order.factories.orders import OrderFactory


class PaymentFactory(DjangoModelFactory[Payment]):
    """The requested charge of `order=` (default: a new `pending_payment` order of one
    line at 3.00), paid with `payment_token=` (default the sandbox's good test card;
    `pm_card_chargeDeclined` … for its declines)."""

    class Meta:
        model = Payment

    class Params:
        order = factory.SubFactory(OrderFactory)

    order_id = factory.SelfAttribute("order.id")
    amount = factory.SelfAttribute("order.total")
    currency = factory.SelfAttribute("order.currency")
    idempotency_key = factory.LazyAttribute(lambda o: charge_key(o.order.id))
    payment_token = "pm_card_visa"
