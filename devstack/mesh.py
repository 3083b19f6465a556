"""Dapr mode on one machine: one daprd sidecar per site and per worker, all on 127.0.0.1.

`manage_all.py up --mesh dapr` (or `COFFEESHOP_MESH=dapr`) builds daprd once
(devstack/gotools.py), gives each app its tokens and a Vault token whose policy reads
that app's site secret only, renders the Dapr resource documents the Helm chart uses
(charts/coffeeshop/files/dapr/, only addresses templated) into a folder per sidecar,
and starts the sidecars before the apps, which then reach each other and their secrets
through them (shared/mesh.py).

Service discovery is Dapr's SQLite name resolver on a file in the state folder: sidecars
register 127.0.0.1 there, so nothing multicasts (mDNS, Dapr's self-hosted default, would).
No placement or scheduler service: invocation and secrets need neither.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack import gotools
from devstack.base import (
    HOST,
    REPO_ROOT,
    PortInUse,
    Process,
    StartError,
    port_in_use,
    spawn,
    wait_until,
)
from devstack.sites import SITES
from devstack.workers import WORKERS, Worker
from shared.telemetry.config import trace_settings

DAPR_FILES = REPO_ROOT / "charts" / "coffeeshop" / "files" / "dapr"
# Components and resiliency go in the sidecar's resources folder; the configuration is
# passed on its own (--config).
RESOURCE_FILES = ("secretstore.yaml", "resiliency.yaml")
CONFIGURATION_FILE = "configuration.yaml"
SECRET_STORE = "vault"  # noqa: S105 - the component's name
DEFAULT_BASE_PORT = 23500
PORTS_PER_SIDECAR = 4  # HTTP API, gRPC API, internal gRPC (sidecar to sidecar), metrics
VAULT_TOKEN_TTL = "768h"  # noqa: S105 - a duration

_VALUE = re.compile(
    r"\{\{\s*\.Values\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}"
)


class TemplateError(ValueError):
    """A resource file uses template syntax beyond `{{ .Values.a.b }}`, or lacks a value."""


def render(text: str, values: Mapping[str, Any]) -> str:
    """Substitute each `{{ .Values.a.b }}` with values["a"]["b"], as Helm's `tpl` would.

    Only those lookups are allowed in the shared documents; anything else in `{{ }}`
    (functions, pipelines) is refused, so the file means the same here and in Helm.
    """

    def one(match: re.Match[str]) -> str:
        node: Any = values
        for part in match.group(1).split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise TemplateError(f"no value for .Values.{match.group(1)}")
            node = node[part]
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)

    rendered = _VALUE.sub(one, text)
    if "{{" in rendered:
        where = rendered[rendered.index("{{") :].split("\n", 1)[0]
        raise TemplateError(f"unsupported template syntax (only {{{{ .Values.a.b }}}}): {where}")
    return rendered


@dataclass(frozen=True)
class App:
    """One app with a sidecar: a site (with an app port) or a worker (without)."""

    app_id: str
    site: str
    process_name: str  # the part the sidecar serves (`order`, `worker`, …)
    app_port: int | None

    @property
    def part(self) -> str:
        return f"{self.app_id}-dapr"


def worker_app_id(worker: Worker) -> str:
    """A worker's Dapr app id: its name when it already names its site (`order-relay`),
    else `<site>-<name>` (`worker` → `order-worker`)."""
    return (
        worker.name if worker.name.startswith(f"{worker.site}-") else f"{worker.site}-{worker.name}"
    )


def apps(site_ports: Mapping[str, int]) -> list[App]:
    """Every app that gets a sidecar: each site, and each worker (all read their site's
    secrets at start-up; some call other services)."""
    found = [App(site, site, site, site_ports[site]) for site in SITES]
    found += [App(worker_app_id(w), w.site, w.name, None) for w in WORKERS.values()]
    return found


def ports_needed() -> int:
    """How many consecutive ports the mesh takes from its base (sidecars, then Sentry)."""
    return len(apps(dict.fromkeys(SITES, 0))) * PORTS_PER_SIDECAR + 3


def free_base_port(low: int = 20000, high: int = 32000, span: int | None = None) -> int:
    """A base port whose whole block (`span`, by default `ports_needed`) is free, below
    Linux's ephemeral range (32768+), where no client's source port can take one
    (devstack/stack.py)."""
    import random

    span = span or ports_needed()
    for _ in range(200):
        base = random.randrange(low, high - span)  # noqa: S311 - not for security
        if not any(port_in_use(port) for port in range(base, base + span)):
            return base
    raise RuntimeError(f"no {span} free consecutive ports between {low} and {high}")


def sidecar_parts() -> list[str]:
    return [app.part for app in apps(dict.fromkeys(SITES, 0))]


@dataclass(frozen=True)
class SidecarPorts:
    http: int
    grpc: int
    internal: int
    metrics: int


class Sidecar:
    """One daprd: its ports, its files under `<state>/dapr/<app_id>/`, its process."""

    def __init__(self, app: App, ports: SidecarPorts, state_dir: Path) -> None:
        self.app = app
        self.ports = ports
        self.state_dir = state_dir
        self.dir = state_dir / "dapr" / app.app_id

    @property
    def name(self) -> str:
        return self.app.part

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.ports.http}"

    @property
    def metrics_url(self) -> str:
        return f"http://{HOST}:{self.ports.metrics}/metrics"

    def token_file(self, kind: str) -> Path:
        """`api` (app → sidecar), `app` (sidecar → app) or `vault` (sidecar → Vault)."""
        return self.dir / f"{kind}.token"

    def process(self) -> Process:
        return Process(
            name=self.name,
            pidfile=self.state_dir / "run" / f"{self.name}.pid",
            logfile=self.state_dir / "logs" / f"{self.name}.log",
        )

    def app_env(self) -> dict[str, str]:
        """What the app's process is given to reach its sidecar (shared/mesh.py)."""
        env = {
            "MESH": "dapr",
            "DAPR_HTTP_PORT": str(self.ports.http),
            "DAPR_GRPC_PORT": str(self.ports.grpc),
            "DAPR_API_TOKEN_FILE": str(self.token_file("api")),
            "DAPR_SECRET_STORE": SECRET_STORE,
        }
        if self.app.app_port is not None:
            env["APP_API_TOKEN_FILE"] = str(self.token_file("app"))
        return env

    def healthy(self) -> bool:
        """The sidecar answers and its components are loaded (`/v1.0/healthz/outbound`)."""
        try:
            return httpx.get(f"{self.url}/v1.0/healthz/outbound", timeout=2).status_code == 204
        except httpx.HTTPError:
            return False

    def argv(self, daprd: Path, *, sentry: str | None) -> list[str]:
        argv = [
            str(daprd),
            "--mode",
            "standalone",
            "--app-id",
            self.app.app_id,
            "--dapr-listen-addresses",
            HOST,
            "--dapr-http-port",
            str(self.ports.http),
            "--dapr-grpc-port",
            str(self.ports.grpc),
            "--dapr-internal-grpc-port",
            str(self.ports.internal),
            "--metrics-port",
            str(self.ports.metrics),
            "--resources-path",
            str(self.dir / "resources"),
            "--config",
            str(self.dir / "config.yaml"),
            # Everything on loopback: the sidecar-to-sidecar port and the metrics too.
            "--dapr-internal-grpc-listen-address",
            HOST,
            "--metrics-listen-address",
            HOST,
            "--dapr-graceful-shutdown-seconds",
            "3",
            "--log-level",
            "info",
            "--enable-api-logging",
        ]
        if self.app.app_port is not None:
            argv += [
                "--app-port",
                str(self.app.app_port),
                "--app-channel-address",
                HOST,
                "--app-protocol",
                "http",
            ]
        if sentry:
            argv += ["--enable-mtls", "--sentry-address", sentry]
        return argv


