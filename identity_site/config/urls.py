"""CoffeeShop.Identity URLs."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from shared import site_urls
from shared.site_urls import handler400, handler403, handler404, handler500  # noqa: F401

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="account"), name="home"),
    *site_urls.probe_urls(),
    path("accounts/", include("identity_site.accounts.urls")),
    path("o/", include("identity_site.oauth.urls", namespace="oauth2_provider")),
    path("api/", include("identity_site.accounts.api_urls")),
    path("admin/", admin.site.urls),
    *site_urls.schema_urls(),
]
