"""The rendered pods boot: `podman kube play` of the chart's migration Jobs and site
Deployments (as the Pods a controller would make, devstack/deploy/pods.py) on the
images `manage_all.py images` builds, against this run's PostgreSQL, Redis, Kafka and
OpenBao. Each site answers /readyz with 200 from inside its container, and the BFF
serves the menu it gets from Order's pod.

Every pod started here is removed again, also when a test fails: runc's containers
leave the test's cgroup, so nothing else would stop them.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.base import free_port
from devstack.deploy import images, pods
from devstack.deploy.podman import podman
from devstack.stack import Stack
from tests.deploy.conftest import CHART, by_kind, run

pytestmark = pytest.mark.timeout(3600)

SITES = ("identity", "order", "bff")
POD_PREFIX = "coffeeshop-test-"


@pytest.fixture(scope="module")
def image_tag() -> str:
    """The site images, built (or found in podman's cache) for this revision."""
    built = images.build_images(("identity", "order", "bff"))
    return built[0].ref.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def daprd_image() -> str:
    return images.build_daprd_image()


@pytest.fixture(scope="module")
def site_ports() -> dict[str, int]:
    return {site: free_port() for site in SITES}


@pytest.fixture(scope="module")
def sidecar_ports() -> dict[str, dict[str, int]]:
    return {
        site: {k: free_port() for k in ("http", "grpc", "internal", "metrics")} for site in SITES
    }


@pytest.fixture(scope="module")
def rendered(
    helm: Path,
    test_stack: Stack,
    image_tag: str,
    site_ports: dict[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> list[dict[str, Any]]:
    values = tmp_path_factory.mktemp("values") / "local.yaml"
    values.write_text(
        yaml.safe_dump(pods.local_values(test_stack, tag=image_tag, ports=site_ports))
    )
    result = run([helm, "template", "coffeeshop", CHART, "--values", values])
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("pods")
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def play(pod: dict[str, Any], folder: Path) -> None:
    name = pod["metadata"]["name"]
    podman("pod", "rm", "--force", "--ignore", name, check=False)
    path = pods.write_pod(pod, folder / f"{name}.yaml")
    podman("kube", "play", "--network", "host", str(path), timeout=600)


def remove(names: list[str]) -> None:
    for name in names:
        podman("pod", "rm", "--force", "--ignore", "--time", "5", name, check=False)


def container_logs(container: str) -> str:
    return podman("logs", "--tail", "40", container, check=False).stdout[-4000:]


def wait_exited(container: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = podman(
            "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container, check=False
        ).stdout.split()
        if state and state[0] in ("exited", "stopped"):
            return int(state[1])
        time.sleep(1)
    raise AssertionError(
        f"{container} still running after {timeout:.0f}s:\n{container_logs(container)}"
    )


def exec_python(container: str, code: str) -> str:
    return podman("exec", container, "python3", "-c", code, timeout=120).stdout


READYZ = """
import json, sys, urllib.request, urllib.error
headers = {{'Host': 'localhost', **{headers!r}}}
request = urllib.request.Request('http://127.0.0.1:{port}{path}', headers=headers)
try:
    with urllib.request.urlopen(request, timeout=10) as answer:
        print(json.dumps([answer.status, answer.read().decode()]))
except urllib.error.HTTPError as err:
    print(json.dumps([err.code, err.read().decode()]))
except OSError as err:
    print(json.dumps([0, str(err)]))
"""


def http_inside(
    container: str, port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    code = READYZ.format(port=port, path=path, headers=headers or {})
    status, body = json.loads(exec_python(container, code))
    return int(status), str(body)


@pytest.fixture(scope="module")
def site_pods(
    rendered: list[dict[str, Any]],
    test_stack: Stack,
    site_ports: dict[str, int],
    sidecar_ports: dict[str, dict[str, int]],
    daprd_image: str,
    workdir: Path,
) -> Iterator[dict[str, str]]:
    """Migrations first (the hook Jobs' pods, to completion), then the three sites, each
    with a daprd sidecar, each ready on /readyz. Yields {site: app container name}."""
    approle = pods.approle_files(test_stack, workdir / "approle")
    dapr = pods.dapr_folder(workdir / "dapr")
    jobs = by_kind(rendered, "Job")
    deployments = by_kind(rendered, "Deployment")
    started: list[str] = []
    try:
        for site in SITES:
            name = f"{POD_PREFIX}{site}-migrate"
            started.append(name)
            play(
                pods.pod_from(
                    jobs[f"coffeeshop-{site}-migrate"],
                    name=name,
                    folder=workdir / name,
                    approle=approle,
                ),
                workdir,
            )
        for site in SITES:
            container = f"{POD_PREFIX}{site}-migrate-migrate"
            code = wait_exited(container, 600)
            assert code == 0, container_logs(container)
        containers = {}
        for site in SITES:
            name = f"{POD_PREFIX}{site}"
            started.append(name)
            pod = pods.pod_from(
                deployments[f"coffeeshop-{site}"], name=name, folder=workdir / name, approle=approle
            )
            pods.add_sidecar(
                pod,
                image=daprd_image,
                app_id=site,
                app_port=site_ports[site],
                ports=sidecar_ports[site],
                folder=dapr,
            )
            play(pod, workdir)
            containers[site] = f"{name}-{site}"
        deadline = time.monotonic() + 300
        for site, container in containers.items():
            while True:
                status, body = http_inside(container, site_ports[site], "/readyz")
                if status == 200:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{site}: /readyz {status} {body[:500]}\n{container_logs(container)}"
                    )
                time.sleep(2)
        yield containers
    finally:
        remove(started)


def test_each_site_pod_answers_readyz_from_inside_its_container(
    site_pods: dict[str, str], site_ports: dict[str, int]
) -> None:
    for site, container in site_pods.items():
        status, body = http_inside(container, site_ports[site], "/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"


def test_the_containers_run_as_the_images_user_on_a_read_only_root(
    site_pods: dict[str, str],
) -> None:
    for container in site_pods.values():
        out = exec_python(
            container,
            "import os\n"
            "try:\n open('/app/probe', 'w')\nexcept OSError as e:\n print(os.getuid(), e.errno)",
        )
        assert out.split() == ["10001", "30"]  # EROFS


def test_the_bff_pod_serves_the_menu_from_the_order_pod(
    site_pods: dict[str, str], site_ports: dict[str, int]
) -> None:
    podman("exec", site_pods["order"], "python3", "order_site/manage.py", "seed_menu", timeout=300)
    status, body = http_inside(site_pods["bff"], site_ports["bff"], "/api/menu")
    assert status == 200, body
    menu = json.loads(body)
    assert menu["categories"], menu


def test_each_sidecar_is_healthy_and_the_bff_reaches_order_through_the_sidecars(
    site_pods: dict[str, str], sidecar_ports: dict[str, dict[str, int]]
) -> None:
    for site, container in site_pods.items():
        deadline = time.monotonic() + 120
        while True:
            status, body = http_inside(container, sidecar_ports[site]["http"], "/v1.0/healthz")
            if status == 204 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert status == 204, f"{site}'s sidecar: {status} {body[:300]}"
    # Dapr service invocation as shared/mesh.py makes it (the `dapr-app-id` header):
    # BFF's sidecar -> Order's sidecar (found in the shared SQLite resolver) -> Order's app.
    # A path without a trailing slash: daprd drops it, and Django would redirect.
    status, body = http_inside(
        site_pods["bff"], sidecar_ports["bff"]["http"], "/healthz", {"dapr-app-id": "order"}
    )
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "site": "order"}


# What each site's image carries beyond the layer all three share (docker/requirements.in's
# roles, docker/venv_layers.py): some of each site's own, none of another's.
IMAGE_PACKAGES = {
    "identity": ({"celery", "django-oauth-toolkit"}, {"uvicorn", "uvloop"}),
    "order": ({"celery", "kombu"}, {"django-oauth-toolkit", "uvicorn", "uvloop"}),
    "bff": ({"uvicorn", "uvloop", "httptools"}, {"celery", "kombu", "django-oauth-toolkit"}),
}


def test_each_image_carries_its_sites_packages_and_no_build_tools(
    site_pods: dict[str, str],
) -> None:
    code = (
        "import importlib.metadata as m, json, shutil\n"
        "print(json.dumps([sorted(d.metadata['Name'].lower() for d in m.distributions()),\n"
        "    [t for t in ('strip', 'ld', 'gcc', 'cc', 'pip') if shutil.which(t)]]))"
    )
    for site, container in site_pods.items():
        names, tools = json.loads(exec_python(container, code))
        carried, left_out = IMAGE_PACKAGES[site]
        assert carried <= set(names), site
        assert left_out.isdisjoint(names), site
        assert tools == [], site


def test_every_workers_command_loads_in_its_sites_image(
    site_pods: dict[str, str], rendered: list[dict[str, Any]]
) -> None:
    """The workers (Celery, relays, consumers, live updates) are not started here, but
    each one's command, with its settings and secrets, loads its code in the site's
    container far enough to answer --help: nothing it imports is missing from the image."""
    workers = {
        name: deployment
        for name, deployment in by_kind(rendered, "Deployment").items()
        if name.removeprefix("coffeeshop-") not in SITES
    }
    assert len(workers) == 7
    for name, deployment in workers.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        settings = next(
            e["value"] for e in container["env"] if e["name"] == "DJANGO_SETTINGS_MODULE"
        )
        site = settings.split("_site.", 1)[0]
        result = podman(
            "exec", site_pods[site], *container["args"], "--help", check=False, timeout=180
        )
        assert result.returncode == 0, f"{name}: {result.stdout[-1500:]}{result.stderr[-1500:]}"
        assert "usage" in result.stdout.lower(), f"{name}: {result.stdout[-500:]}"
