"""Read-only listings: payments change only through the provider's answers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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
