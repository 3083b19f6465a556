"""CoffeeShop.Order URLs."""

from django.contrib import admin
from django.urls import include, path

from order_site.reports.apis import OrderReportApi
from shared import site_urls
from shared.admin_oidc.views import admin_oidc_urls
from shared.site_urls import handler400, handler403, handler404, handler500  # noqa: F401

urlpatterns = [
    *site_urls.probe_urls(),
    *admin_oidc_urls(),
    path("admin/", admin.site.urls),
    path("api/menu/", include("order_site.menu.urls")),
    path("api/orders/report/", OrderReportApi.as_view(), name="orders-report"),
    path("api/orders/", include("order_site.orders.urls")),
    *site_urls.schema_urls(),
]
