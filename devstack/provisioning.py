"""What each site is given before it starts: its secret and AppRole in OpenBao, its own
PostgreSQL role and database, and a file naming them (sites.site_file)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path

from devstack.secret_files import SecretFiles, token
from devstack.servers.openbao import OpenBao, site_secret_path
from devstack.servers.postgres import Postgres
from devstack.signing_keys import IDENTITY_KEYS_PATH, ensure_identity_keys
from devstack.sites import SITES, site_file

Progress = Callable[[str, str], None]

# Secrets one site has beyond the common ones. An OAuth client's secret lives with the
# site that uses it; Identity receives it once, at seed time, and keeps only a hash.
SITE_SECRETS: dict[str, dict[str, Callable[[], str]]] = {
    "bff": {
        "oidc_client_secret": token,
        "bff_customer_client_secret": token,
        "bff_staff_client_secret": token,
        "admin_oidc_client_secret": token,
    },
    "order": {
        "identity_client_secret": token,
        "notifier_client_secret": token,
        "admin_oidc_client_secret": token,
    },
}


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


def provision_sites(
    *,
    state_dir: Path,
    openbao: OpenBao,
    postgres: Postgres,
    for_tests: bool,
    progress: Progress,
) -> None:
    """Per site: its secrets and AppRole in OpenBao, its own PostgreSQL role and database."""
    files = SecretFiles(state_dir)
    redis_password = files.redis_password()
    # The sandbox reads its keys from the state folder; each site's Vault secrets get
    # the one it needs: Order the secret key, the BFF the publishable one.
    provider_keys = {
        "order": {"payment_provider_key": files.payment_provider_key()},
        "bff": {"payment_publishable_key": files.payment_publishable_key()},
    }
    for site in SITES:
        keys = provider_keys.get(site, {})
        progress(site, "provisioning secrets (OpenBao AppRole) and database")
        creds = openbao.ensure_site(
            site,
            {
                "django_secret_key": lambda: secrets.token_urlsafe(50),
                "database_password": token,
                "redis_password": lambda: redis_password,
                **SITE_SECRETS.get(site, {}),
                **{name: _constant(value) for name, value in keys.items()},
            },
            extra_read_paths=[IDENTITY_KEYS_PATH] if site == "identity" else [],
        )
        if site == "identity":
            ensure_identity_keys(openbao, creds.values)
        # Keep Vault in step with the files in the state folder (the sandbox's keys, the
        # Redis password).
        stale = {
            name: value
            for name, value in {**keys, "redis_password": redis_password}.items()
            if creds.values.get(name) != value
        }
        if stale:
            openbao.admin_client().secrets.kv.v2.patch(
                path=site_secret_path(site), secret=stale, mount_point="secret"
            )
        db_url = postgres.ensure_database(
            name=site,
            role=site,
            password=creds.values["database_password"],
            createdb=for_tests,
        )
        path = site_file(state_dir, site)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "DATABASE_URL": db_url,
                    "VAULT_ROLE_ID_FILE": str(creds.role_id_file),
                    "VAULT_SECRET_ID_FILE": str(creds.secret_id_file),
                }
            )
        )
