from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from order_site.order_payments.admin import orders_refund_in_full
from order_site.orders.models import Favourite, Order, OrderLine, OrderStatusChange


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

    list_display = ("id", "number", "customer_id", "cup_name", "status", "total", "created_at")
    list_filter = ("status",)
    search_fields = ("cup_name", "note")
    inlines = [OrderLineInline, StatusChangeInline]
    actions = ["refund"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        # Managers' group holds it (ADMIN_OIDC["MANAGER_PERMISSIONS"]).
        return bool(request.user.has_perm("payments.add_refund"))

    @admin.action(description="Refund in full (with a reason)", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return orders_refund_in_full(
            self,
            request,
            order_ids=[order.pk for order in queryset],
            selected=[order.pk for order in queryset],
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Favourite)
class FavouriteAdmin(admin.ModelAdmin):
    """Customers' saved drinks, to look at: a customer saves and removes their own."""

    list_display = ("id", "customer_id", "name", "product", "variation", "option_ids", "created_at")
    search_fields = ("name",)
    list_select_related = ("product", "variation")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
