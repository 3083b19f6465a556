"""The trace backend: Zipkin's server with its UI, in-memory storage, on loopback.

Its one jar (`io.zipkin:zipkin-server`, classifier `exec`, about 131 MB) is resolved
by Maven from Maven Central into `<cache>/zipkin-<version>/libs` once (Maven's own
repository keeps the download per machine), like Kafka's jars, and runs on the JDK
the project installs for Kafka: `java -jar zipkin-server-<version>-exec.jar`.

The sites export their spans to `/api/v2/spans` (Zipkin JSON v2; shared/telemetry);
the UI is at `/zipkin/`, and the API people and the dashboard read at `/api/v2/`
(`/api/v2/traces`, `/api/v2/trace/{id}`, `/api/v2/services`). Storage is memory: a
restart forgets every trace, and past MAX_SPANS the oldest traces go.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from devstack.base import HOST, wait_until
from devstack.servers import jvm
from devstack.servers.account import ServiceAccount
from devstack.servers.server import Server

ZIPKIN_VERSION = "3.5.1"
JAR = f"zipkin-server-{ZIPKIN_VERSION}-exec.jar"
# Spans kept in memory (Zipkin's default is 500,000): hours of clicking, or a minute of
# a benchmark at full sampling. The heap below holds them: 200,000 spans of a placement
# benchmark overflowed 320 MiB and the JVM exited (the sites went on serving).
MAX_SPANS = 40_000

# The exec jar holds everything it runs; its own dependencies are excluded.
_POM = jvm.runtime_pom(
    writer="devstack/servers/traces.py",
    artifact="zipkin-runtime",
    version=ZIPKIN_VERSION,
    dependencies=f"""\
    <dependency>
      <groupId>io.zipkin</groupId>
      <artifactId>zipkin-server</artifactId>
      <version>{ZIPKIN_VERSION}</version>
      <classifier>exec</classifier>
      <exclusions>
        <exclusion>
          <groupId>*</groupId>
          <artifactId>*</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
""",
)


def ensure_zipkin_installed(cache_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """Resolve Zipkin's server jar with Maven into `<cache>/zipkin-<ver>/libs` (once);
    return that folder. Raises StartError when `java` 17+ or `mvn` is missing and can't
    be installed, or when Maven fails."""
    home = cache_dir / f"zipkin-{ZIPKIN_VERSION}"
    home.mkdir(parents=True, exist_ok=True)
    with jvm.locked(home / ".lock"):
        if not jvm.jars_complete(home, _POM):
            jvm.ensure_tools("traces", log)
            log(f"traces: resolving Zipkin server {ZIPKIN_VERSION} from Maven Central (once)…")
            jvm.resolve_jars(
                home,
                _POM,
                part="traces",
                expected=JAR,
                what=f"io.zipkin:zipkin-server:{ZIPKIN_VERSION}:exec",
                log=log,
            )
        jvm.make_readable(home)
    return home / "libs"


class Zipkin(Server):
    """Zipkin on 127.0.0.1 (`COFFEESHOP_TRACES_PORT`, 29411 by default), spans in memory."""

    name = "traces"
    scheme = "http"
    stop_timeout = 15

    def __init__(
        self,
        *,
        state_dir: Path,
        cache_dir: Path,
        port: int,
        account: ServiceAccount | None = None,
        heap: str = "384m",
    ) -> None:
        super().__init__(state_dir=state_dir, port=port, account=account)
        self.cache_dir = cache_dir
        self.heap = heap

    @property
    def ui_url(self) -> str:
        return f"{self.url}/zipkin/"

    @property
    def spans_endpoint(self) -> str:
        """Where OpenTelemetry's Zipkin exporter and daprd send spans (JSON v2)."""
        return f"{self.url}/api/v2/spans"

    def prepare(self, log: Callable[[str], None]) -> None:
        log("resolving Zipkin's server from Maven Central (cached after the first run)")
        ensure_zipkin_installed(self.cache_dir, log=log)

    def start(self, timeout: float = 90) -> None:
        """Start Zipkin and wait until it reports itself up; raises PortInUse before
        starting anything when the port is taken, StartError with the log tail when it
        does not come up within `timeout`."""
        if self.running():
            if self.healthy():
                return
            self.process().stop(timeout=self.stop_timeout)
        self.refuse_taken_ports()
        libs = ensure_zipkin_installed(self.cache_dir)
        installed = self.account.runnable(libs.parent, libs.name) / libs.name
        proc = self.spawn(
            [
                jvm.java(self.name),
                f"-Xmx{self.heap}",
                "-Xms32m",
                *jvm.LEAN_FLAGS,
                "-jar",
                str(installed / JAR),
                # Armeria's port list: this one port, HTTP only, on loopback.
                f"--armeria.ports[0].ip={HOST}",
                f"--armeria.ports[0].port={self.port}",
                "--armeria.ports[0].protocols=http",
            ],
            env={
                "STORAGE_TYPE": "mem",
                "MEM_MAX_SPANS": str(MAX_SPANS),
                "QUERY_PORT": str(self.port),
                # Zipkin does not trace itself.
                "SELF_TRACING_ENABLED": "false",
            },
            cwd=self.state_dir,
        )
        wait_until(self.name, self.healthy, timeout=timeout, process=proc, interval=0.25)

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json().get("status") == "UP"

    def running(self) -> bool:
        """True when the pid file names a live JVM running Zipkin (not a recycled pid)."""
        return any(arg.endswith(JAR.encode()) for arg in jvm.jvm_argv(self.process().pid()))

    def stop(self) -> None:
        if self.running():
            self.process().stop(timeout=self.stop_timeout)
        else:
            self.process().pidfile.unlink(missing_ok=True)
