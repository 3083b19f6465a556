"""The opening every site's `config/settings/base.py` shares, read the same way by each.

`site_opening()` answers the settings below as a dict the site puts into its module
(`globals().update(...)`); what is special to a site stays in its own settings:

- `SITE_NAME`; `SECRET_KEY` from the site's Vault secrets;
- `ALLOWED_HOSTS`, `CSRF_TRUSTED_ORIGINS` (`DJANGO_ALLOWED_HOSTS`, `DJANGO_CSRF_TRUSTED_ORIGINS`);
- `DATABASES` from `DATABASE_URL` and the Vault password (`database_options` added);
- `REDIS_URL`, `REDIS_PASSWORD` and `CACHES` (`cache_options` added), the cache's keys
  prefixed with the site's name;
- `KAFKA_BOOTSTRAP_SERVERS`, `VAULT_ADDR`;
- `STATIC_ROOT` (`DJANGO_STATIC_ROOT`, else `.state/static/<site>` in the repository);
- `LOGGING` (JSON lines, `LOG_LEVEL`, with the trace and span ids);
- `TRACES`: where spans go and how many are kept (shared/telemetry/config.py);
- `MESH` (`direct` or `dapr`, shared/mesh.py); in Dapr mode `READINESS_CHECKS` adds
  the sidecar (`dapr`);
- with `celery_broker_db`, the Celery basics every worker here uses: Redis as the broker
  on that database number, results not kept, a task acknowledged after it ran and taken
  one at a time, its logs in JSON as the site's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

from shared import mesh
from shared import settings as common
from shared.base_settings import READINESS_CHECKS
from shared.logging import logging_config
from shared.telemetry.config import trace_settings


def site_opening(
    site: str,
    env: environ.Env,
    *,
    base_dir: Path,
    secrets: dict[str, str],
    database_options: dict[str, Any] | None = None,
    cache_options: dict[str, Any] | None = None,
    celery_broker_db: int | None = None,
) -> dict[str, Any]:
    """The settings every site reads alike (module docstring), for `globals().update`."""
    database = common.database(
        env.str("DATABASE_URL"), common.require(secrets, "database_password", site)
    )
    database["OPTIONS"] |= database_options or {}
    redis_url = env.str("REDIS_URL")
    redis_password = common.require(secrets, "redis_password", site)
    cache = common.redis_cache(redis_url, redis_password, prefix=site)
    cache["OPTIONS"] |= cache_options or {}
    opening: dict[str, Any] = {
        "SITE_NAME": site,
        "SECRET_KEY": common.require(secrets, "django_secret_key", site),
        "ALLOWED_HOSTS": env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"]),
        "CSRF_TRUSTED_ORIGINS": env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[]),
        "DATABASES": {"default": database},
        "REDIS_URL": redis_url,
        "REDIS_PASSWORD": redis_password,
        "CACHES": {"default": cache},
        "KAFKA_BOOTSTRAP_SERVERS": env.str("KAFKA_BOOTSTRAP_SERVERS"),
        "VAULT_ADDR": env.str("VAULT_ADDR"),
        "STATIC_ROOT": env.path(
            "DJANGO_STATIC_ROOT", default=base_dir.parent / ".state" / "static" / site
        ),
        "LOGGING": logging_config(site, env.str("LOG_LEVEL", default="INFO")),
        "MESH": mesh.mode(),
        "TRACES": trace_settings(),
    }
    if opening["MESH"] == mesh.DAPR:
        opening["READINESS_CHECKS"] = [*READINESS_CHECKS, "dapr"]
    if celery_broker_db is not None:
        broker = f"{redis_url.rsplit('/', 1)[0]}/{celery_broker_db}"
        opening |= {
            "CELERY_BROKER_URL": common.with_password(broker, redis_password),
            "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
            "CELERY_TASK_IGNORE_RESULT": True,
            "CELERY_TASK_ACKS_LATE": True,
            "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
            # The worker logs through LOGGING (JSON lines with trace and span ids), not
            # a text handler of its own.
            "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        }
    return opening
