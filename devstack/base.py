"""Process plumbing shared by every local server: ports, spawning, waiting, stopping."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


class StartError(RuntimeError):
    """A server did not come up. Carries the last lines of its log for the user."""

    def __init__(self, part: str, reason: str, log_tail: str = "") -> None:
        self.part = part
        self.reason = reason
        self.log_tail = log_tail
        message = f"{part}: {reason}"
        if log_tail:
            message += f"\n--- last lines of the {part} log ---\n{log_tail}"
        super().__init__(message)


class PortInUse(StartError):
    """The port a part wants is taken by another process."""

    def __init__(self, part: str, port: int, setting: str) -> None:
        super().__init__(
            part,
            f"port {port} on {HOST} is already in use. Stop whatever holds it, "
            f"or choose another port with the environment variable {setting}=<port>.",
        )
        self.port = port
        self.setting = setting


def port_setting(part: str) -> str:
    """The environment variable that chooses a part's port: COFFEESHOP_<PART>_PORT."""
    return f"COFFEESHOP_{part.upper()}_PORT"


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when the port can't be bound on host (something listens on it).

    A bind, not a connect: our default ports lie in Linux's ephemeral range, and a
    connect to a port nobody listens on can pick that very port as its source and
    connect to itself (TCP simultaneous open), which would look like a listener.
    Servers bind with SO_REUSEADDR, so a port left in TIME_WAIT is free for them too.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tcp_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts connections on host:port (a connection to itself,
    possible while nothing listens on an ephemeral-range port, does not count)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return bool(sock.getsockname() != sock.getpeername())
    except OSError:
        return False


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file, or an empty string when it doesn't exist."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


@dataclass
class Process:
    """A detached server process started by us, remembered by pid file."""

    name: str
    pidfile: Path
    logfile: Path

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def alive(self) -> bool:
        return self.pid() is not None

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> None:
        """Stop the process group politely, then firmly after `timeout` seconds."""
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, timeout=timeout, sig=sig)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stop_pid(pid: int, timeout: float = 20.0, sig: int = signal.SIGTERM) -> None:
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not pid_alive(pid):
            return
        time.sleep(0.1)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    state_dir: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> Process:
    """Start `argv` detached in its own session, output to `<state>/logs/<name>.log`."""
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    run = state_dir / "run"
    run.mkdir(parents=True, exist_ok=True)
    proc = Process(name=name, pidfile=run / f"{name}.pid", logfile=logs / f"{name}.log")
    group = pwd.getpwnam(user).pw_gid if user else None
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with proc.logfile.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(cwd) if cwd else None,
            env=full_env,
            start_new_session=True,
            user=user,
            # Drop root's groups too, not only its uid.
            group=group,
            extra_groups=[] if user else None,
        )
    proc.pidfile.write_text(str(popen.pid))
    return proc


def wait_until(
    part: str,
    ready: Callable[[], bool],
    *,
    timeout: float,
    process: Process | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until true; raise StartError with the log tail on timeout or early exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise StartError(part, "exited during start-up", tail(process.logfile))
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(interval)
    raise StartError(
        part, f"not ready after {timeout:.0f}s", tail(process.logfile) if process else ""
    )
