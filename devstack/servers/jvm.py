"""What the servers run on the JVM share: the JDK and Maven (installed as root when
missing), jars resolved from Maven Central into the cache, and the cache's upkeep.

Kafka (kafka.py) and the Zipkin trace server (traces.py) both run on the JDK 17+ that
the project installs for Kafka, from jars Maven resolves once (Maven's own repository,
`~/.m2`, keeps every download per machine) into `<cache>/<name>-<version>/`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from devstack import prerequisites
from devstack.base import StartError

MIN_JAVA = 17
MAVEN_DEPENDENCY_PLUGIN_VERSION = "3.8.1"

INSTALL_HINT = (
    "It needs a Java runtime (17 or newer) and Maven. Install them, e.g. "
    f"`{prerequisites.install_hint(prerequisites.JDK_PACKAGES)}`, and try again."
)


# The servers' JVMs are small and quick to start: serial GC, C1 only (TieredStopAtLevel=1
# starts about a quarter faster and uses less memory than C1+C2; plenty for one developer
# machine), no perf-data file in /tmp, and out of memory means exit, not limp on.
LEAN_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def runtime_pom(*, writer: str, artifact: str, version: str, dependencies: str) -> str:
    """A POM that only resolves `dependencies` (their `<dependency>` elements) for
    `resolve_jars`. Its text is hashed into the jars' marker (`jars_complete`): an edit,
    even of a comment, resolves the jars again."""
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by {writer}: resolves a server's runtime jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.coffeeshop.devstack</groupId>
  <artifactId>{artifact}</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies.rstrip()}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{MAVEN_DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def java(part: str) -> str:
    """The `java` to run (JAVA_HOME's, else PATH's); StartError naming `part` if none."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise StartError(part, f"no `java` on PATH. {INSTALL_HINT}")
    return found


def java_major(program: str) -> int:
    result = subprocess.run(
        [program, "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    found = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not found:
        return 0
    major = int(found.group(1))
    # Java 8 and older spell themselves "1.8".
    return int(found.group(2) or 0) if major == 1 else major


def ensure_tools(part: str, log: Callable[[str], None]) -> None:
    """Make sure `java` 17+ and `mvn` are on PATH; as root, install them with apt-get first."""
    if _tools_missing(part):
        prerequisites.apt_install(prerequisites.JDK_PACKAGES, lambda m: log(f"{part}: {m}"))
    missing = _tools_missing(part)
    if missing:
        raise StartError(part, f"{missing}. {INSTALL_HINT}")


def _tools_missing(part: str) -> str:
    if not shutil.which("mvn"):
        return "no `mvn` (Maven) on PATH"
    try:
        program = java(part)
    except StartError:
        return "no `java` on PATH"
    major = java_major(program)
    if major < MIN_JAVA:
        found = f"Java {major}" if major else "Java of an unknown version"
        return f"`{program}` is {found}, {part} needs Java {MIN_JAVA}+"
    return ""


def pom_digest(pom: str) -> str:
    return hashlib.sha256(pom.encode()).hexdigest()


def jars_complete(home: Path, pom: str) -> bool:
    """Whether `home/libs` holds every jar a resolution of `pom` left there."""
    try:
        marker = json.loads((home / ".complete").read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("pom") != pom_digest(pom):
        return False
    jars = marker.get("jars")
    if not isinstance(jars, list) or not jars:
        return False
    return all((home / "libs" / str(jar)).is_file() for jar in jars)


def resolve_jars(
    home: Path,
    pom: str,
    *,
    part: str,
    expected: str,
    what: str,
    log: Callable[[str], None],
    extra_args: Sequence[str] = (),
) -> list[str]:
    """Resolve `pom`'s runtime dependencies with Maven into `home/libs` and mark them
    complete; returns the jar names. Raises StartError (with Maven's output) when Maven
    fails or `expected` is not among the jars."""
    (home / ".complete").unlink(missing_ok=True)
    libs = home / "libs"
    shutil.rmtree(libs, ignore_errors=True)
    (home / "pom.xml").write_text(pom)
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "dependency:copy-dependencies",
            "-DoutputDirectory=libs",
            "-DincludeScope=runtime",
            *extra_args,
        ],
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    jars = sorted(path.name for path in libs.glob("*.jar")) if libs.is_dir() else []
    if result.returncode != 0 or expected not in jars:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise StartError(
            part,
            f"Maven could not resolve {what} (is Maven Central reachable?)",
            "\n".join(output[-30:]),
        )
    (home / ".complete").write_text(json.dumps({"pom": pom_digest(pom), "jars": jars}, indent=1))
    return jars


def make_readable(path: Path) -> None:
    """Let every user read `path`'s tree (the broker may run as the service account while
    the cache belongs to root; account.py links the tree where that account can reach it)."""
    for root, _dirs, files in os.walk(path):
        _add_mode(Path(root), 0o555)
        for name in files:
            _add_mode(Path(root) / name, 0o444)


def _add_mode(path: Path, bits: int) -> None:
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode
        if mode & bits != bits:
            path.chmod(mode | bits)


def write_if_changed(path: Path, text: str) -> None:
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes that install into the same cache at once."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def jvm_argv(pid: int | None) -> list[bytes]:
    """The command line of process `pid` ([] when there is none), to tell a live JVM of
    ours from a recycled pid."""
    if pid is None:
        return []
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
