"""CoffeeShop.BFF URLs: the web client's API, sign-in, and the app shell."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from bff_site.gateway import apis, manage_orders, menu_edits, pages, reports
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
    path("api/session", auth.SessionApi.as_view(), name="session"),
    path("api/config", apis.ClientConfigApi.as_view(), name="config"),
    path("api/menu", apis.MenuApi.as_view(), name="menu"),
    path("api/cart/price", apis.CartPriceApi.as_view(), name="cart-price"),
    path("api/orders", apis.OrdersApi.as_view(), name="orders"),
    path("api/orders/<int:order_id>", apis.OrderApi.as_view(), name="order"),
    path("api/orders/<int:order_id>/cancel", apis.OrderCancelApi.as_view(), name="order-cancel"),
    path("api/profile", apis.ProfileApi.as_view(), name="profile"),
    path("api/favourites", apis.FavouritesApi.as_view(), name="favourites"),
    path("api/favourites/<int:favourite_id>", apis.FavouriteApi.as_view(), name="favourite"),
    path("api/staff/queue", apis.StaffQueueApi.as_view(), name="staff-queue"),
    path(
        "api/staff/orders/<int:order_id>/advance",
        apis.StaffAdvanceApi.as_view(),
        name="staff-advance",
    ),
    path(
        "api/staff/orders/<int:order_id>/reject",
        apis.StaffRejectApi.as_view(),
        name="staff-reject",
    ),
    # A plain async view (DRF views are sync): a stream held open on the event loop.
    path("api/events", apis.events, name="events"),
    path("api/manage/products/<int:product_id>", menu_edits.ProductUpdateApi.as_view()),
    path("api/manage/variations/<int:variation_id>", menu_edits.VariationUpdateApi.as_view()),
    path("api/manage/options/<int:option_id>", menu_edits.OptionUpdateApi.as_view()),
    path("api/manage/report", reports.DayReportApi.as_view(), name="manage-report"),
    path("api/manage/orders", manage_orders.OrdersSearchApi.as_view(), name="manage-orders"),
    path(
        "api/manage/orders/<int:order_id>",
        manage_orders.ManagedOrderApi.as_view(),
        name="manage-order",
    ),
    path(
        "api/manage/orders/<int:order_id>/refunds",
        manage_orders.OrderRefundApi.as_view(),
        name="manage-order-refunds",
    ),
    # Generated from the views above; JSON unless YAML is asked for.
    *site_urls.schema_urls(
        SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer])
    ),
    # The web client's pages (coffeeshop_client.router.ROUTES; tests/bff/test_pages.py
    # holds the two lists together), each served with its first HTML already rendered.
    path("cart/lines", pages.add_line, name="cart-lines"),
    *(
        path(route, pages.page)
        for route in (
            "",
            "product/<str:id>",
            "cart",
            "checkout",
            "orders",
            "orders/<str:id>",
            "queue",
            "manage/menu",
            "manage/report",
            "manage/report/<str:date>",
            "manage/orders",
            "manage/orders/<str:id>",
        )
    ),
]
