"""The whole local system: infrastructure, secrets, databases, sites and workers.

`manage_all.py up` and the test harness both use `Stack`: the same servers, the
same provisioning, only the state folder and the ports differ.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import hvac.exceptions

from devstack.base import (
    HOST,
    REPO_ROOT,
    PortInUse,
    Process,
    StartError,
    port_in_use,
    run_user,
    spawn,
    tcp_open,
    wait_until,
)
from devstack.kafka import COFFEESHOP_TOPICS, Kafka, ensure_kafka_installed, ensure_topics
from devstack.openbao import OpenBao
from devstack.postgres import Postgres
from devstack.redis import Redis

SITES = ("identity", "order", "bff")

# Local defaults (COFFEESHOP_<PART>_PORT overrides each). The servers' ports stay below
# Linux's ephemeral range (32768-60999): a client connecting to a port in that range
# while nothing listens there yet can be given that very port as its source and connect
# to itself, which then holds the port against the server starting on it.
DEFAULT_PORTS = {
    "bff": 8000,
    "identity": 8001,
    "order": 8002,
    "postgres": 25432,
    "redis": 26379,
    "kafka": 29092,
    "kafka_controller": 29093,
    "openbao": 28200,
    "smtp": 21025,
    "payments": 28010,
}

Progress = Callable[[str, str], None]


def _manage(site: str, *args: str) -> list[str]:
    return [str(REPO_ROOT / f"{site}_site" / "manage.py"), *args]


# Long-lived background processes: name -> (site whose env they run in, argv after the
# interpreter, a word their log prints once they are ready).
WORKERS: dict[str, tuple[str, list[str], str]] = {
    "worker": (
        "order",
        [
            "-m",
            "celery",
            "-A",
            "order_site.config.celery",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        "ready",
    ),
    # Order's schedule (CELERY_BEAT_SCHEDULE: the purges), run by the worker above. One
    # beat only: a second would send every task twice.
    "order-beat": (
        "order",
        ["-m", "celery", "-A", "order_site.config.celery", "beat", "--loglevel", "INFO"],
        "beat: Starting",
    ),
    # Identity's housekeeping (its purges): one worker with its beat embedded.
    "identity-worker": (
        "identity",
        [
            "-m",
            "celery",
            "-A",
            "identity_site.config.celery",
            "worker",
            "--beat",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        "ready",
    ),
    "bff-live": ("bff", _manage("bff", "run_live_updates"), "consuming"),
    # Identity's outbox (user events) to Kafka.
    "identity-relay": ("identity", _manage("identity", "run_outbox_relay"), "relaying"),
    # Order's outbox to Kafka, and its consumers (user copy, notification e-mails).
    "order-relay": ("order", _manage("order", "run_outbox_relay"), "outbox relay ready"),
    "order-consumers": (
        "order",
        _manage("order", "run_order_consumers"),
        "order consumers ready",
    ),
}


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _log_says(proc: Process, word: str, since: int = 0) -> bool:
    """Whether the log has said `word` since byte `since` (where this start began).

    Read from that offset, not a tail: a worker with a backlog logs its readiness
    and then hundreds of task lines within the same second."""
    try:
        with proc.logfile.open("rb") as fh:
            if fh.seek(0, os.SEEK_END) < since:
                since = 0  # the log was truncated or replaced: read it all
            fh.seek(since)
            return word.encode() in fh.read(8 * 1024 * 1024)
    except OSError:
        return False


def port_setting(part: str) -> str:
    return f"COFFEESHOP_{part.upper()}_PORT"


def ports_from_env(environ: dict[str, str] | None = None) -> dict[str, int]:
    environ = dict(os.environ if environ is None else environ)
    return {
        part: int(environ.get(port_setting(part), port)) for part, port in DEFAULT_PORTS.items()
    }


def default_state_dir() -> Path:
    return Path(os.environ.get("COFFEESHOP_STATE_DIR", REPO_ROOT / ".state"))


def _token() -> str:
    return secrets.token_urlsafe(32)


def _rsa_private_key() -> str:
    """A 2048-bit RSA key in PEM: Identity's OIDC ID-token signing key."""
    from jwcrypto import jwk

    key = jwk.JWK.generate(kty="RSA", size=2048)
    return key.export_to_pem(private_key=True, password=None).decode()


