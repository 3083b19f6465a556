"""The chart installed and upgraded with helm into a real kube-apiserver (+ etcd) on
loopback, Dapr's CRDs first. No scheduler or kubelet runs, so no pod starts here (that
is test_pods.py), but every object is validated, defaulted and admitted by the server.

helm runs with --no-hooks: a hook Job would wait for a controller that is not there.
The hook objects (migration Jobs and their ServiceAccounts) are sent to the server
separately with dryRun=All, which validates and admits them without storing them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.deploy import schemas
from devstack.deploy.apiserver import ApiServer
from tests.deploy.conftest import run

pytestmark = pytest.mark.timeout(3600)

NAMESPACE = "coffeeshop"
# Where each kind the chart makes lives in the API (namespaced).
API_PATHS = {
    "ServiceAccount": "/api/v1",
    "Secret": "/api/v1",
    "Service": "/api/v1",
    "Job": "/apis/batch/v1",
    "Deployment": "/apis/apps/v1",
}


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("kube"))
    try:
        server.start()
        for crd in schemas.dapr_crds():
            server.apply_crd(crd)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def kubeconfig(apiserver: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return apiserver.kubeconfig(tmp_path_factory.mktemp("kubeconfig") / "config", NAMESPACE)


@pytest.fixture(scope="module")
def installed(helm: Path, kubeconfig: Path, chart_with_dapr_documents: Path) -> Path:
    result = run(
        [
            helm,
            "install",
            "coffeeshop",
            chart_with_dapr_documents,
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            NAMESPACE,
            "--create-namespace",
            "--no-hooks",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return chart_with_dapr_documents


def get(apiserver: ApiServer, path: str) -> dict[str, Any]:
    with apiserver.client() as client:
        answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def names(apiserver: ApiServer, path: str) -> list[str]:
    return sorted(item["metadata"]["name"] for item in get(apiserver, path)["items"])


def test_the_api_server_stores_every_object_of_the_release(
    apiserver: ApiServer, installed: Path
) -> None:
    deployments = names(apiserver, f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments")
    assert len(deployments) == 10
    assert "coffeeshop-bff" in deployments
    assert "coffeeshop-order-beat" in deployments
    services = names(apiserver, f"/api/v1/namespaces/{NAMESPACE}/services")
    assert services == ["coffeeshop-bff", "coffeeshop-identity", "coffeeshop-order"]
    hpas = names(apiserver, f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers")
    assert len(hpas) == 4
    assert names(apiserver, f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets")
    assert names(apiserver, f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/networkpolicies")
    assert names(apiserver, f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses") == [
        "coffeeshop-bff"
    ]
    # The Dapr documents went in as custom resources, checked against Dapr's CRDs.
    assert names(apiserver, f"/apis/dapr.io/v1alpha1/namespaces/{NAMESPACE}/components")
    assert names(apiserver, f"/apis/dapr.io/v1alpha1/namespaces/{NAMESPACE}/configurations")
    # The server defaulted what the chart left out, as a cluster would.
    bff = get(apiserver, f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/coffeeshop-bff")
    container = bff["spec"]["template"]["spec"]["containers"][0]
    assert container["terminationMessagePolicy"] == "File"


def test_the_hook_objects_are_admitted_by_the_server(
    helm: Path, kubeconfig: Path, apiserver: ApiServer, installed: Path
) -> None:
    hooks = run([helm, "get", "hooks", "coffeeshop", "--kubeconfig", kubeconfig, "-n", NAMESPACE])
    assert hooks.returncode == 0, hooks.stderr
    objects = [doc for doc in yaml.safe_load_all(hooks.stdout) if doc]
    assert sorted(o["kind"] for o in objects) == ["Job"] * 3 + ["ServiceAccount"] * 3
    with apiserver.client() as client:
        for obj in sorted(objects, key=lambda o: o["kind"] != "ServiceAccount"):
            kind = obj["kind"]
            path = f"{API_PATHS[kind]}/namespaces/{NAMESPACE}/{kind.lower()}s"
            answer = client.post(path, params={"dryRun": "All"}, json=obj)
            assert answer.status_code == 201, answer.text


def test_an_upgrade_changes_the_release_and_keeps_the_dapr_tokens(
    helm: Path, kubeconfig: Path, apiserver: ApiServer, installed: Path
) -> None:
    secret = f"/api/v1/namespaces/{NAMESPACE}/secrets/coffeeshop-dapr-app-token"
    token_before = get(apiserver, secret)["data"]["token"]
    result = run(
        [
            helm,
            "upgrade",
            "coffeeshop",
            installed,
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            NAMESPACE,
            "--no-hooks",
            "--reuse-values",
            "--set",
            "sites.order.autoscaling.enabled=false",
            "--set",
            "sites.order.replicas=3",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    order = get(apiserver, f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/coffeeshop-order")
    assert order["spec"]["replicas"] == 3
    hpas = names(apiserver, f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers")
    assert "coffeeshop-order" not in hpas
    # helm's `lookup` read the live Secret, so the token did not change.
    assert get(apiserver, secret)["data"]["token"] == token_before
    assert len(base64.b64decode(token_before)) == 48


def test_a_broken_manifest_is_refused_by_the_server(
    helm: Path, kubeconfig: Path, apiserver: ApiServer, installed: Path
) -> None:
    path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/coffeeshop-identity"
    before = get(apiserver, path)["spec"]["template"]["spec"]["containers"][0]["resources"]
    # The values schema lets any string through as a quantity; the server does not.
    result = run(
        [
            helm,
            "upgrade",
            "coffeeshop",
            installed,
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            NAMESPACE,
            "--no-hooks",
            "--reuse-values",
            "--set",
            "sites.identity.resources.requests.cpu=lots",
        ]
    )
    assert result.returncode != 0
    assert "quantities must match the regular expression" in result.stderr
    after = get(apiserver, path)["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert after == before
