"""The Django app that starts traces in every long-lived process of a site.

Listed in every site's INSTALLED_APPS (shared/settings.py): `ready()` looks at what the
process is (`role`) and, for a role that serves or works (gunicorn, a Celery worker or
beat, a relay, a consumer), starts traces under its service name. Any other process
(`migrate`, a shell, the tests) starts none.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

# Long-lived management commands and the role each one is (the service name is
# `<site>-<role>`, the part name `up` shows).
COMMAND_ROLES = {
    "run_outbox_relay": "relay",
    "run_order_consumers": "consumers",
    "run_live_updates": "live",
}


def role(argv: Sequence[str]) -> str | None:
    """ "" for a site's web server, a worker role ("relay", "worker", "beat" …), or None
    for a process that is not long-lived."""
    if not argv:
        return None
    program = Path(argv[0])
    if "gunicorn" in program.parts or program.name.startswith("gunicorn"):
        return ""
    if "celery" in program.parts or program.name == "celery":
        for verb in ("worker", "beat"):
            if verb in argv[1:]:
                return verb
        return None
    if program.name == "manage.py" and len(argv) > 1:
        return COMMAND_ROLES.get(argv[1])
    return None


def service_name(site: str, process_role: str) -> str:
    return f"{site}-{process_role}" if process_role else site


class TelemetryConfig(AppConfig):
    name = "shared.telemetry"
    label = "coffeeshop_telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        process_role = role(sys.argv)
        if process_role is None:
            return
        from shared.telemetry.setup import start

        start(settings.TRACES, service_name=service_name(settings.SITE_NAME, process_role))