# Identity's ID-token signing keys, apart from its secret (identity_site/oauth/signing_keys.py):
# the site's AppRole reads them; only a short-lived token under ROTATION_POLICY, minted by
# `manage_all.py rotate-signing-key`, may write them (docs/decisions.md, "Signing keys").
IDENTITY_KEYS_PATH = "coffeeshop/identity-keys"
ROTATION_POLICY = "coffeeshop-identity-key-rotation"


# Secrets one site has beyond the common ones. An OAuth client's secret lives with the
# site that uses it; Identity receives it once, at seed time, and keeps only a hash.
SITE_SECRETS: dict[str, dict[str, Callable[[], str]]] = {
    "bff": {
        "oidc_client_secret": _token,
        "bff_customer_client_secret": _token,
        "bff_staff_client_secret": _token,
        "admin_oidc_client_secret": _token,
    },
    "order": {
        "identity_client_secret": _token,
        "notifier_client_secret": _token,
        "admin_oidc_client_secret": _token,
    },
}


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


@dataclass
class PartStatus:
    name: str
    kind: str
    url: str
    pid: int | None
    healthy: bool
    memory_mib: float = 0.0


def memory_mib(pid: int | None) -> float:
    """Proportional set size (PSS) of a process and its children, in MiB.

    PSS splits pages shared between forked workers fairly, so the parts add up
    to what the whole system really uses.
    """
    if not pid:
        return 0.0
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            continue
    return round(total / 2**20, 1)


@dataclass
class StackConfig:
    state_dir: Path
    ports: dict[str, int]
    cache_dir: Path = field(default_factory=lambda: REPO_ROOT / ".cache")
    for_tests: bool = False
    settings_flavour: str = "local"
    workers: int = 2

    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["cache_dir"] = str(self.cache_dir)
        (self.state_dir / "stack.json").write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> StackConfig | None:
        try:
            data = json.loads((state_dir / "stack.json").read_text())
        except (OSError, ValueError):
            return None
        data["state_dir"] = Path(data["state_dir"])
        data["cache_dir"] = Path(data["cache_dir"])
        return cls(**data)


