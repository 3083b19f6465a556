"""OpenAPI description of the introspection bearer authentication (drf-spectacular)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IntrospectionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "order_site.users.authentication.IntrospectionAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An access token from Identity, checked by introspection (RFC 7662). "
                "Clients holding `orders:on-behalf-of` state the user in `X-Acting-User` "
                "and `X-Acting-Roles`."
            ),
        }
