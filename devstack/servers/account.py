"""Who the local servers run as, and where they keep the files they own.

Not root: the servers run as ourselves and keep their data in the state folder.

Root: PostgreSQL refuses to run as root, so every server runs as the unprivileged
account `coffeeshop`. That account must reach the server's binaries and data, and a
clone may sit inside a folder nobody else may enter (`/root` is 0700). So, as root,
a server's data lives in `/var/lib/coffeeshop/<hash of the state folder>/<server>/`
(owned by the account, 0700) and the binaries it runs are linked (or copied) into
`bin/` beside it (owned by root, readable by all). No folder we did not create has
its permissions changed. `purge()` removes that folder; `sweep_orphans()` removes the
ones whose state folder is gone (temporary test runs) or was removed and made again
at the same path (`rm -rf .state`: the old servers' data belongs to the old folder;
each state folder and its home hold the same random mark).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

# Unprivileged account the servers run as when the orchestrator is root.
RUN_USER = "coffeeshop"
# As root, each state folder's server data and binaries live under here.
SERVICE_HOMES = Path("/var/lib/coffeeshop")
# In each such folder: the state folder it belongs to (for people and for sweep_orphans).
_OWNER_FILE = "state_dir"
# The same random mark in the state folder and in its home: a state folder made anew at
# the same path has another one (or none), so the old home is recognised as stale.
_MARK_FILE = "service-home-mark"
_make_home_lock = threading.Lock()


def run_user() -> str | None:
    """The account servers run as: None when we are not root, else the dedicated user
    (created on first use)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_USER],
            check=True,
            capture_output=True,
        )
    return RUN_USER


