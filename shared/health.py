"""`GET /healthz` (the process is alive) and `GET /readyz` (its dependencies answer).

DESIGN.md, operations contract: readiness names each dependency that is down —
database, cache, broker, secret store — and answers 503 until all are up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shared.problems import problem

CHECK_TIMEOUT = 2.0


def check_database() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()


_kafka_admin: Any = None
_kafka_lock = threading.Lock()


def check_broker() -> None:
    from confluent_kafka.admin import AdminClient

    global _kafka_admin
    with _kafka_lock:
        if _kafka_admin is None:
            _kafka_admin = AdminClient(
                {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "socket.timeout.ms": 2000}
            )
    _kafka_admin.list_topics(timeout=CHECK_TIMEOUT)


def check_secret_store() -> None:
    response = httpx.get(f"{settings.VAULT_ADDR}/v1/sys/seal-status", timeout=CHECK_TIMEOUT)
    response.raise_for_status()
    if response.json().get("sealed", True):
        raise RuntimeError("sealed")


def check_dapr() -> None:
    from shared.mesh import check_sidecar

    check_sidecar()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "secret_store": check_secret_store,
    # Dapr mode only (site_settings adds it): this site's sidecar.
    "dapr": check_dapr,
}

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def run_checks(names: list[str]) -> dict[str, str]:
    """Run the named checks at once; each answers "ok" or "down: <reason>"."""

    def one(name: str) -> str:
        try:
            CHECKS[name]()
        except Exception as exc:  # any failure means not ready
            return f"down: {type(exc).__name__}: {str(exc)[:200]}"
        return "ok"

    futures = {name: _pool.submit(one, name) for name in names}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=CHECK_TIMEOUT + 3)
        except Exception:
            results[name] = "down: timed out"
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "site": settings.SITE_NAME})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = run_checks(list(settings.READINESS_CHECKS))
    down = [name for name, result in results.items() if result != "ok"]
    if down:
        return problem(
            503,
            "Not ready",
            "Unavailable: " + ", ".join(down),
            slug="not-ready",
            down=down,
            checks=results,
        )
    return JsonResponse({"status": "ok", "site": settings.SITE_NAME, "checks": results})
