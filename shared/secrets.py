"""Read a site's secrets from Vault/OpenBao at start-up, with AppRole or Kubernetes auth.

A site's secret is the KV version 2 entry `secret/coffeeshop/<site>`; the site's
login may read that path and nothing else. `VAULT_AUTH` chooses how it logs in:

- `approle` (the default; local runs): role_id and secret_id, the secret_id from a
  file (`VAULT_SECRET_ID_FILE`), never from an environment variable, because the
  environment of a process leaks (`/proc/<pid>/environ`, crash reports, child
  processes);
- `kubernetes` (a cluster): the pod's service-account token, a file Kubernetes
  mounts and renews (`VAULT_KUBERNETES_TOKEN_FILE`), sent to Vault's Kubernetes auth
  method (`VAULT_KUBERNETES_MOUNT`) for the site's role (`VAULT_KUBERNETES_ROLE`);
  Vault asks the cluster's TokenReview API whether the token is valid and whose it is.

Nothing here logs a secret or puts one in an exception message.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import hvac
import hvac.exceptions
import requests

KV_MOUNT = "secret"
SITE_PREFIX = "coffeeshop"

# VAULT_AUTH's values.
APPROLE = "approle"
KUBERNETES = "kubernetes"
AUTH_METHODS = (APPROLE, KUBERNETES)
# Where `vault auth enable kubernetes` mounts the method, and where Kubernetes puts a
# pod's own service-account token when nothing else is said.
KUBERNETES_MOUNT = "kubernetes"
KUBERNETES_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 (a path)


class SecretStoreError(RuntimeError):
    """The secret store can't give us our secrets; the message says why, without secrets."""


@dataclass(frozen=True)
class AppRoleLogin:
    """Log in with an AppRole's role_id and secret_id."""

    role_id: str
    secret_id: str = field(repr=False)

    def login(self, client: hvac.Client) -> None:
        client.auth.approle.login(role_id=self.role_id, secret_id=self.secret_id)

    def describe(self) -> str:
        return "AppRole login"

    def refusal_hint(self) -> str:
        return "the role_id or secret_id is wrong or revoked, or this address may not use it"


@dataclass(frozen=True)
class KubernetesLogin:
    """Log in with a Kubernetes service-account token (a JWT) for a role of Vault's
    Kubernetes auth method mounted at `mount`."""

    role: str
    jwt: str = field(repr=False)
    mount: str = KUBERNETES_MOUNT

    def login(self, client: hvac.Client) -> None:
        client.auth.kubernetes.login(role=self.role, jwt=self.jwt, mount_point=self.mount)

    def describe(self) -> str:
        return f"Kubernetes login (role {self.role!r} at auth/{self.mount})"

    def refusal_hint(self) -> str:
        return (
            "the role does not exist or is not bound to this pod's ServiceAccount and "
            "namespace, the token's audience is not the role's, or the token has expired"
        )


Login = AppRoleLogin | KubernetesLogin


def site_secret_path(site: str) -> str:
    """The KV v2 path, relative to the `secret/` mount, that holds `site`'s secret."""
    return f"{SITE_PREFIX}/{site}"


def read_site_secrets(
    *, site: str, vault_addr: str, role_id: str, secret_id: str, timeout: float = 5.0
) -> dict[str, str]:
    """Log in with the site's AppRole and return its secret `secret/coffeeshop/<site>`.

    Raises SecretStoreError when the store is unreachable, uninitialised or sealed,
    the login is refused, or the secret is missing or not readable.
    """
    path = site_secret_path(site)
    return read_secrets(
        paths=[path], vault_addr=vault_addr, role_id=role_id, secret_id=secret_id, timeout=timeout
    )[path]


def read_secrets(
    *,
    paths: Sequence[str],
    vault_addr: str,
    role_id: str,
    secret_id: str,
    timeout: float = 5.0,
) -> dict[str, dict[str, str]]:
    """Log in once with AppRole and read several KV v2 secrets (paths relative to `secret/`).

    Returns {path: {key: value}}; see `read_secrets_with`. Raises SecretStoreError.
    """
    return read_secrets_with(
        AppRoleLogin(role_id=role_id, secret_id=secret_id),
        paths=paths,
        vault_addr=vault_addr,
        timeout=timeout,
    )


