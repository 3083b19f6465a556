"""Vault's Kubernetes auth, for real: this run's OpenBao, its `kubernetes` auth method
configured against a real kube-apiserver (+ etcd) on loopback, checks ServiceAccount
tokens that server issued (TokenRequest, as the kubelet gets them for the chart's
projected volume) through that server's TokenReview API. `shared.secrets` logs in with
the settings the chart renders for `vault.auth=kubernetes` and reads its own site's
secret, and nothing else.

The operator's steps (chart README, "Vault") done here by the test: enable the method,
point it at the API server (its CA, a reviewer token: here the server's admin token),
and per site a role bound to the site's ServiceAccount and its migration Job's, in the
release's namespace, with the token audience the chart asks for and the site's policy.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest

from devstack.deploy.apiserver import ApiServer
from devstack.stack import Stack
from shared.secrets import (
    KubernetesLogin,
    SecretStoreError,
    load_site_secrets_from_env,
    read_secrets_with,
    site_secret_path,
)
from tests.deploy.conftest import by_kind

pytestmark = pytest.mark.timeout(3600)

SITES = ("identity", "order", "bff")
NAMESPACE = "coffeeshop"
# A mount of its own, removed afterwards: the run's OpenBao serves the other suites too.
MOUNT = f"kubernetes-test-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("kube-vault"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chart(render: Callable[..., list[dict[str, Any]]], test_stack: Stack) -> list[dict[str, Any]]:
    """The chart's objects with Kubernetes auth, pointed at this run's OpenBao."""
    return render(
        None,
        "vault.auth=kubernetes",
        f"vault.kubernetes.mountPath={MOUNT}",
        f"vault.address={test_stack.openbao.url}",
    )


def pod_spec(chart: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return dict(by_kind(chart, kind)[name]["spec"]["template"]["spec"])


def vault_env(spec: dict[str, Any]) -> dict[str, str]:
    """The VAULT_* settings of the pod's app container."""
    return {
        variable["name"]: variable["value"]
        for variable in spec["containers"][0]["env"]
        if variable["name"].startswith("VAULT_")
    }


def token_audience(spec: dict[str, Any]) -> str:
    (volume,) = [v for v in spec["volumes"] if v["name"] == "vault-token"]
    return str(volume["projected"]["sources"][0]["serviceAccountToken"]["audience"])


@pytest.fixture(scope="module")
def admin(test_stack: Stack) -> hvac.Client:
    return test_stack.openbao.admin_client()