SENTRY_CONFIG = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
"""


class Sentry:
    """Dapr's certificate authority (`cmd/sentry`), so sidecar-to-sidecar calls are mutual
    TLS as on Kubernetes. It makes its own root and issuer on first start (in
    `<state>/dapr/sentry/`); the sidecars trust that root (`DAPR_TRUST_ANCHORS`)."""

    name = "dapr-sentry"
    # The control plane's trust domain daprd expects by default (--control-plane-trust-domain).
    trust_domain = "localhost"

    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.port, self.healthz_port, self.metrics_port = port, port + 1, port + 2
        self.dir = state_dir / "dapr" / "sentry"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"grpc://{self.address}"

    def ports(self) -> dict[str, int]:
        return {"grpc": self.port, "healthz": self.healthz_port, "metrics": self.metrics_port}

    def process(self) -> Process:
        return Process(
            name=self.name,
            pidfile=self.state_dir / "run" / f"{self.name}.pid",
            logfile=self.state_dir / "logs" / f"{self.name}.log",
        )

    def healthy(self) -> bool:
        try:
            url = f"http://{HOST}:{self.healthz_port}/healthz"
            return httpx.get(url, timeout=2).status_code in (200, 204)
        except httpx.HTTPError:
            return False

    def trust_anchors(self) -> str:
        return (self.dir / "ca.crt").read_text()

    def start(
        self, binary: Path, progress: Callable[[str, str], None], timeout: float = 60
    ) -> None:
        if self.process().alive():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        (self.dir / "config.yaml").write_text(SENTRY_CONFIG)
        progress(self.name, f"starting Sentry (mTLS certificates) on {self.address}")
        argv = [
            str(binary),
            "--issuer-credentials",
            str(self.dir),
            "--trust-domain",
            self.trust_domain,
            "--config",
            str(self.dir / "config.yaml"),
            "--port",
            str(self.port),
            "--listen-address",
            HOST,
            "--healthz-port",
            str(self.healthz_port),
            "--healthz-listen-address",
            HOST,
            "--metrics-port",
            str(self.metrics_port),
            "--metrics-listen-address",
            HOST,
            "--log-level",
            "info",
        ]
        proc = spawn(self.name, argv, state_dir=self.state_dir, cwd=self.dir)
        wait_until(
            self.name,
            lambda: self.healthy() and (self.dir / "ca.crt").exists(),
            timeout=timeout,
            process=proc,
        )
        progress(self.name, "ready")


class Mesh:
    """The sidecars of one stack (Dapr mode)."""

    def __init__(
        self,
        *,
        state_dir: Path,
        base_port: int,
        site_ports: Mapping[str, int],
        vault_addr: str,
        mtls: bool = False,
        zipkin_endpoint: str = "",
    ) -> None:
        self.state_dir = state_dir
        self.zipkin_endpoint = zipkin_endpoint
        self.base_port = base_port
        self.vault_addr = vault_addr
        self.mtls = mtls
        self.sidecars: dict[str, Sidecar] = {}
        found = apps(site_ports)
        for index, app in enumerate(found):
            first = base_port + index * PORTS_PER_SIDECAR
            ports = SidecarPorts(first, first + 1, first + 2, first + 3)
            self.sidecars[app.part] = Sidecar(app, ports, state_dir)
        self.sentry = Sentry(state_dir, base_port + len(found) * PORTS_PER_SIDECAR)

    def for_process(self, process_name: str) -> Sidecar:
        """The sidecar of a site or worker (by its part name: `order`, `worker`…)."""
        for sidecar in self.sidecars.values():
            if sidecar.app.process_name == process_name:
                return sidecar
        raise KeyError(process_name)

    def refuse_taken_ports(self) -> None:
        setting = "COFFEESHOP_DAPR_PORT (the first of the sidecars' ports)"
        owners: list[tuple[str, Process, list[int]]] = [
            (s.name, s.process(), list(vars(s.ports).values())) for s in self.sidecars.values()
        ]
        owners.append((self.sentry.name, self.sentry.process(), list(self.sentry.ports().values())))
        for name, proc, ports in owners:
            if proc.alive():
                continue
            for port in ports:
                if port_in_use(port):
                    raise PortInUse(name, port, setting)

    # ---- what the sidecars are given --------------------------------------------------
    def provision(self, admin_client: Any) -> None:
        """Per sidecar: an API token (app → sidecar), an app token (sidecar → app) and a
        Vault token whose only policy is its site's (`coffeeshop-<site>`), renewing the
        Vault token (and revoking the old one) on every start."""
        for sidecar in self.sidecars.values():
            sidecar.dir.mkdir(parents=True, exist_ok=True)
            sidecar.dir.chmod(0o700)
            for kind in ("api", "app"):
                path = sidecar.token_file(kind)
                if not path.exists():
                    _write_private(path, secrets.token_urlsafe(32))
            vault_file = sidecar.token_file("vault")
            if vault_file.exists():
                with contextlib.suppress(Exception):
                    admin_client.auth.token.revoke(vault_file.read_text().strip())
            created = admin_client.auth.token.create(
                policies=[f"coffeeshop-{sidecar.app.site}"],
                no_default_policy=True,
                no_parent=True,
                ttl=VAULT_TOKEN_TTL,
                display_name=f"dapr-{sidecar.app.app_id}",
            )
            _write_private(vault_file, str(created["auth"]["client_token"]))

    def values(self, sidecar: Sidecar, *, mtls: bool) -> dict[str, Any]:
        """The Helm-style values the shared resource documents are rendered with."""
        return {
            "vault": {"address": self.vault_addr},
            "dapr": {
                "vaultTokenPath": str(sidecar.token_file("vault")),
                "mtls": mtls,
                "controlPlaneTrustDomain": Sentry.trust_domain,
                "sentryAddress": self.sentry.address,
            },
            # The `traces` part (Zipkin) with the apps' own sampling (shared/telemetry).
            "tracing": {
                "samplingRate": sampling_rate(),
                "zipkinEndpoint": self.zipkin_endpoint or f"http://{HOST}:9411/api/v2/spans",
            },
        }

    def write_resources(self, *, mtls: bool) -> None:
        """Render the shared documents into each sidecar's folder; locally the
        configuration also names the SQLite resolver (Kubernetes has its own)."""
        resolver_db = self.state_dir / "dapr" / "name-resolution.db"
        for sidecar in self.sidecars.values():
            values = self.values(sidecar, mtls=mtls)
            resources = sidecar.dir / "resources"
            resources.mkdir(parents=True, exist_ok=True)
            for name in RESOURCE_FILES:
                (resources / name).write_text(render((DAPR_FILES / name).read_text(), values))
            config = yaml.safe_load(render((DAPR_FILES / CONFIGURATION_FILE).read_text(), values))
            config["spec"]["nameResolution"] = {
                "component": "sqlite",
                "version": "v1",
                "configuration": {"connectionString": str(resolver_db), "updateInterval": "5s"},
            }
            (sidecar.dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    # ---- processes ----------------------------------------------------------------------
    def start(
        self,
        names: Sequence[str],
        *,
        daprd: Path,
        sentry: Sentry | None,
        progress: Callable[[str, str], None],
        timeout: float = 60,
    ) -> None:
        """Start these sidecars and wait until each has loaded its components."""
        started: dict[str, Process] = {}
        for name in names:
            sidecar = self.sidecars[name]
            if sidecar.process().alive():
                continue
            progress(name, f"starting daprd (app {sidecar.app.app_id}) on {sidecar.url}")
            started[name] = spawn(
                name,
                sidecar.argv(daprd, sentry=sentry.address if sentry else None),
                state_dir=self.state_dir,
                env=self.daprd_env(sidecar, sentry),
                cwd=sidecar.dir,
            )
        for name, proc in started.items():
            wait_until(name, self.sidecars[name].healthy, timeout=timeout, process=proc)
            progress(name, "ready")

    def daprd_env(self, sidecar: Sidecar, sentry: Sentry | None = None) -> dict[str, str]:
        env = {
            # Announce loopback in name resolution (docs: DAPR_HOST_IP).
            "DAPR_HOST_IP": HOST,
            "DAPR_API_TOKEN": sidecar.token_file("api").read_text().strip(),
            "NAMESPACE": "coffeeshop",
        }
        if sidecar.app.app_port is not None:
            env["APP_API_TOKEN"] = sidecar.token_file("app").read_text().strip()
        if sentry is not None:
            env["DAPR_TRUST_ANCHORS"] = sentry.trust_anchors()
        return env

    def stop(self, progress: Callable[[str, str], None]) -> None:
        for proc in [s.process() for s in self.sidecars.values()] + [self.sentry.process()]:
            if proc.alive():
                progress(proc.name, "stopping")
                proc.stop(timeout=10)


def sampling_rate(environ: Mapping[str, str] | None = None) -> str:
    """The sidecars' sampling rate: the apps' (OTEL_TRACES_SAMPLER_ARG, 1 by default), "0"
    when traces are off (OTEL_SDK_DISABLED=true)."""
    settings = trace_settings(os.environ if environ is None else environ)
    return "0" if settings.disabled else format(settings.sample_ratio, "g")


def ensure_daprd(say: Callable[[str], None]) -> Path:
    """The pinned daprd, built on first use; StartError naming what is missing."""
    return _ensure(gotools.DAPRD, say)


def ensure_sentry(say: Callable[[str], None]) -> Path:
    """The pinned Sentry (same module as daprd), built on first use."""
    return _ensure(gotools.SENTRY, say)


def _ensure(tool: gotools.GoTool, say: Callable[[str], None]) -> Path:
    try:
        return gotools.ensure(tool, say=say)
    except gotools.GoToolError as err:
        raise StartError(
            "dapr", f"Dapr mode needs {tool.name}, which could not be built: {err}"
        ) from None


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)
