"""Apache Kafka as one KRaft node (broker and controller in one JVM), jars from Maven Central.

The jars are resolved by Maven (`org.apache.kafka:kafka_2.13`) into
`<cache>/kafka-<version>/libs` once; the broker then runs straight from that
folder with `java -cp 'libs/*' kafka.Kafka server.properties`, the same main
class the upstream `kafka-server-start.sh` runs.

Kafka 4.4 logs through SLF4J 1.7.36; the binding that matches it is
`log4j-slf4j-impl` (the Log4j 2 binding for SLF4J 1.x; `log4j-slf4j2-impl` would
need SLF4J 2 and stay silent here).
"""

from __future__ import annotations

import base64
import contextlib
import re
import subprocess
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from devstack.base import HOST, StartError, port_setting, tcp_open, wait_until
from devstack.servers import jvm
from devstack.servers.account import ServiceAccount
from devstack.servers.server import Server

KAFKA_VERSION = "4.4.0"
SCALA_VERSION = "2.13"
# Log4j 2 with its binding for SLF4J 1.x, because kafka_2.13:4.4.0 depends on slf4j-api 1.7.36.
LOG4J_VERSION = "2.25.5"

PORT_SETTING = port_setting("kafka")
CONTROLLER_PORT_SETTING = port_setting("kafka_controller")

# The topics (docs/architecture.md, "Contracts between the parts") with their partition counts.
COFFEESHOP_TOPICS: dict[str, int] = {
    "coffeeshop.order-events": 3,
    "coffeeshop.user-events": 3,
}


_POM = jvm.runtime_pom(
    writer="devstack/servers/kafka.py",
    artifact="kafka-runtime",
    version=KAFKA_VERSION,
    dependencies=f"""\
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
""",
)

# One line per event on stdout (the part's log file). INFO for what a developer wants to
# see (start, topics, groups, shutdown); the 300-line config dumps, the Raft state
# machine and per-thread start-up chatter are raised to WARN.
_LOG4J2 = """\
# Written by devstack/servers/kafka.py.
status = warn
name = coffeeshop-kafka
# Kafka logs its own shutdown after SIGTERM; Log4j's hook would stop logging first.
shutdownHook = disable
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d{ISO8601}] %-5p %m (%c{1})%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.config.name = org.apache.kafka.common.config
logger.config.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.image.name = org.apache.kafka.image
logger.image.level = WARN
logger.threads.name = org.apache.kafka.server.util
logger.threads.level = WARN
logger.purgatory.name = org.apache.kafka.server.purgatory
logger.purgatory.level = WARN
logger.quota.name = org.apache.kafka.server.quota
logger.quota.level = WARN
logger.segments.name = org.apache.kafka.storage.internals.log
logger.segments.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""


def ensure_kafka_installed(cache_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """Resolve Kafka's runtime jars with Maven into `<cache>/kafka-<ver>/libs`; return that folder.

    Idempotent: once the jars are complete (a marker records the pom they came from and
    the jar names), nothing runs again. Also (re)writes the Log4j 2 configuration
    `<cache>/kafka-<ver>/log4j2.properties`. Everything is left readable by other users,
    so a broker run as the unprivileged account can load it.

    Raises StartError when `java` (17+) or `mvn` is missing and can't be installed, or
    when Maven fails (with Maven's output).
    """
    home = cache_dir / f"kafka-{KAFKA_VERSION}"
    home.mkdir(parents=True, exist_ok=True)
    libs = home / "libs"
    with jvm.locked(home / ".lock"):
        jvm.write_if_changed(home / "log4j2.properties", _LOG4J2)
        if not jvm.jars_complete(home, _POM):
            jvm.ensure_tools("kafka", log)
            _resolve_jars(home, log)
        jvm.make_readable(home)
    return libs


class Kafka(Server):
    """One KRaft node (broker + controller) on 127.0.0.1, its data in `<home>/kafka/data`."""

    name = "kafka"
    scheme = "kafka"
    stop_timeout = 30

    def __init__(
        self,
        *,
        state_dir: Path,
        cache_dir: Path,
        port: int,
        controller_port: int,
        account: ServiceAccount | None = None,
        heap: str = "384m",
    ) -> None:
        if port == controller_port:
            raise ValueError(f"kafka: the broker and controller ports must differ (both {port})")
        super().__init__(state_dir=state_dir, port=port, account=account)
        self.cache_dir = cache_dir
        self.controller_port = controller_port
        self.heap = heap

    @property
    def root(self) -> Path:
        return self.account.home / "kafka"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    def ports(self) -> dict[str, int]:
        return {PORT_SETTING: self.port, CONTROLLER_PORT_SETTING: self.controller_port}

    def prepare(self, log: Callable[[str], None]) -> None:
        log("resolving Kafka jars from Maven Central (cached after the first run)")
        ensure_kafka_installed(self.cache_dir, log=log)

    def start(self, timeout: float = 120) -> None:
        """Start the node (formatting its storage on the very first start) and wait until an
        admin client gets metadata from it.

        Raises PortInUse, before anything is started, when either port is taken, and
        StartError (with the log tail) when the broker does not come up within `timeout`.
        """
        if self.running():
            if self.healthy():
                return
            # Ours but not answering (a start that timed out, a hung JVM): start afresh.
            self.process().stop(timeout=30)
        self.refuse_taken_ports()
        home = ensure_kafka_installed(self.cache_dir).parent
        installed = self.account.runnable(home.parent, home.name) / home.name
        libs = installed / "libs"
        java = jvm.java(self.name)
        self.account.server_dir("kafka", legacy=self.state_dir / "kafka")
        properties = self.root / "server.properties"
        jvm.write_if_changed(properties, self._server_properties())
        log4j = installed / "log4j2.properties"
        base_argv = [
            java,
            f"-Xmx{self.heap}",
            "-Xms64m",
            *jvm.LEAN_FLAGS,  # a single-node broker idles at ~150 MiB RSS with these
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{libs}/*",
        ]
        if not (self.data_dir / "meta.properties").exists():
            self._format(base_argv, properties)
        self.account.give(self.root)
        proc = self.spawn([*base_argv, "kafka.Kafka", str(properties)], cwd=self.root)
        wait_until(self.name, self.healthy, timeout=timeout, process=proc, interval=0.2)

    def healthy(self) -> bool:
        """True when the broker hands out cluster metadata to an admin client within ~2 s."""
        # Probe TCP first: librdkafka would log every refused connection to stderr.
        if not tcp_open(self.port):
            return False
        admin = _admin(self.bootstrap_servers)
        try:
            metadata = admin.list_topics(timeout=2)
        except KafkaException:
            return False
        return bool(metadata.brokers)

    def running(self) -> bool:
        """True when the pid file names a live JVM running this node (not a recycled pid)."""
        argv = jvm.jvm_argv(self.process().pid())
        return b"kafka.Kafka" in argv and str(self.root / "server.properties").encode() in argv

    def stop(self) -> None:
        """SIGTERM to the JVM's process group (Kafka shuts down cleanly in a second or two),
        SIGKILL after 30 s. A pid file naming someone else's process is only removed."""
        if self.running():
            self.process().stop(timeout=self.stop_timeout)
        else:
            self.process().pidfile.unlink(missing_ok=True)

    def cluster_id(self) -> str:
        """The cluster id this node's storage is (or will be) formatted with; kept in state."""
        path = self.root / "cluster.id"
        with contextlib.suppress(FileNotFoundError):
            existing = path.read_text().strip()
            if existing:
                return existing
        meta = self.data_dir / "meta.properties"
        if meta.exists():
            found = re.search(r"^cluster\.id=(\S+)$", meta.read_text(), re.MULTILINE)
            if found:
                path.write_text(found.group(1) + "\n")
                return found.group(1)
        new = _random_cluster_id()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new + "\n")
        return new

    def _format(self, base_argv: list[str], properties: Path) -> None:
        # Kafka 4 needs formatted storage. `--standalone` makes this node the single voter
        # of a dynamic controller quorum (KIP-853), as upstream's quick start does.
        result = subprocess.run(
            [
                *base_argv,
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                self.cluster_id(),
                "--config",
                str(properties),
                "--standalone",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            raise StartError(self.name, "formatting the storage failed", "\n".join(output[-20:]))

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": (
                f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}"
            ),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            # Topics are created on purpose (ensure_topics), so a typo can't invent one.
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            # 50 partitions by default: creating them delays the first consumer group.
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "5",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Fewer threads and a small log-cleaner buffer (128 MiB by default) for a
            # small heap on a small machine.
            "num.network.threads": "2",
            "num.io.threads": "4",
            "background.threads": "4",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
        }
        lines = [f"{key}={value}" for key, value in settings.items()]
        return "# Written by devstack/servers/kafka.py on every start.\n" + "\n".join(lines) + "\n"


