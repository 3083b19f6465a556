"""The whole local system: the servers, the sites and the workers, started and stopped.

`manage_all.py up` and the test harness both use `Stack`: the same servers, the
same provisioning, only the state folder and the ports differ. What each part does
lives in its own module: servers/ (one `LocalServer` each, in the registry
`Stack.servers`), provisioning.py (secrets and databases), signing_keys.py,
clients.py (the OAuth client catalogue), sites.py (environment, manage.py, gunicorn,
web build) and workers.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from devstack import clients, mesh, signing_keys, sites
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
from devstack.base import port_setting as port_setting
from devstack.provisioning import provision_sites
from devstack.secret_files import SecretFiles
from devstack.servers.account import ServiceAccount, sweep_orphans
from devstack.servers.dashboard import Dashboard
from devstack.servers.kafka import COFFEESHOP_TOPICS, Kafka, ensure_topics
from devstack.servers.openbao import OpenBao
from devstack.servers.payments import PaymentSandbox
from devstack.servers.postgres import Postgres
from devstack.servers.redis import Redis
from devstack.servers.server import LocalServer
from devstack.servers.smtp import SmtpSink
from devstack.servers.traces import Zipkin
from devstack.sites import SITES
from devstack.workers import WORKERS

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
    # Zipkin (traces.py): the sites' spans, its UI and API.
    "traces": 29411,
    # The local dashboard (devstack/dashboard/): parts, logs, traces and metrics in one page.
    "dashboard": 18888,
    # Dapr mode: the first of the sidecars' ports (four each, devstack/mesh.py).
    "dapr": mesh.DEFAULT_BASE_PORT,
    # The first of the metrics ports: one per part that has metrics (`METRICS_PARTS`).
    "metrics": 29100,
}
MESH_MODES = ("direct", "dapr")
# The parts that serve metrics (shared/metrics.py), each on the metrics block's port at
# its index here, on loopback only: never through the BFF's public port.
METRICS_PARTS = (*SITES, *(worker.name for worker in WORKERS.values() if worker.metrics))

Progress = Callable[[str, str], None]


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


def ports_from_env(environ: dict[str, str] | None = None) -> dict[str, int]:
    environ = dict(os.environ if environ is None else environ)
    return {
        part: int(environ.get(port_setting(part), port)) for part, port in DEFAULT_PORTS.items()
    }


def mesh_from_env(environ: dict[str, str] | None = None) -> str:
    """COFFEESHOP_MESH: `direct` (default) or `dapr`."""
    environ = dict(os.environ if environ is None else environ)
    value = environ.get("COFFEESHOP_MESH", "direct").strip().lower() or "direct"
    if value not in MESH_MODES:
        raise ValueError(f"COFFEESHOP_MESH={value!r}: expected one of {', '.join(MESH_MODES)}")
    return value


def default_state_dir() -> Path:
    return Path(os.environ.get("COFFEESHOP_STATE_DIR", REPO_ROOT / ".state"))


@dataclass
class PartStatus:
    name: str
    kind: str
    url: str
    pid: int | None
    healthy: bool
    memory_mib: float = 0.0
    # CPU time (user + system) the process and its children have used so far; the
    # dashboard turns two readings into a percentage.
    cpu_seconds: float = 0.0
    # Where the part's metrics are scraped (Prometheus text format), "" when it has none.
    metrics: str = ""


def memory_mib(pid: int | None) -> float:
    """Proportional set size (PSS) of a process and its children, in MiB.

    PSS splits pages shared between forked workers fairly, so the parts add up
    to what the whole system really uses.
    """
    return usage(pid)[0]


def usage(pid: int | None) -> tuple[float, float]:
    """(memory in MiB as `memory_mib` counts it, CPU seconds) of a process and its
    children, read in one pass."""
    if not pid:
        return 0.0, 0.0
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0
    total = 0
    cpu = 0.0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += getattr(info, "pss", info.rss)
        cpu += times.user + times.system
    return round(total / 2**20, 1), round(cpu, 2)


@dataclass
class StackConfig:
    state_dir: Path
    ports: dict[str, int]
    cache_dir: Path = field(default_factory=lambda: REPO_ROOT / ".cache")
    for_tests: bool = False
    settings_flavour: str = "local"
    workers: int = 2
    mesh: str = "direct"
    # Dapr mode: sidecar-to-sidecar mutual TLS with certificates from Dapr's Sentry.
    dapr_mtls: bool = True

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
        data["ports"] = {**DEFAULT_PORTS, **data["ports"]}
        return cls(**data)


class Stack:
    """Starts, provisions and stops every part of CoffeeShop on one machine."""

    def __init__(self, config: StackConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.state = config.state_dir
        self.ports = config.ports
        self.progress: Progress = progress or (lambda part, msg: None)
        self.account = ServiceAccount.for_state(self.state)
        state, account = self.state, self.account
        self.postgres = Postgres(state_dir=state, account=account, port=self.ports["postgres"])
        self.redis = Redis(
            state_dir=state,
            account=account,
            port=self.ports["redis"],
            password=SecretFiles(state).redis_password(),
        )
        self.kafka = Kafka(
            state_dir=state,
            account=account,
            cache_dir=config.cache_dir,
            port=self.ports["kafka"],
            controller_port=self.ports["kafka_controller"],
        )
        self.openbao = OpenBao(state_dir=state, account=account, port=self.ports["openbao"])
        self.smtp = SmtpSink(state_dir=state, account=account, port=self.ports["smtp"])
        self.payments = PaymentSandbox(
            state_dir=state,
            account=account,
            port=self.ports["payments"],
            allowed_origins=self.bff_origins(),
        )
        self.traces = Zipkin(
            state_dir=state, account=account, cache_dir=config.cache_dir, port=self.ports["traces"]
        )
        self.dashboard = Dashboard(state_dir=state, account=account, port=self.ports["dashboard"])
        registry: list[LocalServer] = [
            self.postgres,
            self.redis,
            self.kafka,
            self.openbao,
            self.smtp,
            self.payments,
            self.traces,
        ]
        if not config.for_tests:
            # A person's `up` gets the dashboard, started with the servers so it shows the
            # rest starting; the servers `manage_all.py test` starts for its suites don't.
            registry.append(self.dashboard)
        # The registry every loop below goes through, in the order of the status table;
        # stopped in the reverse order.
        self.servers: dict[str, LocalServer] = {server.name: server for server in registry}

        self.mesh: mesh.Mesh | None = None
        if config.mesh == "dapr":
            self.mesh = mesh.Mesh(
                state_dir=state,
                base_port=self.ports["dapr"],
                site_ports={site: self.ports[site] for site in SITES},
                vault_addr=self.openbao.url,
                mtls=config.dapr_mtls,
                zipkin_endpoint=self.traces.spans_endpoint,
            )

    @property
    def maildir(self) -> Path:
        return self.smtp.maildir

    def bff_origins(self) -> list[str]:
        """The origins a browser may load the web client from (the BFF's)."""
        bff = self.ports["bff"]
        return [f"http://{HOST}:{bff}", f"http://localhost:{bff}"]

    def process(self, part: str) -> Process | None:
        if part in self.servers:
            return self.servers[part].process()
        if self.mesh is not None and part in self.mesh.sidecars:
            return self.mesh.sidecars[part].process()
        if self.mesh is not None and part == self.mesh.sentry.name:
            return self.mesh.sentry.process()
        return Process(
            name=part,
            pidfile=self.state / "run" / f"{part}.pid",
            logfile=self.state / "logs" / f"{part}.log",
        )

    # ---- servers --------------------------------------------------------------------------
    def check_ports(self, parts: list[str]) -> None:
        """Refuse to start anything when a port we need is taken (nothing half-started)."""
        for part in parts:
            proc = self.process(part)
            if proc is not None and proc.alive():
                continue
            server = self.servers.get(part)
            ports = server.ports() if server else {port_setting(part): self.ports[part]}
            for setting, port in ports.items():
                if port_in_use(port):
                    raise PortInUse(part, port, setting)

    def start_infra(self, *, with_kafka: bool = True) -> None:
        """Start every server at once; on a failure stop what started.

        In Dapr mode daprd is built first (once), so a machine that can't build it
        starts nothing."""
        servers = [s for s in self.servers.values() if with_kafka or s.name != "kafka"]
        if self.mesh is not None:
            mesh.ensure_daprd(partial(self.progress, "dapr"))
            if self.mesh.mtls:
                mesh.ensure_sentry(partial(self.progress, "dapr"))
        self.state.mkdir(parents=True, exist_ok=True)
        self.config.save()
        sweep_orphans()
        self.check_ports([server.name for server in servers])
        if self.mesh is not None:
            self.mesh.refuse_taken_ports()
        for server in servers:
            server.prepare(partial(self.progress, server.name))
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            futures = {}
            for server in servers:
                self.progress(server.name, "starting")
                futures[server.name] = pool.submit(self._timed, server.name, server.start)
            for name, future in futures.items():
                try:
                    future.result()
                except BaseException as exc:
                    errors.append(exc)
                    self.progress(name, "FAILED")
        if errors:
            self.stop_all()
            raise errors[0]
        if with_kafka:
            ensure_topics(self.kafka.bootstrap_servers, COFFEESHOP_TOPICS)

    def _timed(self, part: str, start: Callable[[], Any]) -> None:
        began = time.monotonic()
        start()
        self.progress(part, f"ready in {time.monotonic() - began:.1f}s")

    # ---- what the sites are given ---------------------------------------------------------
    def provision(self) -> None:
        """Per site: its secrets and AppRole in OpenBao, its own PostgreSQL role and database."""
        provision_sites(
            state_dir=self.state,
            openbao=self.openbao,
            postgres=self.postgres,
            for_tests=self.config.for_tests,
            progress=self.progress,
        )
        if self.mesh is not None:
            self.start_mesh()

    def mesh_sentry(self) -> mesh.Sentry | None:
        """The Sentry the sidecars get their certificates from (None: no mTLS)."""
        return self.mesh.sentry if self.mesh is not None and self.mesh.mtls else None

    def start_mesh(self) -> None:
        """Dapr mode: tokens and resource files for every sidecar, then every sidecar
        (before the apps: `manage.py` reads its secrets through the site's sidecar)."""
        assert self.mesh is not None
        self.progress("dapr", "provisioning the sidecars (tokens, Vault policies, resources)")
        self.mesh.provision(self.openbao.admin_client())
        self.mesh.write_resources(mtls=self.mesh.mtls)
        try:
            if self.mesh.mtls:
                self.mesh.sentry.start(
                    mesh.ensure_sentry(partial(self.progress, "dapr")), self.progress
                )
            self.mesh.start(
                list(self.mesh.sidecars),
                daprd=mesh.ensure_daprd(partial(self.progress, "dapr")),
                sentry=self.mesh_sentry(),
                progress=self.progress,
            )
        except StartError:
            self.mesh.stop(self.progress)
            raise

    def ensure_identity_keys(self, identity_secret: dict[str, str]) -> None:
        signing_keys.ensure_identity_keys(self.openbao, identity_secret)

    def signing_key_rotation_token(self, ttl: str = "5m") -> str:
        return signing_keys.rotation_token(self.openbao, ttl)

    def revoke_token(self, token: str) -> None:
        signing_keys.revoke_token(self.openbao, token)

    def oauth_client_specs(self) -> list[dict[str, Any]]:
        """The OAuth clients Identity must know (clients.py), each with its secret."""
        return clients.clients_catalogue(openbao=self.openbao, ports=self.ports)

    # ---- sites and workers ----------------------------------------------------------------
    def site_env(self, site: str, flavour: str | None = None) -> dict[str, str]:
        """Everything a site process needs, none of it secret (secrets come from OpenBao);
        in Dapr mode, how to reach the site's sidecar."""
        return self.process_env(site, site, flavour)

    def process_env(self, part: str, site: str, flavour: str | None = None) -> dict[str, str]:
        """The environment of a site's or worker's process (`part`) in `site`'s settings."""
        env = sites.site_env(
            site,
            state_dir=self.state,
            ports=self.ports,
            flavour=flavour or self.config.settings_flavour,
        )
        if self.mesh is not None:
            env |= self.mesh.for_process(part).app_env()
        return env

    def manage(
        self,
        site: str,
        *args: str,
        extra_env: dict[str, str] | None = None,
        stdin: str | None = None,
    ) -> str:
        """Run `manage.py` of a site (feeding it `stdin`); raise StartError when it fails."""
        env = {**self.site_env(site), **(extra_env or {})}
        return sites.manage(site, *args, env=env, stdin=stdin)

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

    def build_web_client(self) -> None:
        """Vendor Pyodide and package the client (a no-op when nothing changed)."""
        self.progress("bff", "building the web client (wasm_client/build.py)")
        sites.build_web_client()

    def spawn_site(self, site: str) -> Process:
        """Start one site under gunicorn (not waiting for it)."""
        self.progress(site, f"starting gunicorn on {HOST}:{self.ports[site]}")
        argv = sites.gunicorn_argv(site, port=self.ports[site], workers=self.config.workers)
        env = self.site_env(site) | self.metrics_env(site)
        return spawn(site, argv, state_dir=self.state, env=env, cwd=REPO_ROOT)

    # ---- metrics --------------------------------------------------------------------------
    def metrics_port(self, part: str) -> int | None:
        if part not in METRICS_PARTS:
            return None
        return self.ports["metrics"] + METRICS_PARTS.index(part)

    def metrics_url(self, part: str) -> str:
        """The part's metrics (Prometheus text format), "" for a part that has none."""
        port = self.metrics_port(part)
        return f"http://{HOST}:{port}/metrics" if port else ""

    def metrics_env(self, part: str) -> dict[str, str]:
        """Where the part serves its metrics and keeps its processes' values: a folder
        of its own in the state folder, emptied here before it starts (the part also
        removes what it did not write itself, shared/metrics.py)."""
        port = self.metrics_port(part)
        if port is None:
            return {}
        folder = self.state / "metrics" / part
        if folder.exists():
            for stale in folder.glob("*.db"):
                stale.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        return {"METRICS_ADDR": f"{HOST}:{port}", "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def check_metrics_ports(self) -> None:
        for part in METRICS_PARTS:
            proc = self.process(part)
            port = self.metrics_port(part)
            if port and not (proc is not None and proc.alive()) and port_in_use(port):
                raise PortInUse(part, port, port_setting("metrics"))

    def site_ready(self, site: str) -> bool:
        return sites.site_ready(self.ports[site])

    def restart_site(self, site: str, timeout: float = 60) -> None:
        """Start one stopped site again and wait until it is ready."""
        proc = self.spawn_site(site)
        wait_until(site, partial(self.site_ready, site), timeout=timeout, process=proc)

    def start_sites(self, timeout: float = 120) -> None:
        self.check_ports(list(SITES))
        self.check_metrics_ports()
        self.build_web_client()
        procs: dict[str, Process] = {site: self.spawn_site(site) for site in SITES}
        log_starts: dict[str, int] = {}
        for worker in WORKERS.values():
            self.progress(worker.name, f"starting ({worker.site} site)")
            log_starts[worker.name] = _log_size(self.state / "logs" / f"{worker.name}.log")
            procs[worker.name] = spawn(
                worker.name,
                [sys.executable, *worker.argv],
                state_dir=self.state,
                env=self.process_env(worker.name, worker.site) | self.metrics_env(worker.name),
                cwd=REPO_ROOT,
            )
        try:
            for site in SITES:
                wait_until(
                    site, partial(self.site_ready, site), timeout=timeout, process=procs[site]
                )
                self.progress(site, "ready")
            for worker in WORKERS.values():
                wait_until(
                    worker.name,
                    partial(
                        _log_says, procs[worker.name], worker.ready_word, log_starts[worker.name]
                    ),
                    timeout=timeout,
                    process=procs[worker.name],
                )
                self.progress(worker.name, "ready")
        except StartError:
            self.stop_all()
            raise

    # ---- status and stop ------------------------------------------------------------------
    def status(self) -> list[PartStatus]:
        rows: list[PartStatus] = []
        for server in self.servers.values():
            pid = server.process().pid()
            healthy = bool(pid) and _safe(server.healthy)
            rows.append(PartStatus(server.name, server.kind, server.url, pid, healthy, *usage(pid)))
        for site in SITES:
            pid = self._pid(site)
            rows.append(
                PartStatus(
                    site,
                    "site",
                    f"http://{HOST}:{self.ports[site]}/",
                    pid,
                    bool(pid) and self.site_ready(site),
                    *usage(pid),
                    self.metrics_url(site),
                )
            )
        for worker in WORKERS.values():
            pid = self._pid(worker.name)
            rows.append(
                PartStatus(
                    worker.name,
                    f"worker ({worker.site})",
                    "-",
                    pid,
                    bool(pid),
                    *usage(pid),
                    self.metrics_url(worker.name),
                )
            )
        if self.mesh is not None and self.mesh.mtls:
            sentry = self.mesh.sentry
            pid = sentry.process().pid()
            rows.append(
                PartStatus(
                    sentry.name,
                    "infrastructure",
                    sentry.url,
                    pid,
                    bool(pid) and sentry.healthy(),
                    *usage(pid),
                )
            )
        if self.mesh is not None:
            for sidecar in self.mesh.sidecars.values():
                pid = sidecar.process().pid()
                rows.append(
                    PartStatus(
                        sidecar.name,
                        "sidecar",
                        sidecar.url,
                        pid,
                        bool(pid) and sidecar.healthy(),
                        *usage(pid),
                        # daprd's own metrics (Prometheus text format), on loopback too.
                        sidecar.metrics_url,
                    )
                )
        return rows

    def _pid(self, part: str) -> int | None:
        proc = self.process(part)
        return proc.pid() if proc else None

    def stop_all(self) -> None:
        """Stop workers and sites first, then the servers, each gracefully."""
        for name in (*WORKERS, *SITES):
            proc = self.process(name)
            if proc is not None and proc.alive():
                self.progress(name, "stopping")
                proc.stop(timeout=15)
        if self.mesh is not None:
            self.mesh.stop(self.progress)
        for server in reversed(self.servers.values()):
            if server.process().alive():
                self.progress(server.name, "stopping")
                server.stop()

    def purge(self) -> None:
        """Stop everything and remove the servers' folder outside the state folder
        (as root, account.py); the caller removes the state folder."""
        self.stop_all()
        self.account.purge()


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        return False
