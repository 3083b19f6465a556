"""The mails a customer gets: an itemised receipt when paid (text and HTML), and
sentences that read right (no "declined.." when a reason brings its own full stop)."""

from __future__ import annotations

from typing import Any

import pytest

from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.notifications.receipts import vat_included
from order_site.orders import services
from order_site.orders.models import Order, OrderLine
from order_site.outbox.models import OutboxEvent
from order_site.users.models import Customer
from shared.events import Envelope, build_envelope
from tests.order.conftest import option, product, variation
from tests.order.factories.users import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMER = 31337
PAID_AT = "2026-12-04T15:04:05Z"


@pytest.fixture
def customer(db: Any) -> Customer:
    return CustomerFactory(id=CUSTOMER, email="ada@example.com")


def paid_order() -> Order:
    """2 x Vanilla Latte, Large, Oat, Extra shot (4.00 + 0.30 + 0.80 + 0.40 + 0.60 = 6.10
    each) and 1 x Boston Cream donut (2.50): 14.70, of which VAT (20%) 2.45."""
    latte = services.LineRequest(
        product_id=product("Latte").id,
        variation_id=variation("Latte", "Vanilla").id,
        option_ids=(
            option("Size", "Large").id,
            option("Milk", "Oat").id,
            option("Extra shot", "Extra shot").id,
        ),
        quantity=2,
    )
    donut = services.LineRequest(
        product_id=product("Donuts").id,
        variation_id=variation("Donuts", "Boston Cream").id,
        quantity=1,
    )
    order = services.order_place(
        customer_id=CUSTOMER,
        idempotency_key="receipt",
        fingerprint="receipt",
        lines=[latte, donut],
        render=lambda order: {"id": order.id},
        payment_method="pm_card_visa",
    ).order
    return services.order_mark_paid(order_id=order.id, payment_reference="pi_receipt")


def paid_event(order: Order) -> Envelope:
    row = OutboxEvent.objects.get(key=str(order.id), event_type="order.paid")
    return Envelope(**{**row.envelope, "occurred_at": PAID_AT})


def test_paid_mail_is_an_itemised_receipt_with_vat_in_text_and_html(menu, customer, mailoutbox):
    order = paid_order()
    _, on_event = HANDLERS["order-notifications"]

    on_event(paid_event(order))

    [mail] = mailoutbox
    assert mail.subject == "Order A-001: paid"
    assert mail.to == ["ada@example.com"]
    assert mail.body == (
        "Thank you for your order at CoffeeShop.\n"
        "\n"
        "Receipt for order A-001\n"
        "Paid 4 December 2026, 15:04 UTC\n"
        "\n"
        "2 x Latte (Vanilla)                   £12.20\n"
        "    Size: Large (+£0.80)\n"
        "    Milk: Oat (+£0.40)\n"
        "    Extra shot: Extra shot (+£0.60)\n"
        "    £6.10 each\n"
        "    Contains: cereals containing gluten.\n"
        "1 x Donuts (Boston Cream)              £2.50\n"
        "    Contains: cereals containing gluten, eggs, milk, soybeans.\n"
        "--------------------------------------------\n"
        "Total                                 £14.70\n"
        "VAT included (20%)                     £2.45\n"
        "\n"
        "Your order number is A-001. We will e-mail you when it is ready\n"
        "to collect at:\n"
        "CoffeeShop, 1 Roastery Lane, London EC1A 1AA\n"
    )
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    assert "<h1>Receipt for order A-001</h1>" in html
    assert (
        "<td>Latte (Vanilla)<br><small>Size: Large (+£0.80), Milk: Oat (+£0.40), "
        "Extra shot: Extra shot (+£0.60)</small><br><small>£6.10 each</small>"
        "<br><small>Contains: cereals containing gluten.</small></td>"
    ) in html
    assert "<td><strong>£14.70</strong></td>" in html
    assert '<th scope="row" colspan="2">VAT included (20%)</th><td>£2.45</td>' in html
    assert "<address>CoffeeShop, 1 Roastery Lane, London EC1A 1AA</address>" in html
    message = mail.message()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.get_payload()] == [
        "text/plain",
        "text/html",
    ]


