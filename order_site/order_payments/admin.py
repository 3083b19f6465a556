"""The Refund action of the orders and payments lists in the admin: it moves money, so
it lives with the other flows of an order's payments; `order_site.orders.admin` and
`order_site.payments.admin` offer it on their lists (the template stays with orders:
`admin/orders/refund.html`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from order_site.order_payments.refunds import refund_request
from order_site.orders.models import Order
from order_site.payments.models import Refund
from order_site.payments.services import refund_key
from shared.pricing import format_money
from shared.problems import DomainError


def orders_refund_in_full(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    order_ids: list[int],
    selected: list[int],
) -> HttpResponse | None:
    """The Refund admin action (on orders, and on payments for their orders): ask for a
    reason, then request each order's full refund (`refunds.refund_request`), once;
    an order refunded before is reported, not refunded again. `selected` are the rows
    ticked on the list the action runs from, posted back with the reason."""
    orders = list(Order.objects.filter(id__in=order_ids))
    reason = request.POST.get("reason", "").strip()[:255]
    if "apply" not in request.POST or not reason:
        if "apply" in request.POST:
            model_admin.message_user(request, "Give a reason for the refund.", messages.ERROR)
        return TemplateResponse(
            request,
            "admin/orders/refund.html",
            {
                **model_admin.admin_site.each_context(request),
                "orders": orders,
                "selected": selected,
            },
        )
    for order in orders:
        # The order's full refund (one per order); after a manager's part refunds it
        # refunds what is left.
        earlier = Refund.objects.filter(idempotency_key=refund_key(order.id)).first()
        if earlier is not None:
            model_admin.message_user(
                request,
                f"Order {order.id} was already refunded (refund {earlier.id}, "
                f"{earlier.status}); nothing done.",
                messages.WARNING,
            )
            continue
        try:
            refund = refund_request(order_id=order.id, amount=None, reason=reason)
        except DomainError as exc:
            model_admin.message_user(request, f"Order {order.id}: {exc.detail}", messages.ERROR)
            continue
        amount = format_money(refund.amount, order.currency)
        model_admin.log_change(request, order, f"Refunded in full ({amount}): {reason}")
        model_admin.message_user(
            request,
            f"Order {order.id}: refund of {amount} requested.",
            messages.SUCCESS,
        )
    return None
