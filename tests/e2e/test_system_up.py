"""The whole system started the way a user starts it: `manage_all.py up --detach`.

Runs on free ports in a temporary state folder, so it never touches a running `up`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devstack.base import REPO_ROOT, free_port
from devstack.stack import DEFAULT_PORTS, SITES, WORKERS, Stack, StackConfig, port_setting
from tests.e2e.conftest import _run


def test_status_json_reports_every_part_healthy(system: dict) -> None:
    result = _run(["status", "--json"], system["env"])
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["healthy"] is True
    names = {part["name"] for part in report["parts"]}
    infrastructure = set(DEFAULT_PORTS) - set(SITES) - {"kafka_controller", "dapr", "metrics"}
    stack = Stack(StackConfig.load(system["state"]))  # type: ignore[arg-type]
    mesh = set(stack.mesh.sidecars) | {stack.mesh.sentry.name} if stack.mesh else set()
    assert names == infrastructure | set(SITES) | set(WORKERS) | mesh
    assert all(part["healthy"] for part in report["parts"]), report


@pytest.mark.parametrize("site", SITES)
def test_each_site_answers_healthz_readyz_and_serves_its_admin_login(
    system: dict, site: str
) -> None:
    base = f"http://127.0.0.1:{system['ports'][site]}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "site": site}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    dapr_mode = Stack(StackConfig.load(system["state"])).mesh is not None  # type: ignore[arg-type]
    assert ready.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "secret_store": "ok",
        **({"dapr": "ok"} if dapr_mode else {}),
    }
    login = httpx.get(f"{base}/admin/login/")
    assert login.status_code == 200
    assert 'name="password"' in login.text
    css = httpx.get(f"{base}/static/admin/css/base.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
    assert httpx.get(f"{base}/api/schema/").status_code == 200


def test_unknown_url_answers_problem_details(system: dict) -> None:
    response = httpx.get(f"http://127.0.0.1:{system['ports']['order']}/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_readyz_is_503_naming_the_cache_while_redis_is_down_and_200_when_it_returns(
    system: dict,
) -> None:
    stack = Stack(StackConfig.load(system["state"]))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{system['ports']['order']}/readyz"
    stack.redis.stop()
    try:
        down = httpx.get(url, timeout=15)
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["down"] == ["cache"]
    finally:
        stack.redis.start()
    deadline = time.monotonic() + 20
    while httpx.get(url, timeout=15).status_code != 200:
        assert time.monotonic() < deadline, "readyz did not recover after Redis came back"
        time.sleep(0.5)


def test_a_site_refuses_to_start_against_a_sealed_secret_store(system: dict) -> None:
    stack = Stack(StackConfig.load(system["state"]))  # type: ignore[arg-type]
    env = dict(os.environ)
    env.update(stack.site_env("identity"))
    stack.openbao.seal()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "identity_site.config.wsgi:application",
                "--preload",
                "--bind",
                f"127.0.0.1:{free_port()}",
            ],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        ready = httpx.get(f"http://127.0.0.1:{system['ports']['identity']}/readyz", timeout=15)
    finally:
        stack.openbao.unseal()
    assert result.returncode != 0
    assert "refuses to start" in result.stderr
    assert "sealed" in result.stderr
    assert ready.status_code == 503
    assert ready.json()["down"] == ["secret_store"]


def test_a_taken_port_is_named_with_its_setting_and_nothing_is_left_started(
    system: dict, tmp_path: Path
) -> None:
    env = dict(system["env"])
    env["COFFEESHOP_STATE_DIR"] = str(tmp_path / "other")
    fresh = {part: free_port() for part in DEFAULT_PORTS}
    env.update({port_setting(part): str(port) for part, port in fresh.items()})
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    env[port_setting("redis")] = str(taken)
    try:
        result = _run(["up", "--detach"], env, timeout=300)
    finally:
        blocker.close()
    assert result.returncode == 1
    assert f"port {taken}" in result.stderr
    assert "COFFEESHOP_REDIS_PORT" in result.stderr
    for part, port in fresh.items():
        if part != "redis":
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", port)) != 0, f"{part} was left running"


def test_down_then_up_keeps_data_and_warm_start_is_timed(system: dict) -> None:
    env = system["env"]
    stack = Stack(StackConfig.load(system["state"]))  # type: ignore[arg-type]
    stack.manage(
        "identity",
        "createsuperuser",
        "--noinput",
        "--email",
        "kept@coffeeshop.local",
        extra_env={"DJANGO_SUPERUSER_PASSWORD": "a-long-test-password-1"},
    )
    assert _run(["down"], env).returncode == 0
    began = time.monotonic()
    up = _run(["up", "--detach"], env)
    warm = time.monotonic() - began
    print(f"\nwarm up: {warm:.1f}s (cold was {system['cold_s']:.1f}s)")
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    out = stack.manage(
        "identity",
        "shell",
        "-v",
        "0",
        "-c",
        "from identity_site.accounts.models import User;"
        "print(User.objects.filter(email='kept@coffeeshop.local').count())",
    )
    assert out.strip() == "1"
