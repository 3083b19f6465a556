"""The OAuth clients Identity must know, as code: who signs in or calls whom, and how.

`clients_catalogue` gives each client with the secret its user site holds in OpenBao;
`manage.py ensure_oauth_clients` gets the list on stdin (never on a command line), and
Identity keeps only a hash of each secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devstack.base import HOST
from devstack.servers.openbao import OpenBao, site_secret_path

_ORDERS = ["orders:read", "orders:write", "orders:on-behalf-of"]
_MACHINE = "client-credentials"
_PERSON = ["openid", "profile", "email", "roles"]


def clients_catalogue(*, openbao: OpenBao, ports: Mapping[str, int]) -> list[dict[str, Any]]:
    """Every OAuth client of the local system, each with its current secret."""
    client = openbao.admin_client()

    def secret(site: str, key: str) -> str:
        data = client.secrets.kv.v2.read_secret_version(
            path=site_secret_path(site), mount_point="secret", raise_on_deleted_version=True
        )
        return str(data["data"]["data"][key])

    def urls(site: str, path: str) -> list[str]:
        return [f"http://{host}:{ports[site]}{path}" for host in (HOST, "localhost")]

    # Each site's Django admin signs staff in as its own client (shared/admin_oidc).
    admins = [
        {
            "client_id": f"{site}-admin",
            "name": f"{site.capitalize()} admin",
            "grant_type": "authorization-code",
            "secret": secret(site, "admin_oidc_client_secret"),
            "allowed_scopes": _PERSON,
            "redirect_uris": urls(site, "/admin/oidc/callback"),
        }
        for site in ("order", "bff")
    ]
    return [
        *admins,
        {
            "client_id": "bff-web",
            "name": "CoffeeShop",
            "grant_type": "authorization-code",
            "secret": secret("bff", "oidc_client_secret"),
            "allowed_scopes": _PERSON,
            "redirect_uris": urls("bff", "/auth/callback"),
            "post_logout_redirect_uris": urls("bff", "/"),
        },
        {
            "client_id": "bff-customer",
            "name": "BFF for customers",
            "grant_type": _MACHINE,
            "secret": secret("bff", "bff_customer_client_secret"),
            "allowed_scopes": _ORDERS,
        },
        {
            "client_id": "bff-staff",
            "name": "BFF for staff",
            "grant_type": _MACHINE,
            "secret": secret("bff", "bff_staff_client_secret"),
            "allowed_scopes": [*_ORDERS, "orders:staff"],
        },
        {
            "client_id": "order-service",
            "name": "Order",
            "grant_type": _MACHINE,
            "secret": secret("order", "identity_client_secret"),
            "allowed_scopes": ["introspection", "users:read"],
        },
        {
            "client_id": "notifier",
            "name": "Order's notification dispatcher",
            "grant_type": _MACHINE,
            "secret": secret("order", "notifier_client_secret"),
            "allowed_scopes": ["users:read"],
        },
    ]
