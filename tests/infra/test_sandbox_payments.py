"""The sandbox payment provider (`python -m sandbox.payments`), as a real server process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.base import HOST, REPO_ROOT, free_port, stop_pid, wait_until

KEY = "sk_test_sandbox-tests"


class SandboxProcess:
    """One sandbox server on a free port, restartable on the same journal."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.key_file = root / "key"
        self.key_file.write_text(KEY)
        self.key_file.chmod(0o600)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = root / "sandbox.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sandbox.payments",
                    "--port",
                    str(self.port),
                    "--data",
                    str(self.data),
                    "--key-file",
                    str(self.key_file),
                ],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            "sandbox", lambda: httpx.get(f"{self.url}/healthz").status_code == 200, timeout=20
        )

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc.pid, timeout=10)
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self, key: str = KEY) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with sandbox.client() as client:
        yield client


def intent_body(card: str = "4242424242424242", amount: int = 450, **extra: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "eur",
        "payment_method": card,
        "metadata": {"order_id": "7"},
        **extra,
    }


def charges(api: httpx.Client, **query: str) -> list[dict[str, Any]]:
    response = api.get("/v1/charges", params=query)
    assert response.status_code == 200
    return list(response.json()["data"])


def test_health_answers_without_a_key(sandbox: SandboxProcess) -> None:
    response = httpx.get(f"{sandbox.url}/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer sk_test_wrong", f"Basic {KEY}"])