def read_secrets_with(
    login: Login, *, paths: Sequence[str], vault_addr: str, timeout: float = 5.0
) -> dict[str, dict[str, str]]:
    """Log in once with `login` and read several KV v2 secrets (paths relative to `secret/`).

    Returns {path: {key: value}}. The login token is revoked afterwards: a site reads
    its secrets at start-up and needs no token after that. Raises SecretStoreError when
    the store is unreachable, uninitialised or sealed, the login is refused, or a
    secret is missing or not readable.
    """
    where = f"OpenBao at {_display_addr(vault_addr)}"
    what = login.describe()
    session = requests.Session()
    client = hvac.Client(url=vault_addr, timeout=timeout, session=session)
    try:
        _check_unsealed(client, where)
        try:
            login.login(client)
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden) as exc:
            raise SecretStoreError(
                f"{what} refused by {where}: {_reason(exc)} ({login.refusal_hint()})"
            ) from None
        except hvac.exceptions.VaultDown:
            raise SecretStoreError(f"{where} is sealed") from None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise SecretStoreError(f"{where}: {what} failed: {_reason(exc)}") from None
        try:
            return {path: _read_kv(client, path, where) for path in paths}
        finally:
            # Best effort: a token we fail to revoke expires on its own (short TTL).
            with contextlib.suppress(hvac.exceptions.VaultError, requests.RequestException):
                client.auth.token.revoke_self()
    finally:
        session.close()


def approle_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, str, str]:
    """(vault_addr, role_id, secret_id) of a site's AppRole, from the environment.

    Reads VAULT_ADDR, VAULT_ROLE_ID or VAULT_ROLE_ID_FILE, and VAULT_SECRET_ID_FILE
    (a path; a secret_id is never taken from the environment itself). Raises
    SecretStoreError naming the variable that is missing or whose file can't be read.
    """
    vault_addr = _vault_addr(environ)
    role_id = environ.get("VAULT_ROLE_ID", "").strip()
    if not role_id:
        role_id_file = environ.get("VAULT_ROLE_ID_FILE", "").strip()
        if not role_id_file:
            raise SecretStoreError("neither VAULT_ROLE_ID nor VAULT_ROLE_ID_FILE is set")
        role_id = _read_file("VAULT_ROLE_ID_FILE", role_id_file)
    secret_id_file = environ.get("VAULT_SECRET_ID_FILE", "").strip()
    if not secret_id_file:
        hint = (
            " (VAULT_SECRET_ID is ignored: put the secret_id in a file instead)"
            if environ.get("VAULT_SECRET_ID")
            else ""
        )
        raise SecretStoreError(f"VAULT_SECRET_ID_FILE is not set{hint}")
    secret_id = _read_file("VAULT_SECRET_ID_FILE", secret_id_file)
    return vault_addr, role_id, secret_id


def kubernetes_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, KubernetesLogin]:
    """(vault_addr, login) for Vault's Kubernetes auth, from the environment.

    Reads VAULT_ADDR, VAULT_KUBERNETES_ROLE (the Vault role bound to the pod's
    ServiceAccount), VAULT_KUBERNETES_MOUNT (the auth method's path, default
    `kubernetes`) and VAULT_KUBERNETES_TOKEN_FILE (default: the pod's own
    service-account token, KUBERNETES_TOKEN_FILE). Raises SecretStoreError naming the
    variable that is missing or whose file can't be read.
    """
    vault_addr = _vault_addr(environ)
    role = environ.get("VAULT_KUBERNETES_ROLE", "").strip()
    if not role:
        raise SecretStoreError(
            "VAULT_KUBERNETES_ROLE is not set: the Vault role bound to this pod's "
            "ServiceAccount is needed for Kubernetes auth"
        )
    mount = environ.get("VAULT_KUBERNETES_MOUNT", "").strip().strip("/") or KUBERNETES_MOUNT
    token_file = environ.get("VAULT_KUBERNETES_TOKEN_FILE", "").strip()
    variable = "VAULT_KUBERNETES_TOKEN_FILE"
    if not token_file:
        token_file, variable = KUBERNETES_TOKEN_FILE, "the service-account token"
    jwt = _read_file(variable, token_file)
    return vault_addr, KubernetesLogin(role=role, jwt=jwt, mount=mount)


def login_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, Login]:
    """(vault_addr, login) by VAULT_AUTH: `approle` (the default, `approle_from_env`) or
    `kubernetes` (`kubernetes_from_env`). Raises SecretStoreError naming what is wrong."""
    method = environ.get("VAULT_AUTH", "").strip().lower() or APPROLE
    if method == KUBERNETES:
        return kubernetes_from_env(environ)
    if method == APPROLE:
        vault_addr, role_id, secret_id = approle_from_env(environ)
        return vault_addr, AppRoleLogin(role_id=role_id, secret_id=secret_id)
    raise SecretStoreError(
        f"VAULT_AUTH={method!r} is not a login method here: use one of {', '.join(AUTH_METHODS)}"
    )


