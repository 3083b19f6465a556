"""CoffeeShop.Identity URLs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from shared import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="account"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("identity_site.accounts.urls")),
    path("o/", include("identity_site.oauth.urls", namespace="oauth2_provider")),
    path("api/", include("identity_site.accounts.api_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="docs"),
]

handler400 = "shared.problems.bad_request"
handler403 = "shared.problems.permission_denied"
handler404 = "shared.problems.page_not_found"
handler500 = "shared.problems.server_error"
