"""Read-only listings: payments change only through the provider's answers; managers
may request an order's full refund from here (the orders list's Refund action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from order_site.order_payments.admin import orders_refund_in_full
from order_site.payments.models import Payment, Refund


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "order_id",
        "amount",
        "currency",
        "status",
        "attempts",
        "provider_reference",
        "failure_code",
        "created_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("=order_id", "=idempotency_key", "=provider_reference")
    actions = ["refund"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.add_refund"))

    @admin.action(description="Refund the order in full (with a reason)", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        """The orders list's Refund action, for the orders of the ticked payments."""
        return orders_refund_in_full(
            self,
            request,
            order_ids=list(queryset.values_list("order_id", flat=True)),
            selected=[payment.pk for payment in queryset],
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "order_id",
        "amount",
        "status",
        "attempts",
        "provider_reference",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("=order_id", "=idempotency_key", "=provider_reference")
