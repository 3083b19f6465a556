"""Dapr mode: how a site reaches other services and its secrets through its own sidecar,
and how it knows a request came through one.

`MESH` (environment) is `direct` (default: call `ORDER_URL` and friends, read Vault with
the AppRole) or `dapr`. In Dapr mode every process has its own daprd on 127.0.0.1:

- service invocation: a call to app `order` goes to the sidecar's HTTP API with the
  header `dapr-app-id: order` (Dapr's header-based invocation); the path, method,
  headers and body reach Order unchanged. `shared.http.ServiceClient` does this when
  given an `app_id`, so site code never knows the mode.
- secrets: `GET /v1.0/secrets/<store>/<key>` on the sidecar, answered by the
  `secretstores.hashicorp.vault` component with this app's own Vault token.
- the app's own port: the sidecar sends `dapr-api-token: <APP_API_TOKEN>` and
  `dapr-caller-app-id: <caller>` with each call it delivers. `MeshCallerMiddleware`
  refuses the service-to-service paths (`PROTECTED_PATHS`) to anyone without the token,
  and to a caller app not in `CALLERS`; browser-facing pages stay open.
- daprd 1.18 cleans the invoked method's path (`path.Clean`), which drops a trailing
  slash: `/api/orders/` arrives as `/api/orders`. For a call the sidecar delivered, the
  middleware puts the slash back when only the slashed path resolves (what Django's
  APPEND_SLASH would answer with a redirect the caller would not follow).

Tokens arrive as files (`DAPR_API_TOKEN_FILE`, `APP_API_TOKEN_FILE`), like the Vault
secret_id (shared/secrets.py): a process environment leaks.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx

DIRECT, DAPR = "direct", "dapr"
MODES = (DIRECT, DAPR)
SIDECAR_HOST = "127.0.0.1"
DEFAULT_SECRET_STORE = "vault"  # noqa: S105 - a component name
API_TOKEN_HEADER = "dapr-api-token"  # noqa: S105 - a header name, not a secret
CALLER_HEADER = "dapr-caller-app-id"
APP_ID_HEADER = "dapr-app-id"

# Which paths of a site only a sidecar may deliver in Dapr mode, and which apps' calls
# (by site: "order" covers the app `order` and its workers `order-…`) it accepts there.
PROTECTED_PATHS: dict[str, tuple[str, ...]] = {
    "order": ("/api/",),
    "identity": ("/o/introspect/", "/api/"),
}
# Open to anyone in both modes: each site's OpenAPI document and its viewer.
OPEN_PATHS = ("/api/schema/", "/api/docs/")
CALLERS: dict[str, tuple[str, ...]] = {
    "order": ("bff",),
    "identity": ("bff", "order"),
}


class MeshError(RuntimeError):
    """Dapr mode is asked for but its settings are missing or unreadable."""


def mode(environ: Mapping[str, str] = os.environ) -> str:
    value = environ.get("MESH", DIRECT).strip().lower() or DIRECT
    if value not in MODES:
        raise MeshError(f"MESH={value!r}: expected one of {', '.join(MODES)}")
    return value


def sidecar_url(environ: Mapping[str, str] = os.environ) -> str:
    """The HTTP API of this process's sidecar (DAPR_HTTP_PORT, Dapr's own variable)."""
    port = environ.get("DAPR_HTTP_PORT", "").strip()
    if not port.isdigit():
        raise MeshError("MESH=dapr but DAPR_HTTP_PORT (the sidecar's HTTP port) is not set")
    return f"http://{SIDECAR_HOST}:{port}"


def _read_token(variable: str, environ: Mapping[str, str]) -> str:
    path = environ.get(variable, "").strip()
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise MeshError(f"can't read {variable}={path}: {exc.strerror}") from None


def sidecar_headers(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What a call to our own sidecar carries: the Dapr API token, when one is set."""
    token = _read_token("DAPR_API_TOKEN_FILE", environ)
    return {API_TOKEN_HEADER: token} if token else {}


def invocation_route(
    app_id: str, environ: Mapping[str, str] = os.environ
) -> tuple[str, dict[str, str]] | None:
    """(base URL, headers) that reach app `app_id` through our sidecar, or None when
    calls go direct."""
    if mode(environ) != DAPR:
        return None
    return sidecar_url(environ), {**sidecar_headers(environ), APP_ID_HEADER: app_id}


