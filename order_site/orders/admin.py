from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from order_site.orders.models import Order, OrderLine, OrderStatusChange
from shared.pricing import format_money
from shared.problems import DomainError


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class StatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor_id", "at", "note")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: order changes go through the services (history, events, payments)."""

    list_display = ("id", "customer_id", "status", "total", "currency", "created_at")
    list_filter = ("status",)
    inlines = [OrderLineInline, StatusChangeInline]
    actions = ["refund"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        # Managers' group holds it (ADMIN_OIDC["MANAGER_PERMISSIONS"]).
        return bool(request.user.has_perm("payments.add_refund"))

    @admin.action(description="Refund in full (with a reason)", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return orders_refund_in_full(
            self, request, orders=list(queryset), selected=[order.pk for order in queryset]
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


def orders_refund_in_full(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    orders: list[Order],
    selected: list[int],
) -> HttpResponse | None:
    """The Refund admin action (on orders, and on payments for their orders): ask for a
    reason, then request each order's full refund through the payments service, once;
    an order refunded before is reported, not refunded again. `selected` are the rows
    ticked on the list the action runs from, posted back with the reason."""
    from order_site.payments.models import Refund
    from order_site.payments.services import payment_refund_request, refund_key

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
            refund = payment_refund_request(order_id=order.id, amount=None, reason=reason)
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
