from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from order_site.orders.models import Order, OrderLine, OrderStatusChange


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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
