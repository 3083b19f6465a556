"""CoffeeShop.BFF URLs: the web client's API, sign-in, and the app shell."""

from django.contrib import admin
from django.urls import include, path

from bff_site.gateway import apis, manage_orders, menu_edits, openapi, reports
from bff_site.sessions import apis as auth
from shared import site_urls
from shared.admin_oidc.views import admin_oidc_urls
from shared.site_urls import handler400, handler403, handler404, handler500  # noqa: F401

urlpatterns = [
    *site_urls.probe_urls(),
    *admin_oidc_urls(),
    path("admin/", admin.site.urls),
    path("auth/login", auth.login, name="login"),
    path("auth/register", auth.register, name="register"),
    path("auth/callback", auth.callback, name="callback"),
    path("auth/logout", auth.logout, name="logout"),
    path("auth/signed-out", auth.signed_out, name="signed-out"),
    path("api/session", auth.session_summary, name="session"),
    path("api/config", apis.client_config, name="config"),
    path("api/menu", apis.menu, name="menu"),
    path("api/cart/price", apis.cart_price, name="cart-price"),
    path("api/orders", apis.order_list_or_place, name="orders"),
    path("api/orders/<int:order_id>", apis.order_detail, name="order"),
    path("api/orders/<int:order_id>/cancel", apis.order_cancel, name="order-cancel"),
    path("api/profile", apis.profile, name="profile"),
    path("api/staff/queue", apis.staff_queue, name="staff-queue"),
    path("api/staff/orders/<int:order_id>/advance", apis.staff_advance, name="staff-advance"),
    path("api/staff/orders/<int:order_id>/reject", apis.staff_reject, name="staff-reject"),
    path("api/events", apis.events, name="events"),
    path("api/manage/products/<int:product_id>", menu_edits.product_update),
    path("api/manage/variations/<int:variation_id>", menu_edits.variation_update),
    path("api/manage/options/<int:option_id>", menu_edits.option_update),
    path("api/manage/report", reports.day_report, name="manage-report"),
    path("api/manage/orders", manage_orders.orders_search, name="manage-orders"),
    path("api/manage/orders/<int:order_id>", manage_orders.order_detail, name="manage-order"),
    path(
        "api/manage/orders/<int:order_id>/refunds",
        manage_orders.order_refund,
        name="manage-order-refunds",
    ),
    *site_urls.schema_urls(openapi.schema),
    path("", include("bff_site.web.urls")),
]