def test_receipt_html_escapes_what_came_from_the_menu_and_the_shop_setting(
    menu, customer, mailoutbox, settings
):
    order = paid_order()
    OrderLine.objects.filter(order=order, product_name="Donuts").update(
        product_name="Tea & <b>Cake</b>"
    )
    settings.SHOP_ADDRESS = '<script>alert("x")</script> Lane'
    _, on_event = HANDLERS["order-notifications"]

    on_event(paid_event(order))

    [mail] = mailoutbox
    html = mail.alternatives[0][0]
    assert "<td>Tea &amp; &lt;b&gt;Cake&lt;/b&gt; (Boston Cream)<br><small>" in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Lane" in html
    assert "<script>" not in html
    assert "<b>" not in html
    assert "1 x Tea & <b>Cake</b> (Boston Cream)" in mail.body  # text stays text


def test_the_receipt_names_the_cup_and_the_note_escaped_in_html(menu, customer, mailoutbox):
    order = paid_order()
    Order.objects.filter(id=order.id).update(cup_name="<b>Ada</b>", note="Oat & hot")
    _, on_event = HANDLERS["order-notifications"]

    on_event(paid_event(order))

    [mail] = mailoutbox
    assert "Paid 4 December 2026, 15:04 UTC\nName on the cup: <b>Ada</b>\n" in mail.body
    assert "Note for the barista: Oat & hot\n\n" in mail.body
    html = mail.alternatives[0][0]
    assert "<p>Name on the cup: <strong>&lt;b&gt;Ada&lt;/b&gt;</strong></p>" in html
    assert "<p>Note for the barista: Oat &amp; hot</p>" in html
    assert "<b>" not in html


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        ("Your card was declined.", "Your card was declined."),
        ("card declined", "Card declined."),
        ("Your card has insufficient funds. ", "Your card has insufficient funds."),
        ("", "The card was declined."),
    ],
)
def test_payment_failed_mail_reads_as_sentences_whatever_the_reason_ends_with(
    customer, mailoutbox, reason, sentence
):
    _, on_event = HANDLERS["order-notifications"]

    on_event(
        build_envelope(
            event_type="order.payment_failed",
            payload={
                "order_id": 7,
                "customer_id": CUSTOMER,
                "total": 550,
                "currency": "GBP",
                "reason": reason,
            },
        )
    )

    [mail] = mailoutbox
    assert mail.body == (
        f"We could not take the payment for order #7. {sentence} Nothing was charged.\n"
    )
    assert ".." not in mail.body
    assert (
        f"<p>We could not take the payment for order #7. {sentence} Nothing was charged.</p>"
        in (mail.alternatives[0][0])
    )


def test_ready_and_refund_mails_have_a_text_and_an_html_part(customer, mailoutbox):
    _, on_event = HANDLERS["order-notifications"]
    base = {"order_id": 7, "customer_id": CUSTOMER, "total": 550, "currency": "GBP"}

    on_event(
        build_envelope(event_type="order.status_changed", payload={**base, "to_status": "ready"})
    )
    on_event(build_envelope(event_type="order.refunded", payload=base))

    ready, refunded = mailoutbox
    assert ready.body == (
        "Your order #7 is ready to collect at the counter.\n\n"
        "CoffeeShop, 1 Roastery Lane, London EC1A 1AA\n"
    )
    assert refunded.body == (
        "We refunded £5.50 for order #7.\n\n"
        "It reaches your card in a few working days, depending on your bank.\n"
    )
    assert [m.alternatives[0][1] for m in mailoutbox] == ["text/html", "text/html"]


@pytest.mark.parametrize(
    ("total", "vat"), [(600, 100), (1470, 245), (550, 92), (3, 1), (2, 0), (0, 0)]
)
def test_vat_included_is_a_sixth_of_a_20_percent_inclusive_total_rounded_half_up(total, vat):
    assert vat_included(total, rate_percent=20) == vat