def load_site_secrets_from_env(
    site: str, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The site's secret `secret/coffeeshop/<site>`: with `MESH=dapr` through the
    sidecar's secret store, else with the login the environment names (VAULT_AUTH)."""
    return load_secrets_from_env([site_secret_path(site)], environ)[site_secret_path(site)]


def load_secrets_from_env(
    paths: Sequence[str], environ: Mapping[str, str] = os.environ
) -> dict[str, dict[str, str]]:
    """KV v2 secrets (paths relative to `secret/`, each under `coffeeshop/`) by the
    mode in the environment: through the Dapr sidecar (whose Vault component reads
    under `secret/coffeeshop/` with this app's own token), or with the login the
    environment names (`login_from_env`: AppRole or Kubernetes). Raises SecretStoreError."""
    from shared import mesh

    try:
        dapr = mesh.mode(environ) == mesh.DAPR
        if dapr:
            prefix = f"{SITE_PREFIX}/"
            return {
                path: mesh.read_secret(path.removeprefix(prefix), environ=environ) for path in paths
            }
    except mesh.MeshError as err:
        raise SecretStoreError(str(err)) from None
    vault_addr, login = login_from_env(environ)
    return read_secrets_with(login, paths=paths, vault_addr=vault_addr)


def _vault_addr(environ: Mapping[str, str]) -> str:
    vault_addr = environ.get("VAULT_ADDR", "").strip()
    if not vault_addr:
        raise SecretStoreError("VAULT_ADDR is not set: the URL of the secret store is needed")
    return vault_addr


def _check_unsealed(client: hvac.Client, where: str) -> None:
    try:
        status = client.sys.read_seal_status()
    except requests.RequestException as exc:
        raise SecretStoreError(f"{where} is unreachable: {_reason(exc)}") from None
    except hvac.exceptions.VaultError as exc:
        raise SecretStoreError(f"{where} answered with an error: {_reason(exc)}") from None
    if not isinstance(status, dict):
        raise SecretStoreError(f"{where} did not answer like a Vault/OpenBao server")
    if not status.get("initialized", False):
        raise SecretStoreError(f"{where} is not initialised")
    if status.get("sealed", True):
        raise SecretStoreError(f"{where} is sealed")


def _read_kv(client: hvac.Client, path: str, where: str) -> dict[str, str]:
    full = f"{KV_MOUNT}/{path}"
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=KV_MOUNT, raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        raise SecretStoreError(f"no secret {full} in {where}") from None
    except hvac.exceptions.Forbidden:
        raise SecretStoreError(f"{where} refused to read {full}: permission denied") from None
    except hvac.exceptions.VaultDown:
        raise SecretStoreError(f"{where} is sealed") from None
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        raise SecretStoreError(f"{where}: reading {full} failed: {_reason(exc)}") from None
    data: Any = (response.get("data") or {}).get("data")
    if not isinstance(data, dict):
        raise SecretStoreError(f"no secret {full} in {where}")
    values: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            # Name the key only: the value may be the secret.
            raise SecretStoreError(f"{full} in {where}: key {key!r} is not a string")
        values[str(key)] = value
    return values


def _read_file(variable: str, path: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise SecretStoreError(f"can't read {variable}={path}: {exc.strerror}") from None
    if not text:
        raise SecretStoreError(f"{variable}={path} is empty")
    return text


def _reason(exc: BaseException) -> str:
    """A short, secret-free description of a client error."""
    if isinstance(exc, hvac.exceptions.VaultError):
        # The server's own error strings ("invalid role or secret ID", "permission
        # denied"); they never echo request bodies.
        errors = exc.errors if isinstance(exc.errors, list) else [exc.errors]
        text = "; ".join(str(e) for e in errors if e) or type(exc).__name__
        return text
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        # requests wraps urllib3's MaxRetryError, whose .reason is the real failure:
        # "HTTPConnection(host=..., port=...): Failed to establish ...: Connection refused".
        wrapped = exc.args[0] if exc.args else exc
        text = str(getattr(wrapped, "reason", None) or wrapped)
        return text.split("): ", 1)[-1] if text.startswith("HTTP") else text
    return type(exc).__name__


def _display_addr(url: str) -> str:
    """The address without any user:password part, fit for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