def ensure_topics(bootstrap: str, topics: Mapping[str, int], *, timeout: float = 30) -> list[str]:
    """Create each topic of `topics` (name -> partitions, replication factor 1) that is missing.

    Returns the names it created; existing topics are left as they are. Raises
    KafkaException when the broker refuses a creation or does not answer in `timeout`.
    """
    admin = _admin(bootstrap)
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [
        NewTopic(name, num_partitions=partitions, replication_factor=1)
        for name, partitions in topics.items()
        if name not in existing
    ]
    if not missing:
        return []
    created: list[str] = []
    futures = admin.create_topics(missing, operation_timeout=timeout, request_timeout=timeout)
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            # Someone else created it between our listing and our request: that's fine.
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        else:
            created.append(name)
    return created


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "socket.timeout.ms": 2000,
            "socket.connection.setup.timeout.ms": 2000,
            # Notices and worse only: at info level librdkafka tells of "purging unserved
            # events" when the client closes, a line in the middle of `up`'s progress.
            "log_level": 5,
        }
    )


def _random_cluster_id() -> str:
    """A Kafka Uuid in its text form: 16 random bytes, URL-safe base64 without padding."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        # Kafka's own generator rejects ids starting with '-' (they read as CLI options).
        if not text.startswith("-"):
            return text


def _resolve_jars(home: Path, log: Callable[[str], None]) -> None:
    log(f"kafka: resolving Apache Kafka {KAFKA_VERSION} jars from Maven Central (once)…")
    jars = jvm.resolve_jars(
        home,
        _POM,
        part="kafka",
        expected=f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar",
        what=f"org.apache.kafka:kafka_{SCALA_VERSION}:{KAFKA_VERSION}",
        log=log,
    )
    log(f"kafka: {len(jars)} jars in {home / 'libs'}")
