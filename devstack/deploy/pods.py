"""The chart's pods under `podman kube play`, against the local servers.

The chart is rendered with a values overlay for one machine (`local_values`): host
networking, everything bound to 127.0.0.1, the servers `manage_all.py` started as the
external PostgreSQL, Redis, Kafka and Vault, no Dapr injector (`dapr.enabled=false`).
`pod_from()` turns a rendered Deployment or Job into the Pod a controller would make.
podman 4.3 (Debian bookworm) plays neither Secret volumes nor memory-backed emptyDirs,
so `pod_from()` gives each volume a host folder instead: the AppRole files a Secret
would hold, and an empty writable folder for `/tmp` and the static files; and it drops
`containerPort`s, which podman maps even on the host's network and then refuses. Everything
else (init containers, user, read-only root filesystem, dropped capabilities, command,
environment) is played as rendered.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from devstack.base import HOST
from devstack.stack import Stack

UID = 10001


def local_values(stack: Stack, *, tag: str, ports: dict[str, int]) -> dict[str, Any]:
    """Chart values that point every site at the servers of `stack`, on `ports`."""
    env = {site: stack.site_env(site, "production") for site in ("identity", "order", "bff")}
    databases = {site: urlsplit(env[site]["DATABASE_URL"]) for site in env}
    any_env = env["order"]
    return {
        "image": {"registry": "localhost", "tag": tag, "pullPolicy": "Never"},
        "publicUrl": f"http://{HOST}:{ports['bff']}",
        "identityPublicUrl": f"http://{HOST}:{ports['identity']}",
        "mesh": "direct",
        "dapr": {"enabled": False},
        "ingress": {"enabled": False},
        "hostNetwork": True,
        "bindAddress": HOST,
        "postgres": {
            "host": HOST,
            "port": databases["order"].port,
            "sslmode": "disable",
            "databases": {site: url.path.lstrip("/") for site, url in databases.items()},
            "users": {site: url.username for site, url in databases.items()},
        },
        "redis": {"url": any_env["REDIS_URL"]},
        "kafka": {"bootstrapServers": any_env["KAFKA_BOOTSTRAP_SERVERS"]},
        "vault": {"address": any_env["VAULT_ADDR"], "appRoleSecret": "coffeeshop-approle"},
        "email": {"url": any_env["EMAIL_URL"]},
        "paymentProvider": {
            "url": env["order"]["PAYMENT_PROVIDER_URL"],
            "publicUrl": env["bff"]["PAYMENT_PROVIDER_PUBLIC_URL"],
        },
        "sites": {
            site: {
                "port": ports[site],
                "workers": 1,
                "autoscaling": {"enabled": False},
                "replicas": 1,
                # Local HTTP: the sites must not redirect the probes' and tests' calls.
                "env": {"DJANGO_SECURE_SSL_REDIRECT": "false"},
            }
            for site in ("identity", "order", "bff")
        },
    }


def approle_files(stack: Stack, folder: Path) -> Path:
    """`<site>-role-id` and `<site>-secret-id` as the chart's AppRole Secret would hold
    them, readable by the images' user only."""
    folder.mkdir(parents=True, exist_ok=True)
    for site in ("identity", "order", "bff"):
        env = stack.site_env(site, "production")
        for key, variable in (
            ("role-id", "VAULT_ROLE_ID_FILE"),
            ("secret-id", "VAULT_SECRET_ID_FILE"),
        ):
            target = folder / f"{site}-{key}"
            shutil.copyfile(env[variable], target)
            os.chown(target, UID, UID)
            target.chmod(0o400)
    os.chown(folder, UID, UID)
    return folder


def pod_from(obj: dict[str, Any], *, name: str, folder: Path, approle: Path) -> dict[str, Any]:
    """The Pod a controller would make from a rendered Deployment or Job, its volumes on
    host folders under `folder` (module docstring)."""
    template = copy.deepcopy(obj["spec"]["template"])
    spec = template["spec"]
    volumes = []
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            path = approle
        else:
            path = folder / volume["name"]
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, UID, UID)
        volumes.append(
            {"name": volume["name"], "hostPath": {"path": str(path), "type": "Directory"}}
        )
    spec["volumes"] = volumes
    if spec.get("hostNetwork"):
        # podman turns containerPort into a port mapping, which it refuses on the host's
        # network; the app binds the host's port itself there anyway.
        for container in spec["containers"]:
            container.pop("ports", None)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": template["metadata"].get("labels", {}),
            # podman 4.3 removes a finished "once" init container while it still counts
            # it as running, and fails the play; "always" keeps it (exited) instead.
            "annotations": {"io.podman.annotations.init.container.type": "always"},
        },
        "spec": spec,
    }


def write_pod(pod: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(pod, sort_keys=False))
    return path


SIDECAR_CONFIG = {
    "apiVersion": "dapr.io/v1alpha1",
    "kind": "Configuration",
    "metadata": {"name": "coffeeshop"},
    "spec": {
        # No mDNS multicast here: the sidecars find each other in one SQLite file.
        "nameResolution": {
            "component": "sqlite",
            "version": "v1",
            "configuration": {
                "connectionString": "/dapr/name-resolution.db",
                "updateInterval": "2s",
            },
        },
        "mtls": {"enabled": False},
    },
}


def dapr_folder(folder: Path) -> Path:
    """The sidecars' shared folder: their configuration, an empty resources folder and
    the name-resolution database, writable by the pods' user."""
    (folder / "resources").mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(SIDECAR_CONFIG, sort_keys=False))
    for path in (folder, folder / "resources", folder / "config.yaml"):
        os.chown(path, UID, UID)
    return folder


def add_sidecar(
    pod: dict[str, Any],
    *,
    image: str,
    app_id: str,
    app_port: int | None,
    ports: dict[str, int],
    folder: Path,
) -> dict[str, Any]:
    """The daprd container Dapr's injector would add (its image built from
    docker/Containerfile.daprd), on loopback ports, with the pod's security context."""
    args = [
        "--mode", "standalone",
        "--app-id", app_id,
        "--dapr-listen-addresses", HOST,
        "--dapr-http-port", str(ports["http"]),
        "--dapr-grpc-port", str(ports["grpc"]),
        "--dapr-internal-grpc-port", str(ports["internal"]),
        "--dapr-internal-grpc-listen-address", HOST,
        "--metrics-port", str(ports["metrics"]),
        "--metrics-listen-address", HOST,
        "--resources-path", "/dapr/resources",
        "--config", "/dapr/config.yaml",
        "--log-level", "info",
    ]  # fmt: skip
    if app_port is not None:
        args += ["--app-port", str(app_port), "--app-channel-address", HOST]
        args += ["--app-protocol", "http"]
    app = pod["spec"]["containers"][0]
    pod["spec"]["containers"].append(
        {
            "name": "daprd",
            "image": image,
            "args": args,
            "securityContext": copy.deepcopy(app["securityContext"]),
            "volumeMounts": [{"name": "dapr", "mountPath": "/dapr"}],
        }
    )
    pod["spec"]["volumes"].append(
        {"name": "dapr", "hostPath": {"path": str(folder), "type": "Directory"}}
    )
    return pod