def read_secret(
    key: str,
    *,
    environ: Mapping[str, str] = os.environ,
    timeout: float = 5.0,
    retry_for: float = 30.0,
) -> dict[str, str]:
    """Secret `key` from the sidecar's secret store (`DAPR_SECRET_STORE`, "vault").

    Waits up to `retry_for` seconds for a sidecar that is still starting; raises
    MeshError with Dapr's own error code when the store refuses (e.g. this app's Vault
    policy does not cover the key).
    """
    import time

    store = environ.get("DAPR_SECRET_STORE", DEFAULT_SECRET_STORE)
    url = f"{sidecar_url(environ)}/v1.0/secrets/{store}/{key}"
    deadline = time.monotonic() + retry_for
    while True:
        try:
            response = httpx.get(url, headers=sidecar_headers(environ), timeout=timeout)
        except httpx.TransportError as exc:
            if time.monotonic() < deadline:
                time.sleep(0.25)
                continue
            raise MeshError(
                f"the Dapr sidecar at {sidecar_url(environ)} is unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code == 200:
            break
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        code = body.get("errorCode", "") if isinstance(body, dict) else ""
        if code == "ERR_SECRET_STORE_NOT_FOUND" and time.monotonic() < deadline:
            time.sleep(0.25)  # components still loading
            continue
        # Dapr's message carries the store's own error ("permission denied", "Vault is
        # sealed"); it never holds a secret value.
        message = body.get("message", "") if isinstance(body, dict) else ""
        raise MeshError(
            f"the Dapr secret store {store!r} refused secret {key!r}: "
            f"{response.status_code} {code or 'no error code'} {str(message)[:300]}".rstrip()
        )
    values = response.json()
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise MeshError(
            f"the Dapr secret store {store!r} answered secret {key!r} in an unexpected shape"
        )
    return {str(k): v for k, v in values.items()}


def check_sidecar() -> None:
    """Readiness: the sidecar is up and its components are loaded (outbound healthz)."""
    response = httpx.get(f"{sidecar_url()}/v1.0/healthz/outbound", timeout=2.0)
    if response.status_code != 204:
        raise RuntimeError(f"sidecar answered {response.status_code}")


@cache
def _app_token() -> str:
    return _read_token("APP_API_TOKEN_FILE", os.environ)


def caller_allowed(site: str, caller: str) -> bool:
    """Whether app id `caller` (e.g. `bff`, `order-consumers`) may call `site`'s protected paths."""
    return any(caller == s or caller.startswith(f"{s}-") for s in CALLERS.get(site, ()))


class MeshCallerMiddleware:
    """In Dapr mode, only the sidecar (the app token) delivers service-to-service calls,
    and only from the apps `CALLERS` names; anything else gets a 401/403 problem."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.site = str(getattr(settings, "SITE_NAME", ""))
        self.enabled = getattr(settings, "MESH", DIRECT) == DAPR
        self.paths = PROTECTED_PATHS.get(self.site, ())

    def __call__(self, request: Any) -> Any:
        if self.enabled:
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: Any) -> Any:
        caller = request.headers.get(CALLER_HEADER, "")
        slashed = request.path if request.path.endswith("/") else request.path + "/"
        protected = slashed.startswith(self.paths) and not slashed.startswith(OPEN_PATHS)
        if not caller and not protected:
            return None
        from shared.problems import problem

        expected = _app_token()
        given = request.headers.get(API_TOKEN_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return problem(
                401,
                "Unauthenticated",
                "In Dapr mode this path is reached only through the Dapr sidecar.",
                slug="mesh-unauthenticated",
            )
        if not caller_allowed(self.site, caller):
            return problem(
                403,
                "Forbidden",
                f"App {caller or '(none)'!s} may not call {self.site}.",
                slug="mesh-caller-refused",
            )
        _restore_trailing_slash(request)
        return None


def _restore_trailing_slash(request: Any) -> None:
    """Give back the slash daprd's path cleaning took, where only the slashed path exists."""
    from django.urls import Resolver404, get_urlconf, is_valid_path, resolve

    info = request.path_info
    if info.endswith("/"):
        return
    urlconf = getattr(request, "urlconf", None) or get_urlconf()
    if is_valid_path(info, urlconf):
        return
    try:
        match = resolve(info + "/", urlconf)
    except Resolver404:
        return
    request.path_info = info + "/"
    request.path = request.path + "/"
    _name_server_span(request.method, match.route)


def _name_server_span(method: str, route: str) -> None:
    """Name the request's span for its route, as it is named without a sidecar: the
    tracing middleware named it before the slash came back, when no route matched."""
    from opentelemetry import trace

    span = trace.get_current_span()
    if route and span.is_recording():
        span.update_name(f"{method} {route}")
