"""The three Django sites on one machine: their environment, `manage.py`, gunicorn, the
web client's build, and the wait until each is ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from devstack import prerequisites
from devstack.base import HOST, REPO_ROOT, StartError

SITES = ("identity", "order", "bff")


def site_file(state_dir: Path, site: str) -> Path:
    """What provisioning learnt for a site (database URL, AppRole files), as JSON."""
    return state_dir / "sites" / f"{site}.json"


def site_env(
    site: str, *, state_dir: Path, ports: Mapping[str, int], flavour: str
) -> dict[str, str]:
    """Everything a site process needs, none of it secret (secrets come from OpenBao)."""
    data = json.loads(site_file(state_dir, site).read_text())
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "DJANGO_SETTINGS_MODULE": f"{site}_site.config.settings.{flavour}",
        "DATABASE_URL": data["DATABASE_URL"],
        "REDIS_URL": f"redis://{HOST}:{ports['redis']}/0",
        "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{ports['kafka']}",
        "VAULT_ADDR": f"http://{HOST}:{ports['openbao']}",
        "VAULT_ROLE_ID_FILE": data["VAULT_ROLE_ID_FILE"],
        "VAULT_SECRET_ID_FILE": data["VAULT_SECRET_ID_FILE"],
        "EMAIL_URL": f"smtp://{HOST}:{ports['smtp']}",
        "DJANGO_STATIC_ROOT": str(state_dir / "static" / site),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Where Celery beat records when each scheduled task last ran.
        "CELERY_BEAT_SCHEDULE_FILENAME": str(state_dir / "run" / f"{site}-beat-schedule"),
    }
    for other in SITES:
        env[f"{other.upper()}_URL"] = f"http://{HOST}:{ports[other]}"
    # Spans go to the `traces` part (Zipkin); OTEL_TRACES_SAMPLER_ARG and
    # OTEL_SDK_DISABLED pass from the environment of `up` (shared/telemetry/config.py).
    env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = f"http://{HOST}:{ports['traces']}/api/v2/spans"
    if site == "order":
        env["PAYMENT_PROVIDER_URL"] = f"http://{HOST}:{ports['payments']}"
    if site == "bff":
        # Where browsers tokenize cards (CSP connect-src, GET /api/config).
        env["PAYMENT_PROVIDER_PUBLIC_URL"] = f"http://{HOST}:{ports['payments']}"
    return env


def manage(site: str, *args: str, env: Mapping[str, str], stdin: str | None = None) -> str:
    """Run `manage.py` of a site in `env` (feeding it `stdin`); raise StartError on failure."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / f"{site}_site" / "manage.py"), *args],
        env={**os.environ, **env},
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StartError(
            site, f"manage.py {' '.join(args)} failed", (result.stdout + result.stderr)[-3000:]
        )
    return result.stdout


def gunicorn_argv(site: str, *, port: int, workers: int) -> list[str]:
    """The command line serving one site.

    The BFF runs its ASGI app on uvicorn workers: its live-update streams are
    coroutines, so one process holds thousands (docs/decisions.md, "Live updates");
    Identity and Order stay WSGI with threads."""
    if site == "bff":
        server = [
            f"{site}_site.config.asgi:application",
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
        ]
    else:
        server = [
            f"{site}_site.config.wsgi:application",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *server,
        # The master serves the workers' metrics on the part's own port (shared/metrics.py).
        "--config",
        "python:shared.gunicorn_config",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--preload",
        "--graceful-timeout",
        "10",
        "--access-logfile",
        "-",
        "--access-logformat",
        '{"access": "%(m)s %(U)s", "status": %(s)s, "ms": %(M)s}',
        # gunicorn 27's control socket is one path per user (~/.gunicorn/gunicorn.ctl):
        # every master on the machine (three per system, several systems in a test run)
        # would take it from the others. Nothing here uses it; signals stop the sites.
        "--no-control-socket",
    ]


def site_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://{HOST}:{port}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def build_web_client() -> None:
    """Vendor Pyodide and package the client (a no-op when nothing changed).

    Vendoring needs npm: as root it is installed with apt-get when missing."""
    npm_missing = prerequisites.ensure_npm()
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "wasm_client" / "build.py")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = "the web client did not build"
        if npm_missing:
            reason += f" ({npm_missing})"
        raise StartError("bff", reason, (result.stdout + result.stderr)[-3000:])
