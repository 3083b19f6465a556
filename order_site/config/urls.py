"""CoffeeShop.Order URLs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from order_site.reports.apis import OrderReportApi
from shared import health
from shared.admin_oidc.views import admin_oidc_urls

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    *admin_oidc_urls(),
    path("admin/", admin.site.urls),
    path("api/menu/", include("order_site.menu.urls")),
    path("api/orders/report/", OrderReportApi.as_view(), name="orders-report"),
    path("api/orders/", include("order_site.orders.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="docs"),
]

handler400 = "shared.problems.bad_request"
handler403 = "shared.problems.permission_denied"
handler404 = "shared.problems.page_not_found"
handler500 = "shared.problems.server_error"