class Stack:
    """Starts, provisions and stops every part of CoffeeShop on one machine."""

    def __init__(self, config: StackConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.state = config.state_dir
        self.ports = config.ports
        self.progress: Progress = progress or (lambda part, msg: None)
        self.user = run_user()
        self.postgres = Postgres(state_dir=self.state, port=self.ports["postgres"], user=self.user)
        self.redis = Redis(
            state_dir=self.state,
            port=self.ports["redis"],
            password=self._redis_password(),
            user=self.user,
        )
        self.kafka = Kafka(
            state_dir=self.state,
            cache_dir=config.cache_dir,
            port=self.ports["kafka"],
            controller_port=self.ports["kafka_controller"],
            user=self.user,
        )
        self.openbao = OpenBao(state_dir=self.state, port=self.ports["openbao"], user=self.user)
        self.smtp = Process(
            name="smtp",
            pidfile=self.state / "run" / "smtp.pid",
            logfile=self.state / "logs" / "smtp.log",
        )
        self.payments = Process(
            name="payments",
            pidfile=self.state / "run" / "payments.pid",
            logfile=self.state / "logs" / "payments.log",
        )

    # ---- secrets kept by the orchestrator itself ------------------------------------------
    def _redis_password(self) -> str:
        path = self.state / "secrets" / "redis_password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            path.write_text(_token())
            path.chmod(0o600)
        return path.read_text().strip()

    def _payment_provider_key(self) -> str:
        """The sandbox provider's secret API key: a 0600 file the sandbox reads, copied
        into Order's Vault secrets (only Order charges)."""
        return self._key_file("payment_provider_key", "sk_test_")

    def _payment_publishable_key(self) -> str:
        """The sandbox provider's publishable key (`pk_…`, tokenization only): a file the
        sandbox reads, copied into the BFF's Vault secrets, which hands it to browsers."""
        return self._key_file("payment_publishable_key", "pk_test_")

    def _key_file(self, name: str, prefix: str) -> str:
        path = self.state / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)
            path.write_text(prefix + _token())
            path.chmod(0o600)
        return path.read_text().strip()

    def bff_origins(self) -> list[str]:
        """The origins a browser may load the web client from (the BFF's)."""
        bff = self.ports["bff"]
        return [f"http://{HOST}:{bff}", f"http://localhost:{bff}"]

    # ---- infrastructure -----------------------------------------------------------------
    def check_ports(self, parts: list[str]) -> None:
        """Refuse to start anything when a port we need is taken (nothing half-started)."""
        for part in parts:
            if self._alive(part):
                continue
            ports = [part] + (["kafka_controller"] if part == "kafka" else [])
            for key in ports:
                if port_in_use(self.ports[key]):
                    raise PortInUse(part, self.ports[key], port_setting(key))

    def _alive(self, part: str) -> bool:
        proc = self.process(part)
        return proc is not None and proc.alive()

    def process(self, part: str) -> Process | None:
        if part in ("postgres", "redis", "kafka", "openbao"):
            return getattr(self, part).process()
        return Process(
            name=part,
            pidfile=self.state / "run" / f"{part}.pid",
            logfile=self.state / "logs" / f"{part}.log",
        )

    def start_infra(self, *, with_kafka: bool = True) -> None:
        """Start every infrastructure server at once; on a failure stop what started."""
        parts = ["postgres", "redis", "openbao", "smtp", "payments"] + (
            ["kafka"] if with_kafka else []
        )
        self.state.mkdir(parents=True, exist_ok=True)
        self.config.save()
        self.check_ports(parts)
        if with_kafka:
            self.progress(
                "kafka", "resolving Kafka jars from Maven Central (cached after the first run)"
            )
            ensure_kafka_installed(self.config.cache_dir, log=lambda m: self.progress("kafka", m))
        starters: dict[str, Callable[[], Any]] = {
            "postgres": self.postgres.start,
            "redis": self.redis.start,
            "openbao": self.openbao.start,
            "smtp": self.start_smtp,
            "payments": self.start_payments,
            "kafka": self.kafka.start,
        }
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            futures = {}
            for part in parts:
                self.progress(part, "starting")
                futures[part] = pool.submit(self._timed, part, starters[part])
            for part, future in futures.items():
                try:
                    future.result()
                except BaseException as exc:
                    errors.append(exc)
                    self.progress(part, "FAILED")
        if errors:
            self.stop_all()
            raise errors[0]
        if with_kafka:
            ensure_topics(f"{HOST}:{self.ports['kafka']}", COFFEESHOP_TOPICS)

    def _timed(self, part: str, start: Callable[[], Any]) -> None:
        began = time.monotonic()
        start()
        self.progress(part, f"ready in {time.monotonic() - began:.1f}s")

    def start_smtp(self) -> None:
        if self.smtp.alive():
            return
        maildir = self.state / "smtp" / "maildir"
        self.smtp = spawn(
            "smtp",
            [
                sys.executable,
                "-m",
                "devstack.smtp_sink",
                "--port",
                str(self.ports["smtp"]),
                "--maildir",
                str(maildir),
            ],
            state_dir=self.state,
            env={"PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
        )
        wait_until("smtp", lambda: tcp_open(self.ports["smtp"]), timeout=20, process=self.smtp)

    def start_payments(self) -> None:
        """The sandbox payment provider (`sandbox.payments`), standing in for the real one."""
        if self.payments.alive():
            return
        self._payment_provider_key()
        self._payment_publishable_key()
        origins = [arg for origin in self.bff_origins() for arg in ("--allowed-origin", origin)]
        self.payments = spawn(
            "payments",
            [
                sys.executable,
                "-m",
                "sandbox.payments",
                "--port",
                str(self.ports["payments"]),
                "--data",
                str(self.state / "payments"),
                "--key-file",
                str(self.state / "secrets" / "payment_provider_key"),
                "--publishable-key-file",
                str(self.state / "secrets" / "payment_publishable_key"),
                *origins,
            ],
            state_dir=self.state,
            env={"PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
        )
        wait_until("payments", self.payments_healthy, timeout=20, process=self.payments)

    def payments_healthy(self) -> bool:
        url = f"http://{HOST}:{self.ports['payments']}/healthz"
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def maildir(self) -> Path:
        return self.state / "smtp" / "maildir"

    # ---- secrets and databases ----------------------------------------------------------
    def provision(self) -> None:
        """Per site: its secrets and AppRole in OpenBao, its own PostgreSQL role and database."""
        redis_password = self._redis_password()
        # The sandbox reads its keys from the state folder; each site's Vault secrets get
        # the one it needs: Order the secret key, the BFF the publishable one.
        provider_keys = {
            "order": {"payment_provider_key": self._payment_provider_key()},
            "bff": {"payment_publishable_key": self._payment_publishable_key()},
        }
        for site in SITES:
            keys = provider_keys.get(site, {})
            self.progress(site, "provisioning secrets (OpenBao AppRole) and database")
            creds = self.openbao.ensure_site(
                site,
                {
                    "django_secret_key": lambda: secrets.token_urlsafe(50),
                    "database_password": _token,
                    "redis_password": lambda: redis_password,
                    **SITE_SECRETS.get(site, {}),
                    **{name: _constant(value) for name, value in keys.items()},
                },
                extra_read_paths=[IDENTITY_KEYS_PATH] if site == "identity" else [],
            )
            if site == "identity":
                self.ensure_identity_keys(creds.values)
            stale = {name: v for name, v in keys.items() if creds.values.get(name) != v}
            if stale:
                # Keep Vault in step with the sandbox's key files.
                self.openbao.admin_client().secrets.kv.v2.patch(
                    path=f"coffeeshop/{site}", secret=stale, mount_point="secret"
                )
            if creds.values.get("redis_password") != redis_password:
                # The Redis password lives in the state folder; keep Vault in step with it.
                client = self.openbao.admin_client()
                client.secrets.kv.v2.patch(
                    path=f"coffeeshop/{site}",
                    secret={"redis_password": redis_password},
                    mount_point="secret",
                )
            db_url = self.postgres.ensure_database(
                name=site,
                role=site,
                password=creds.values["database_password"],
                createdb=self.config.for_tests,
            )
            site_file = self.state / "sites" / f"{site}.json"
            site_file.parent.mkdir(parents=True, exist_ok=True)
            site_file.write_text(
                json.dumps(
                    {
                        "DATABASE_URL": db_url,
                        "VAULT_ROLE_ID_FILE": str(creds.role_id_file),
                        "VAULT_SECRET_ID_FILE": str(creds.secret_id_file),
                    }
                )
            )

    def ensure_identity_keys(self, identity_secret: dict[str, str]) -> None:
        """Identity's key set exists (a stack from before it existed keeps its key, which
        lived in Identity's secret as `oidc_rsa_private_key`), and so does the policy a
        rotation token gets: read and write that one path, nothing else."""
        client = self.openbao.admin_client()
        kv = client.secrets.kv.v2
        try:
            kv.read_secret_version(
                path=IDENTITY_KEYS_PATH, mount_point="secret", raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            key = identity_secret.get("oidc_rsa_private_key") or _rsa_private_key()
            # cas=0: write only if nobody created it meanwhile.
            kv.create_or_update_secret(
                path=IDENTITY_KEYS_PATH,
                secret={"signing_key": key, "retired_keys": "[]"},
                cas=0,
                mount_point="secret",
            )
        if "oidc_rsa_private_key" in identity_secret:
            # Now a stale copy: once rotated, it would linger as a second, forgotten key.
            current = kv.read_secret_version(
                path="coffeeshop/identity", mount_point="secret", raise_on_deleted_version=True
            )["data"]
            kept = {k: v for k, v in current["data"].items() if k != "oidc_rsa_private_key"}
            kv.create_or_update_secret(
                path="coffeeshop/identity",
                secret=kept,
                cas=int(current["metadata"]["version"]),
                mount_point="secret",
            )
        client.sys.create_or_update_policy(
            name=ROTATION_POLICY,
            policy=f'path "secret/data/{IDENTITY_KEYS_PATH}" {{\n'
            '  capabilities = ["read", "create", "update"]\n}\n',
        )

    def signing_key_rotation_token(self, ttl: str = "5m") -> str:
        """A token that may read and write Identity's key set only, for `ttl`; revoke it
        with `revoke_token` once the rotation is done."""
        created = self.openbao.admin_client().auth.token.create(
            policies=[ROTATION_POLICY],
            no_default_policy=True,
            renewable=False,
            ttl=ttl,
            explicit_max_ttl=ttl,
            display_name="identity-key-rotation",
        )
        return str(created["auth"]["client_token"])

    def revoke_token(self, token: str) -> None:
        self.openbao.admin_client().auth.token.revoke(token)

    def site_env(self, site: str, flavour: str | None = None) -> dict[str, str]:
        """Everything a site process needs, none of it secret (secrets come from OpenBao)."""
        data = json.loads((self.state / "sites" / f"{site}.json").read_text())
        flavour = flavour or self.config.settings_flavour
        env = {
            "PYTHONPATH": str(REPO_ROOT),
            "DJANGO_SETTINGS_MODULE": f"{site}_site.config.settings.{flavour}",
            "DATABASE_URL": data["DATABASE_URL"],
            "REDIS_URL": f"redis://{HOST}:{self.ports['redis']}/0",
            "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{self.ports['kafka']}",
            "VAULT_ADDR": f"http://{HOST}:{self.ports['openbao']}",
            "VAULT_ROLE_ID_FILE": data["VAULT_ROLE_ID_FILE"],
            "VAULT_SECRET_ID_FILE": data["VAULT_SECRET_ID_FILE"],
            "EMAIL_URL": f"smtp://{HOST}:{self.ports['smtp']}",
            "DJANGO_STATIC_ROOT": str(self.state / "static" / site),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Where Celery beat records when each scheduled task last ran.
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.state / "run" / f"{site}-beat-schedule"),
        }
        for other in SITES:
            env[f"{other.upper()}_URL"] = f"http://{HOST}:{self.ports[other]}"
        if site == "order":
            env["PAYMENT_PROVIDER_URL"] = f"http://{HOST}:{self.ports['payments']}"
        if site == "bff":
            # Where browsers tokenize cards (CSP connect-src, GET /api/config).
            env["PAYMENT_PROVIDER_PUBLIC_URL"] = f"http://{HOST}:{self.ports['payments']}"
        return env

    def manage(
        self,
        site: str,
        *args: str,
        extra_env: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> str:
        """Run `manage.py` of a site (feeding it `stdin`); raise StartError when it fails."""
        env = dict(os.environ)
        env.update(self.site_env(site))
        if extra_env:
            env.update(extra_env)
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / f"{site}_site" / "manage.py"), *args],
            env=env,
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

    def oauth_client_specs(self) -> list[dict[str, Any]]:
        """The OAuth clients Identity must know, each with the secret its user site holds.

        Fed to `manage.py ensure_oauth_clients` on stdin (never on a command line).
        """
        client = self.openbao.admin_client()

        def secret(site: str, key: str) -> str:
            data = client.secrets.kv.v2.read_secret_version(
                path=f"coffeeshop/{site}", mount_point="secret", raise_on_deleted_version=True
            )
            return str(data["data"]["data"][key])

        bff = self.ports["bff"]
        orders = ["orders:read", "orders:write", "orders:on-behalf-of"]
        machine = "client-credentials"
        # Each site's Django admin signs staff in as its own client (shared/admin_oidc).
        admins = [
            {
                "client_id": f"{site}-admin",
                "name": f"{site.capitalize()} admin",
                "grant_type": "authorization-code",
                "secret": secret(site, "admin_oidc_client_secret"),
                "allowed_scopes": ["openid", "profile", "email", "roles"],
                "redirect_uris": [
                    f"http://{host}:{self.ports[site]}/admin/oidc/callback"
                    for host in (HOST, "localhost")
                ],
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
                "allowed_scopes": ["openid", "profile", "email", "roles"],
                "redirect_uris": [
                    f"http://{HOST}:{bff}/auth/callback",
                    f"http://localhost:{bff}/auth/callback",
                ],
                "post_logout_redirect_uris": [f"http://{HOST}:{bff}/", f"http://localhost:{bff}/"],
            },
            {
                "client_id": "bff-customer",
                "name": "BFF for customers",
                "grant_type": machine,
                "secret": secret("bff", "bff_customer_client_secret"),
                "allowed_scopes": orders,
            },
            {
                "client_id": "bff-staff",
                "name": "BFF for staff",
                "grant_type": machine,
                "secret": secret("bff", "bff_staff_client_secret"),
                "allowed_scopes": [*orders, "orders:staff"],
            },
            {
                "client_id": "order-service",
                "name": "Order",
                "grant_type": machine,
                "secret": secret("order", "identity_client_secret"),
                "allowed_scopes": ["introspection", "users:read"],
            },
            {
                "client_id": "notifier",
                "name": "Order's notification dispatcher",
                "grant_type": machine,
                "secret": secret("order", "notifier_client_secret"),
                "allowed_scopes": ["users:read"],
            },
        ]

    def migrate_all(self, then: Callable[[str], None] | None = None) -> None:
        """Migrate (and collect static files of) every site at once, then run `then(site)`."""

        def one(site: str) -> None:
            self.progress(site, "migrating its database")
            self.manage(site, "migrate", "--noinput")
            self.manage(site, "collectstatic", "--noinput")
            if then is not None:
                then(site)

        with ThreadPoolExecutor(max_workers=len(SITES)) as pool:
            for future in [pool.submit(one, site) for site in SITES]:
                future.result()

    # ---- sites and workers --------------------------------------------------------------
    def build_web_client(self) -> None:
        """Vendor Pyodide and package the client (a no-op when nothing changed)."""
        self.progress("bff", "building the web client (wasm_client/build.py)")
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "wasm_client" / "build.py")],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StartError(
                "bff", "the web client did not build", (result.stdout + result.stderr)[-3000:]
            )

    def spawn_site(self, site: str) -> Process:
        """Start one site under gunicorn (not waiting for it).

        The BFF runs its ASGI app on uvicorn workers: its live-update streams are
        coroutines, so one process holds thousands (docs/decisions.md, "Live updates");
        Identity and Order stay WSGI with threads."""
        self.progress(site, f"starting gunicorn on {HOST}:{self.ports[site]}")
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
        return spawn(
            site,
            [
                sys.executable,
                "-m",
                "gunicorn",
                *server,
                "--bind",
                f"{HOST}:{self.ports[site]}",
                "--workers",
                str(self.config.workers),
                "--preload",
                "--graceful-timeout",
                "10",
                "--access-logfile",
                "-",
                "--access-logformat",
                '{"access": "%(m)s %(U)s", "status": %(s)s, "ms": %(M)s}',
            ],
            state_dir=self.state,
            env=self.site_env(site),
            cwd=REPO_ROOT,
        )

    def restart_site(self, site: str, timeout: float = 60) -> None:
        """Start one stopped site again and wait until it is ready."""
        proc = self.spawn_site(site)
        wait_until(site, partial(self.site_ready, site), timeout=timeout, process=proc)

    def start_sites(self, timeout: float = 120) -> None:
        self.check_ports(list(SITES))
        self.build_web_client()
        procs: dict[str, Process] = {site: self.spawn_site(site) for site in SITES}
        log_starts: dict[str, int] = {}
        for name, (site, argv, _) in WORKERS.items():
            self.progress(name, f"starting ({site} site)")
            log_starts[name] = _log_size(self.state / "logs" / f"{name}.log")
            procs[name] = spawn(
                name,
                [sys.executable, *argv],
                state_dir=self.state,
                env=self.site_env(site),
                cwd=REPO_ROOT,
            )
        try:
            for site in SITES:
                wait_until(
                    site, partial(self.site_ready, site), timeout=timeout, process=procs[site]
                )
                self.progress(site, "ready")
            for name, (_, _, ready_word) in WORKERS.items():
                wait_until(
                    name,
                    partial(_log_says, procs[name], ready_word, log_starts[name]),
                    timeout=timeout,
                    process=procs[name],
                )
                self.progress(name, "ready")
        except StartError:
            self.stop_all()
            raise

    def site_ready(self, site: str) -> bool:
        try:
            return (
                httpx.get(f"http://{HOST}:{self.ports[site]}/readyz", timeout=5).status_code == 200
            )
        except httpx.HTTPError:
            return False

    # ---- status and stop ----------------------------------------------------------------
    def status(self) -> list[PartStatus]:
        rows: list[PartStatus] = []
        infra = [
            ("postgres", f"postgresql://{HOST}:{self.ports['postgres']}", self.postgres.healthy),
            ("redis", f"redis://{HOST}:{self.ports['redis']}", self.redis.healthy),
            ("kafka", f"kafka://{HOST}:{self.ports['kafka']}", self.kafka.healthy),
            ("openbao", f"http://{HOST}:{self.ports['openbao']}", self.openbao.healthy),
            ("smtp", f"smtp://{HOST}:{self.ports['smtp']}", lambda: tcp_open(self.ports["smtp"])),
            ("payments", f"http://{HOST}:{self.ports['payments']}", self.payments_healthy),
        ]
        for name, url, check in infra:
            proc = self.process(name)
            pid = proc.pid() if proc else None
            rows.append(
                PartStatus(
                    name, "infrastructure", url, pid, bool(pid) and _safe(check), memory_mib(pid)
                )
            )
        for site in SITES:
            proc = self.process(site)
            pid = proc.pid() if proc else None
            rows.append(
                PartStatus(
                    site,
                    "site",
                    f"http://{HOST}:{self.ports[site]}/",
                    pid,
                    bool(pid) and self.site_ready(site),
                    memory_mib(pid),
                )
            )
        for name, (site, _, _) in WORKERS.items():
            proc = self.process(name)
            pid = proc.pid() if proc else None
            rows.append(PartStatus(name, f"worker ({site})", "-", pid, bool(pid), memory_mib(pid)))
        return rows

    def stop_all(self) -> None:
        """Stop sites first, then infrastructure, each gracefully."""
        for name in (*WORKERS, *SITES):
            proc = self.process(name)
            if proc is not None and proc.alive():
                self.progress(name, "stopping")
                proc.stop(timeout=15)
        for name in ("payments", "smtp", "kafka", "openbao", "redis", "postgres"):
            proc = self.process(name)
            if proc is not None and proc.alive():
                self.progress(name, "stopping")
                if name in ("kafka", "openbao", "redis", "postgres"):
                    getattr(self, name).stop()
                else:
                    proc.stop(timeout=10)


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        return False
