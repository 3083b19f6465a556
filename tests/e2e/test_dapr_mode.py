"""Dapr mode on the real daprd (`manage_all.py test` runs the end-to-end suite with
COFFEESHOP_MESH=dapr as its second pass; in the direct pass these are skipped).

Calls are seen in the sidecars' own metrics, not assumed; secrets are read through the
Vault component with each app's own token; the apps' ports refuse callers that did not
come through a sidecar.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import httpx
import pytest

from bench.order import mint_token
from devstack.cli import demo_password
from devstack.mesh import Sidecar
from devstack.stack import Stack
from shared.http import DownstreamUnavailable, ServiceClient
from tests.e2e.backlog import order_route
from tests.e2e.browserless import browser_client, sign_in

SENT = "dapr_runtime_service_invocation_req_sent_total"


@pytest.fixture(scope="module")
def dapr(system_stack: Stack) -> Stack:
    if system_stack.mesh is None:
        # Asked for and not there is a failure; a plain direct-mode run (by hand) skips.
        # `manage_all.py test` leaves this file out of its direct-mode pass.
        assert os.environ.get("COFFEESHOP_MESH", "direct") != "dapr", "Dapr mode was not started"
        pytest.skip("the system runs in direct mode (COFFEESHOP_MESH=dapr runs these)")
    return system_stack


def _sidecar(stack: Stack, part: str) -> Sidecar:
    assert stack.mesh is not None
    return stack.mesh.sidecars[part]


def _sent(sidecar: Sidecar, destination: str) -> float:
    """Calls this sidecar has sent to app `destination` (Dapr's invocation metric)."""
    text = httpx.get(sidecar.metrics_url, timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(SENT + "{") and f'dst_app_id="{destination}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _api_headers(sidecar: Sidecar) -> dict[str, str]:
    return {"dapr-api-token": sidecar.token_file("api").read_text().strip()}


def test_bff_to_order_and_order_to_identity_travel_through_the_sidecars(
    dapr: Stack, system: dict[str, Any]
) -> None:
    bff_sidecar, order_sidecar = _sidecar(dapr, "bff-dapr"), _sidecar(dapr, "order-dapr")
    to_identity, to_order = _sent(bff_sidecar, "identity"), _sent(bff_sidecar, "order")
    client = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")

    # The BFF exchanges the sign-in code at Identity, then asks Order for the orders.
    signed_in = sign_in(client, email="customer@coffeeshop.local", password=demo_password(dapr))
    orders = client.get("/api/orders")

    assert signed_in.status_code == 200, signed_in.text[:300]
    assert orders.status_code == 200, orders.text[:300]
    assert _sent(bff_sidecar, "identity") > to_identity
    assert _sent(bff_sidecar, "order") > to_order

    # A token Order has never seen: Order must introspect it at Identity.
    introspected = _sent(order_sidecar, "identity")
    url, headers = order_route(dapr)
    fresh = httpx.get(
        f"{url}/api/orders/",
        headers={
            **headers,
            "Authorization": f"Bearer {mint_token(dapr)}",
            "X-Acting-User": "900001",
            "X-Acting-Roles": "customer",
        },
        timeout=20,
    )

    assert fresh.status_code == 200, fresh.text[:300]
    assert _sent(order_sidecar, "identity") > introspected


def test_a_site_reads_its_own_secret_through_the_vault_component_and_not_anothers(
    dapr: Stack,
) -> None:
    order = _sidecar(dapr, "order-dapr")
    headers = _api_headers(order)

    own = httpx.get(f"{order.url}/v1.0/secrets/vault/order", headers=headers, timeout=10)
    other = httpx.get(f"{order.url}/v1.0/secrets/vault/identity", headers=headers, timeout=10)
    keys = httpx.get(f"{order.url}/v1.0/secrets/vault/identity-keys", headers=headers, timeout=10)
    no_token = httpx.get(f"{order.url}/v1.0/secrets/vault/order", timeout=10)

    assert own.status_code == 200
    assert {"django_secret_key", "database_password", "payment_provider_key"} <= set(own.json())
    assert other.status_code == 500, other.text
    assert other.json()["errorCode"] == "ERR_SECRET_GET"
    assert "permission denied" in other.json()["message"]
    assert keys.status_code == 500
    assert no_token.status_code == 401


def test_an_apps_port_refuses_callers_that_did_not_come_through_a_sidecar(
    dapr: Stack, system: dict[str, Any]
) -> None:
    order = f"http://127.0.0.1:{system['ports']['order']}"
    identity = f"http://127.0.0.1:{system['ports']['identity']}"

    bare = httpx.get(f"{order}/api/menu/", timeout=10)
    forged = httpx.get(
        f"{order}/api/menu/",
        headers={"dapr-caller-app-id": "bff", "dapr-api-token": "guessed"},
        timeout=10,
    )
    introspect = httpx.post(f"{identity}/o/introspect/", data={"token": "x"}, timeout=10)
    login_page = httpx.get(f"{identity}/accounts/login/", timeout=10)
    bff = _sidecar(dapr, "bff-dapr")
    through_sidecar = httpx.get(
        f"{bff.url}/api/menu/", headers={**_api_headers(bff), "dapr-app-id": "order"}, timeout=10
    )

    assert bare.status_code == 401
    assert bare.json()["type"].endswith("mesh-unauthenticated")
    assert forged.status_code == 401
    assert introspect.status_code == 401
    assert login_page.status_code == 200  # browsers still reach Identity's own pages
    assert through_sidecar.status_code == 200


def test_a_caller_app_not_allowed_is_refused_by_the_callee(dapr: Stack) -> None:
    relay = _sidecar(dapr, "identity-relay-dapr")  # Identity's relay may not call Order

    answer = httpx.get(
        f"{relay.url}/api/menu/",
        headers={**_api_headers(relay), "dapr-app-id": "order"},
        timeout=10,
    )

    assert answer.status_code == 403
    assert answer.json()["type"].endswith("mesh-caller-refused")


def test_a_call_to_an_app_id_that_does_not_exist_is_unavailable_naming_it(
    dapr: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bff = _sidecar(dapr, "bff-dapr")
    for name, value in bff.app_env().items():
        monkeypatch.setenv(name, value)
    client = ServiceClient(
        name="stock", base_url="http://127.0.0.1:9", timeout=5, retries=0, app_id="stock"
    )

    with pytest.raises(DownstreamUnavailable) as caught:
        client.get("/api/anything")

    assert caught.value.downstream == "stock"
    assert caught.value.status_code == 500  # daprd: ERR_DIRECT_INVOKE, no such app


def test_a_dead_sidecar_shows_unhealthy_and_its_site_is_not_ready_naming_dapr(
    dapr: Stack, system: dict[str, Any]
) -> None:
    sidecar = _sidecar(dapr, "order-dapr")
    ready_url = f"http://127.0.0.1:{system['ports']['order']}/readyz"
    sidecar.process().stop(timeout=10)
    try:
        row = next(r for r in dapr.status() if r.name == "order-dapr")
        ready = httpx.get(ready_url, timeout=15)

        assert row.kind == "sidecar"
        assert not row.healthy
        assert ready.status_code == 503
        assert ready.json()["down"] == ["dapr"]
    finally:
        assert dapr.mesh is not None
        dapr.mesh.start(
            ["order-dapr"],
            daprd=_daprd(dapr),
            sentry=dapr.mesh_sentry(),
            progress=lambda part, message: None,
        )
    deadline = time.monotonic() + 30
    while httpx.get(ready_url, timeout=15).status_code != 200:
        assert time.monotonic() < deadline, "order did not become ready behind its new sidecar"
        time.sleep(0.5)


def _daprd(stack: Stack) -> Any:
    from devstack.mesh import ensure_daprd

    return ensure_daprd(lambda message: None)


def test_status_json_lists_each_sidecar_with_its_http_api(
    dapr: Stack, system: dict[str, Any]
) -> None:
    rows = [r for r in dapr.status() if r.kind == "sidecar"]

    assert {r.name for r in rows} >= {
        "bff-dapr",
        "order-dapr",
        "identity-dapr",
        "order-worker-dapr",
    }
    for row in rows:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", row.url)
        assert row.healthy, row.name
        assert row.memory_mib > 10


def test_every_sidecar_holds_a_workload_certificate_from_sentry(dapr: Stack) -> None:
    assert dapr.mesh is not None
    sentry = dapr.mesh_sentry()
    if sentry is None:
        assert os.environ.get("COFFEESHOP_DAPR_MTLS", "1") == "0", "mTLS is on but no Sentry runs"
        pytest.skip("mTLS is off (COFFEESHOP_DAPR_MTLS=0)")
    metrics = httpx.get(f"http://127.0.0.1:{sentry.metrics_port}/metrics", timeout=5).text
    signed = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("dapr_sentry_cert_sign_success_total")
    )

    assert signed >= len(dapr.mesh.sidecars)
    for sidecar in dapr.mesh.sidecars.values():
        log = sidecar.process().logfile.read_text()
        assert "Starting workload identity expiry watcher" in log, sidecar.name