@pytest.fixture(scope="module")
def kubernetes_auth(
    apiserver: ApiServer, admin: hvac.Client, chart: list[dict[str, Any]]
) -> Iterator[dict[str, str]]:
    """The method enabled and configured, the chart's ServiceAccounts in the API server,
    and per site a role bound to them with the site's policy. Yields {site: role}."""
    apiserver.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    )
    for account in by_kind(chart, "ServiceAccount").values():
        apiserver.create(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts", account)
    admin.sys.enable_auth_method(method_type="kubernetes", path=MOUNT)
    try:
        admin.auth.kubernetes.configure(
            kubernetes_host=apiserver.url,
            kubernetes_ca_cert=apiserver.serving_certificate(),
            token_reviewer_jwt=apiserver.token,
            disable_local_ca_jwt=True,
            mount_point=MOUNT,
        )
        roles = {}
        for site in SITES:
            deployment = pod_spec(chart, "Deployment", f"coffeeshop-{site}")
            job = pod_spec(chart, "Job", f"coffeeshop-{site}-migrate")
            roles[site] = vault_env(deployment)["VAULT_KUBERNETES_ROLE"]
            admin.auth.kubernetes.create_role(
                name=roles[site],
                bound_service_account_names=[
                    deployment["serviceAccountName"],
                    job["serviceAccountName"],
                ],
                bound_service_account_namespaces=[NAMESPACE],
                audience=token_audience(deployment),
                # The policy `manage_all.py` made for the site: its own secret only.
                policies=[f"coffeeshop-{site}"],
                ttl="5m",
                mount_point=MOUNT,
            )
        yield roles
    finally:
        admin.sys.disable_auth_method(path=MOUNT)


def token_file(folder: Path, apiserver: ApiServer, account: str, audience: str) -> Path:
    path = folder / f"{account}.token"
    path.write_text(
        apiserver.service_account_token(NAMESPACE, account, audiences=[audience], seconds=600)
    )
    path.chmod(0o600)
    return path


def site_secret(admin: hvac.Client, site: str) -> dict[str, str]:
    answer = admin.secrets.kv.v2.read_secret_version(
        path=site_secret_path(site), mount_point="secret", raise_on_deleted_version=True
    )
    return dict(answer["data"]["data"])


def test_the_chart_gives_each_site_its_role_the_mount_and_a_token_for_vault_only(
    chart: list[dict[str, Any]],
) -> None:
    for site in SITES:
        for kind, name in (("Deployment", site), ("Job", f"{site}-migrate")):
            spec = pod_spec(chart, kind, f"coffeeshop-{name}")
            assert vault_env(spec) == {
                "VAULT_ADDR": vault_env(spec)["VAULT_ADDR"],
                "VAULT_AUTH": "kubernetes",
                "VAULT_KUBERNETES_ROLE": f"coffeeshop-{site}",
                "VAULT_KUBERNETES_MOUNT": MOUNT,
                "VAULT_KUBERNETES_TOKEN_FILE": "/var/run/secrets/vault/token",
            }
            assert token_audience(spec) == "vault"
            assert spec["serviceAccountName"] == f"coffeeshop-{name}"


def test_each_sites_service_account_token_reads_its_own_secret(
    kubernetes_auth: dict[str, str],
    apiserver: ApiServer,
    admin: hvac.Client,
    chart: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    for site in SITES:
        spec = pod_spec(chart, "Deployment", f"coffeeshop-{site}")
        token = token_file(tmp_path, apiserver, spec["serviceAccountName"], token_audience(spec))
        environ = {**vault_env(spec), "VAULT_KUBERNETES_TOKEN_FILE": str(token)}

        assert load_site_secrets_from_env(site, environ) == site_secret(admin, site)


def test_the_migration_jobs_service_account_logs_in_for_its_site_too(
    kubernetes_auth: dict[str, str],
    apiserver: ApiServer,
    admin: hvac.Client,
    chart: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    spec = pod_spec(chart, "Job", "coffeeshop-order-migrate")
    token = token_file(tmp_path, apiserver, spec["serviceAccountName"], token_audience(spec))
    environ = {**vault_env(spec), "VAULT_KUBERNETES_TOKEN_FILE": str(token)}

    assert load_site_secrets_from_env("order", environ) == site_secret(admin, "order")


def test_a_sites_login_is_refused_another_sites_secret(
    kubernetes_auth: dict[str, str], apiserver: ApiServer, test_stack: Stack
) -> None:
    token = apiserver.service_account_token(NAMESPACE, "coffeeshop-order", audiences=["vault"])
    login = KubernetesLogin(role=kubernetes_auth["order"], jwt=token, mount=MOUNT)

    assert read_secrets_with(
        login, paths=[site_secret_path("order")], vault_addr=test_stack.openbao.url
    )
    for other in ("identity", "bff"):
        with pytest.raises(SecretStoreError) as refused:
            read_secrets_with(
                login, paths=[site_secret_path(other)], vault_addr=test_stack.openbao.url
            )
        assert str(refused.value) == (
            f"OpenBao at {test_stack.openbao.url} refused to read "
            f"secret/coffeeshop/{other}: permission denied"
        )


def test_the_token_of_another_sites_service_account_is_refused_the_role(
    kubernetes_auth: dict[str, str],
    apiserver: ApiServer,
    chart: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    spec = pod_spec(chart, "Deployment", "coffeeshop-order")
    bff_token = token_file(tmp_path, apiserver, "coffeeshop-bff", "vault")
    environ = {**vault_env(spec), "VAULT_KUBERNETES_TOKEN_FILE": str(bff_token)}

    with pytest.raises(SecretStoreError) as refused:
        load_site_secrets_from_env("order", environ)

    message = str(refused.value)
    assert message.startswith(f"Kubernetes login (role 'coffeeshop-order' at auth/{MOUNT}) refused")
    assert "service account name not authorized" in message
    assert bff_token.read_text() not in message


def test_a_token_for_the_api_servers_audience_is_refused(
    kubernetes_auth: dict[str, str], apiserver: ApiServer, test_stack: Stack
) -> None:
    """The token a pod gets for the API server (automountServiceAccountToken) is no
    Vault login: the role asks for the audience the chart projects for Vault."""
    token = apiserver.service_account_token(
        NAMESPACE, "coffeeshop-order", audiences=["https://kubernetes.default.svc"]
    )
    login = KubernetesLogin(role=kubernetes_auth["order"], jwt=token, mount=MOUNT)

    with pytest.raises(SecretStoreError, match="refused"):
        read_secrets_with(
            login, paths=[site_secret_path("order")], vault_addr=test_stack.openbao.url
        )


def test_a_deleted_service_accounts_token_is_refused(
    kubernetes_auth: dict[str, str], apiserver: ApiServer, admin: hvac.Client, test_stack: Stack
) -> None:
    """Vault asks the API server about every login (TokenReview): a token whose
    ServiceAccount is gone no longer logs in, though its signature is still good."""
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "gone"}}
    apiserver.create(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts", account)
    admin.auth.kubernetes.create_role(
        name="gone",
        bound_service_account_names=["gone"],
        bound_service_account_namespaces=[NAMESPACE],
        audience="vault",
        policies=["coffeeshop-order"],
        ttl="5m",
        mount_point=MOUNT,
    )
    token = apiserver.service_account_token(NAMESPACE, "gone", audiences=["vault"])
    login = KubernetesLogin(role="gone", jwt=token, mount=MOUNT)
    paths = [site_secret_path("order")]
    assert read_secrets_with(login, paths=paths, vault_addr=test_stack.openbao.url)

    with apiserver.client() as client:
        client.delete(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/gone").raise_for_status()

    # kube-apiserver keeps a token's successful review for 10 s (its token cache).
    deadline = time.monotonic() + 30
    refusal = ""
    while not refusal:
        try:
            read_secrets_with(login, paths=paths, vault_addr=test_stack.openbao.url)
        except SecretStoreError as err:
            refusal = str(err)
        else:
            assert time.monotonic() < deadline, "the deleted ServiceAccount's token still logs in"
            time.sleep(1)
    assert refusal.startswith("Kubernetes login (role 'gone'")
    assert "refused" in refusal
