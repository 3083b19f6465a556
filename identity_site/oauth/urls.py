"""The OAuth 2.0 / OpenID Connect endpoints, mounted under /o/.

Only what CoffeeShop uses: no application-management pages, no device flow, no
dynamic client registration (clients are provisioned, see ensure_oauth_clients).
URL names stay django-oauth-toolkit's, which its discovery document reverses.
"""

from django.urls import path, re_path
from oauth2_provider import views

from identity_site.oauth.apis import (
    CachedIntrospectTokenView,
    DiscoveryView,
    ExactRPInitiatedLogoutView,
    GrantCheckedTokenView,
    jwks,
)

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", GrantCheckedTokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", CachedIntrospectTokenView.as_view(), name="introspect"),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("logout/", ExactRPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", jwks, name="jwks-info"),
]