def test_api_refuses_a_missing_or_wrong_key_and_charges_nothing(
    sandbox: SandboxProcess, api: httpx.Client, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    response = httpx.post(
        f"{sandbox.url}/v1/payment_intents", json=intent_body(), headers=headers, timeout=10
    )

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["code"] == "api_key_invalid"
    assert charges(api) == []


def test_test_card_4242_is_charged(api: httpx.Client) -> None:
    response = api.post("/v1/payment_intents", json=intent_body())

    assert response.status_code == 200
    intent = response.json()
    assert intent["id"].startswith("pi_")
    assert intent["object"] == "payment_intent"
    assert intent["status"] == "succeeded"
    assert (intent["amount"], intent["amount_received"], intent["currency"]) == (450, 450, "eur")
    assert intent["metadata"] == {"order_id": "7"}
    assert api.get(f"/v1/payment_intents/{intent['id']}").json() == intent
    [charge] = charges(api)
    assert (charge["status"], charge["amount"], charge["payment_intent"]) == (
        "succeeded",
        450,
        intent["id"],
    )
    assert charge["card_last4"] == "4242"


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("4000000000000002", "generic_decline"),
        ("pm_card_chargeDeclined", "generic_decline"),
        ("4000000000009995", "insufficient_funds"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_declining_test_cards_answer_402_card_declined(
    api: httpx.Client, card: str, decline_code: str
) -> None:
    response = api.post("/v1/payment_intents", json=intent_body(card))

    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        decline_code,
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_intent"]["amount_received"] == 0
    assert [c["status"] for c in charges(api)] == ["failed"]
    assert charges(api, status="succeeded") == []


def test_processing_error_card_answers_500_and_stores_nothing(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "order-1-charge"}

    first = api.post("/v1/payment_intents", json=intent_body("4000000000000119"), headers=headers)
    second = api.post("/v1/payment_intents", json=intent_body("4000000000000119"), headers=headers)

    assert first.status_code == second.status_code == 500
    assert first.json()["error"]["type"] == "api_error"
    assert first.json()["error"]["code"] == "processing_error"
    assert "Idempotent-Replayed" not in second.headers
    assert charges(api) == []
    assert api.get("/v1/payment_intents").json()["data"] == []


def test_same_idempotency_key_and_body_replays_the_answer_and_charges_once(
    api: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "order-7-charge"}

    first = api.post("/v1/payment_intents", json=intent_body(), headers=headers)
    second = api.post("/v1/payment_intents", json=intent_body(), headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(charges(api, status="succeeded")) == 1


def test_a_replayed_decline_stays_a_decline_without_a_second_attempt(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "order-8-charge"}
    body = intent_body("4000000000009995")

    first = api.post("/v1/payment_intents", json=body, headers=headers)
    second = api.post("/v1/payment_intents", json=body, headers=headers)

    assert first.status_code == second.status_code == 402
    assert second.json() == first.json()
    assert len(charges(api)) == 1


def test_same_idempotency_key_with_another_body_is_refused_and_changes_nothing(
    api: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "order-7-charge"}
    first = api.post("/v1/payment_intents", json=intent_body(amount=450), headers=headers)

    response = api.post("/v1/payment_intents", json=intent_body(amount=999), headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"
    [charge] = charges(api)
    assert (charge["amount"], charge["payment_intent"]) == (450, first.json()["id"])


def test_a_request_failing_validation_does_not_burn_its_idempotency_key(
    api: httpx.Client,
) -> None:
    headers = {"Idempotency-Key": "order-9-charge"}

    bad = api.post("/v1/payment_intents", json=intent_body(amount=0), headers=headers)
    good = api.post("/v1/payment_intents", json=intent_body(), headers=headers)

    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_invalid_integer",
        "message": "amount must be a positive integer",
        "param": "amount",
    }
    assert good.status_code == 200
    assert len(charges(api)) == 1


def test_concurrent_requests_with_one_key_charge_once(
    sandbox: SandboxProcess, api: httpx.Client
) -> None:
    assert api.post("/sandbox/config", json={"latency_ms": 300}).status_code == 200

    def attempt(_: int) -> httpx.Response:
        with sandbox.client() as client:
            return client.post(
                "/v1/payment_intents",
                json=intent_body(),
                headers={"Idempotency-Key": "order-7-charge"},
            )

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(attempt, range(6)))

    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 5
    assert len(charges(api)) == 1


def test_refund_of_a_charge_then_a_second_refund_is_refused(api: httpx.Client) -> None:
    intent = api.post("/v1/payment_intents", json=intent_body()).json()

    refund = api.post(
        "/v1/refunds",
        json={"payment_intent": intent["id"]},
        headers={"Idempotency-Key": "order-7-refund"},
    )
    replay = api.post(
        "/v1/refunds",
        json={"payment_intent": intent["id"]},
        headers={"Idempotency-Key": "order-7-refund"},
    )
    again = api.post("/v1/refunds", json={"payment_intent": intent["id"]})

    assert refund.status_code == 200
    assert refund.json()["id"].startswith("re_")
    assert (refund.json()["amount"], refund.json()["status"]) == (450, "succeeded")
    assert replay.json() == refund.json()
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "charge_already_refunded"
    assert api.get("/v1/refunds", params={"payment_intent": intent["id"]}).json()["data"] == [
        refund.json()
    ]
    [charge] = charges(api)
    assert (charge["amount_refunded"], charge["refunded"]) == (450, True)


def test_refund_larger_than_the_charge_is_refused_and_refunds_nothing(api: httpx.Client) -> None:
    intent = api.post("/v1/payment_intents", json=intent_body()).json()

    response = api.post("/v1/refunds", json={"payment_intent": intent["id"], "amount": 451})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_too_large"
    assert api.get("/v1/refunds").json()["data"] == []
    assert charges(api)[0]["amount_refunded"] == 0


def test_refund_of_an_unknown_intent_is_404(api: httpx.Client) -> None:
    response = api.post("/v1/refunds", json={"payment_intent": "pi_000"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_fail_next_knob_answers_500_that_many_times_then_works(api: httpx.Client) -> None:
    api.post("/sandbox/config", json={"fail_next": 2})
    headers = {"Idempotency-Key": "order-7-charge"}

    answers = [
        api.post("/v1/payment_intents", json=intent_body(), headers=headers) for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [500, 500, 200]
    assert answers[0].json()["error"]["type"] == "api_error"
    assert api.get("/sandbox/stats").json() == {"requests": 3, "writes": 3, "injected_failures": 2}
    assert len(charges(api)) == 1


def test_failure_rate_one_fails_every_call(api: httpx.Client) -> None:
    api.post("/sandbox/config", json={"failure_rate": 1.0})

    answers = [api.post("/v1/payment_intents", json=intent_body()) for _ in range(3)]

    assert [a.status_code for a in answers] == [500, 500, 500]
    assert charges(api) == []
    assert api.get("/v1/payment_intents").status_code == 200


def test_invalid_knob_is_refused_and_config_is_unchanged(api: httpx.Client) -> None:
    response = api.post("/sandbox/config", json={"failure_rate": 2})

    assert response.status_code == 400
    assert api.get("/sandbox/config").json() == {
        "latency_ms": 0,
        "failure_rate": 0.0,
        "fail_next": 0,
    }


def test_intents_refunds_and_idempotency_keys_survive_a_restart(
    sandbox: SandboxProcess,
) -> None:
    with sandbox.client() as api:
        intent = api.post(
            "/v1/payment_intents",
            json=intent_body(),
            headers={"Idempotency-Key": "order-7-charge"},
        ).json()
        refund = api.post("/v1/refunds", json={"payment_intent": intent["id"], "amount": 50})
    sandbox.stop()
    sandbox.start()

    with sandbox.client() as api:
        replay = api.post(
            "/v1/payment_intents",
            json=intent_body(),
            headers={"Idempotency-Key": "order-7-charge"},
        )
        assert api.get(f"/v1/payment_intents/{intent['id']}").json() == intent
        assert api.get(f"/v1/refunds/{refund.json()['id']}").json() == refund.json()
        assert replay.json() == intent
        assert replay.headers["Idempotent-Replayed"] == "true"
        [charge] = charges(api)
        assert charge["amount_refunded"] == 50


def test_a_torn_last_journal_line_is_skipped_at_start(sandbox: SandboxProcess) -> None:
    with sandbox.client() as api:
        intent = api.post("/v1/payment_intents", json=intent_body()).json()
    sandbox.stop()
    with (sandbox.data / "journal.jsonl").open("a") as journal:
        journal.write('{"payment_intent": [{"id": "pi_tor')
    sandbox.start()

    with sandbox.client() as api:
        after = api.post("/v1/payment_intents", json=intent_body()).json()
    sandbox.stop()
    sandbox.start()

    with sandbox.client() as api:
        listed = [i["id"] for i in api.get("/v1/payment_intents").json()["data"]]
    assert sorted(listed) == sorted([intent["id"], after["id"]])