@dataclass(frozen=True)
class ServiceAccount:
    """The account the servers of one state folder run as, and their folders."""

    state_dir: Path
    user: str | None

    @classmethod
    def for_state(cls, state_dir: Path) -> ServiceAccount:
        return cls(state_dir=state_dir, user=run_user())

    @property
    def home(self) -> Path:
        """Where the servers' own files live: the state folder, or as root a folder of
        the account's outside the clone."""
        if self.user is None:
            return self.state_dir
        key = hashlib.sha256(str(self.state_dir.resolve()).encode()).hexdigest()[:16]
        return SERVICE_HOMES / key

    def server_dir(self, name: str, *, legacy: Path | None = None) -> Path:
        """`<home>/<name>`, created and owned by the account (0700 as root).

        `legacy` is where that data lived before (the state folder); found there and
        not here yet, it is moved here, so an existing database survives."""
        path = self.home / name
        if self.user is None:
            path.mkdir(parents=True, exist_ok=True)
            return path
        self._make_home()
        if legacy is not None and legacy.exists() and not path.exists():
            shutil.move(str(legacy), str(path))
        path.mkdir(exist_ok=True)
        self.give(path)
        path.chmod(0o700)
        return path

    def give(self, path: Path) -> None:
        """Make the account own `path` and everything in it (nothing to do when not root)."""
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                with contextlib.suppress(FileNotFoundError):
                    os.chown(
                        os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False
                    )

    def runnable(self, base: Path, *parts: str) -> Path:
        """`base` with the programs (or folders of them) `parts` inside it, at a path the
        account can run them from: `base` itself when not root, else a copy in
        `<home>/bin/` made of hard links (a copy where the file system differs), remade
        when a source changes. Relative paths between the parts keep working (a
        program's RPATH pointing at `../../<package>.libs`)."""
        if self.user is None:
            return base
        self._make_home()
        files = sorted(path for part in parts for path in _walk_files(base / part))
        digest = hashlib.sha256(str(base.resolve()).encode())
        for path in files:
            info = path.lstat()
            digest.update(
                f"\0{path.relative_to(base)}\0{info.st_size}\0{info.st_mtime_ns}".encode()
            )
        bin_dir = self.home / "bin"
        bin_dir.mkdir(mode=0o755, exist_ok=True)
        label = parts[0].replace("/", "-")
        target = bin_dir / f"{label}-{digest.hexdigest()[:12]}"
        if (target / ".complete").exists():
            return target
        tmp = bin_dir / f".{target.name}.{os.getpid()}.{threading.get_ident()}"
        shutil.rmtree(tmp, ignore_errors=True)
        for path in files:
            _link_or_copy(path, tmp / path.relative_to(base))
        for root, _dirs, _files in os.walk(tmp):
            Path(root).chmod(0o755)  # whatever the umask: the account traverses them
        (tmp / ".complete").write_text(str(base) + "\n")
        try:
            tmp.rename(target)
        except OSError:  # made by a concurrent start meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
        for old in bin_dir.glob(f"{label}-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        return target

    def purge(self) -> None:
        """Remove the servers' folder outside the state folder (root only; stop them first)."""
        if self.user is not None:
            shutil.rmtree(self.home, ignore_errors=True)

    def _make_home(self) -> None:
        with _make_home_lock:  # servers start in threads; one mark per state folder
            owner = self.home / _OWNER_FILE
            if owner.exists():
                if _stale(self.home, self.state_dir):
                    shutil.rmtree(self.home, ignore_errors=True)
                else:
                    _mark(self.home, self.state_dir)  # a home made before marks existed
                    return
            # The state folder first: sweep_orphans takes a home whose state folder is
            # missing for an orphan.
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                SERVICE_HOMES.mkdir(parents=True)
                SERVICE_HOMES.chmod(0o755)  # ours: made now, whatever the umask
            self.home.mkdir(mode=0o755, exist_ok=True)
            self.home.chmod(0o755)
            _mark(self.home, self.state_dir)
            owner.write_text(str(self.state_dir.resolve()) + "\n")


def _read_mark(folder: Path) -> str | None:
    try:
        return (folder / _MARK_FILE).read_text().strip() or None
    except OSError:
        return None


def _stale(home: Path, state_dir: Path) -> bool:
    """The home belongs to an earlier state folder at this path: it holds a mark the
    state folder does not (a home from before marks existed, with none, is adopted)."""
    mark = _read_mark(home)
    return mark is not None and mark != _read_mark(state_dir)


def _mark(home: Path, state_dir: Path) -> None:
    """Give the state folder a mark if it has none, and its home the same one."""
    mark = _read_mark(state_dir)
    if mark is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        mark = secrets.token_hex(16)
        (state_dir / _MARK_FILE).write_text(mark + "\n")
    if _read_mark(home) != mark:
        (home / _MARK_FILE).write_text(mark + "\n")


def sweep_orphans() -> list[Path]:
    """Remove the servers' folders whose state folder no longer exists, or was made
    anew since; return them."""
    removed: list[Path] = []
    if os.geteuid() != 0 or not SERVICE_HOMES.is_dir():
        return removed
    for home in SERVICE_HOMES.iterdir():
        try:
            state_dir = Path((home / _OWNER_FILE).read_text().strip())
        except OSError:
            continue
        if not state_dir.exists() or _stale(home, state_dir):
            shutil.rmtree(home, ignore_errors=True)
            removed.append(home)
    return removed


def _walk_files(source: Path) -> list[Path]:
    if not source.exists():
        return []  # e.g. a wheel without a `<package>.libs` folder
    if not source.is_dir():
        return [source]
    found: list[Path] = []
    for root, dirs, files in os.walk(source):
        found += [Path(root) / name for name in files]
        # A symbolic link to a folder is listed among dirs and not entered: keep the link.
        found += [Path(root) / name for name in dirs if (Path(root) / name).is_symlink()]
    return found


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    # Readable (and, for programs, executable) by the account: the clone's own files.
    mode = target.stat().st_mode
    wanted = 0o444 | (0o111 if mode & 0o100 else 0)
    if mode & wanted != wanted:
        with contextlib.suppress(OSError):
            target.chmod(mode | wanted)
