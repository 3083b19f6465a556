"""A real Kubernetes API server on loopback: etcd plus kube-apiserver, nothing else.

No scheduler, controller-manager or kubelet: objects are stored, validated, defaulted
and admitted exactly as in a cluster, but no pod runs. That is what helm needs to
install and upgrade a release for real, and what proves the server refuses a broken
manifest. Both binaries are built by devstack/deploy/tools.py. Auth is one static
token in the `system:masters` group; the serving certificate is self-signed by
kube-apiserver itself (`--cert-dir`).
"""

from __future__ import annotations

import secrets
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.base import HOST, Process, StartError, free_port, spawn, tail
from devstack.deploy import tools

SERVICE_CIDR = "10.96.0.0/16"


@dataclass
class ApiServer:
    """etcd and kube-apiserver in `state_dir`, on free loopback ports."""

    state_dir: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = 0
    processes: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self, timeout: float = 90) -> None:
        """Start both and wait until /readyz answers; raise StartError otherwise."""
        etcd_bin, apiserver_bin = tools.etcd(), tools.kube_apiserver()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        etcd_port, peer_port = free_port(), free_port()
        self.port = free_port()
        etcd = spawn(
            "etcd",
            [
                str(etcd_bin),
                "--name=coffeeshop",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls=http://{HOST}:{etcd_port}",
                f"--advertise-client-urls=http://{HOST}:{etcd_port}",
                f"--listen-peer-urls=http://{HOST}:{peer_port}",
                f"--initial-advertise-peer-urls=http://{HOST}:{peer_port}",
                f"--initial-cluster=coffeeshop=http://{HOST}:{peer_port}",
                "--log-level=warn",
            ],
            state_dir=self.state_dir,
        )
        self.processes.append(etcd)
        key = self.state_dir / "sa.key"
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key.chmod(0o600)
        tokens = self.state_dir / "tokens.csv"
        tokens.write_text(f'{self.token},coffeeshop-admin,1,"system:masters"\n')
        tokens.chmod(0o600)
        apiserver = spawn(
            "kube-apiserver",
            [
                str(apiserver_bin),
                f"--etcd-servers=http://{HOST}:{etcd_port}",
                f"--bind-address={HOST}",
                f"--advertise-address={HOST}",
                f"--secure-port={self.port}",
                f"--cert-dir={self.state_dir / 'certs'}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={key}",
                f"--service-account-signing-key-file={key}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # No controller keeps the `kubernetes` Service's endpoints here.
                "--endpoint-reconciler-type=none",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                "-v=1",
            ],
            state_dir=self.state_dir,
        )
        self.processes.append(apiserver)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if not process.alive():
                    raise StartError(process.name, "exited during start-up", tail(process.logfile))
            try:
                if self.client().get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise StartError(
            "kube-apiserver", f"not ready after {timeout:.0f}s", tail(apiserver.logfile)
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=10)
        self.processes.clear()

    def client(self) -> httpx.Client:
        # The serving certificate is self-signed by this very server, on loopback.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=context,
            timeout=30,
        )

    def serving_certificate(self) -> str:
        """The PEM of the certificate kube-apiserver made for itself, with the authority
        that signed it: what a client (e.g. Vault's Kubernetes auth) trusts it by."""
        return (self.state_dir / "certs" / "apiserver.crt").read_text()

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        """POST `obj` to `path` (e.g. /api/v1/namespaces); one that exists already is fine.
        Returns the stored object."""
        with self.client() as client:
            answer = client.post(path, json=obj)
            if answer.status_code == 409:
                name = obj["metadata"]["name"]
                answer = client.get(f"{path}/{name}")
        if answer.status_code not in (200, 201):
            raise StartError("kube-apiserver", f"POST {path}: {answer.status_code} {answer.text}")
        return dict(answer.json())

    def service_account_token(
        self, namespace: str, name: str, *, audiences: list[str], seconds: int = 600
    ) -> str:
        """A token of ServiceAccount `name` from the TokenRequest API, as the kubelet gets
        one for a projected `serviceAccountToken` volume (not bound to a pod here)."""
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": audiences, "expirationSeconds": seconds},
        }
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"
        with self.client() as client:
            answer = client.post(path, json=request)
        if answer.status_code != 201:
            raise StartError("kube-apiserver", f"TokenRequest {name}: {answer.text}")
        return str(answer.json()["status"]["token"])

    def kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """A kubeconfig for helm (token auth, the self-signed certificate not checked)."""
        path.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: {self.url}
      insecure-skip-tls-verify: true
users:
  - name: admin
    user:
      token: {self.token}
contexts:
  - name: local
    context: {{cluster: local, user: admin, namespace: {namespace}}}
current-context: local
"""
        )
        path.chmod(0o600)
        return path

    def apply_crd(self, crd: dict[str, Any]) -> None:
        """Create a CustomResourceDefinition and wait until it is Established."""
        with self.client() as client:
            answer = client.post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd
            )
            if answer.status_code not in (201, 409):
                raise StartError("kube-apiserver", f"CRD {crd['metadata']['name']}: {answer.text}")
            name = crd["metadata"]["name"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = client.get(
                    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
                )
                conditions = (status.json().get("status") or {}).get("conditions") or []
                if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    return
                time.sleep(0.2)
        raise StartError("kube-apiserver", f"CRD {name} not established after 30s")
