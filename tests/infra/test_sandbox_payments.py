"""The sandbox payment provider (`python -m sandbox.payments`), as a real server process."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import sandbox.payments as payments_package
from devstack.base import HOST, REPO_ROOT, free_port, stop_pid, wait_until
from sandbox.payments.routes import ROUTES

KEY = "sk_test_sandbox-tests"
PUBLISHABLE = "pk_test_sandbox-tests"
ORIGIN = "http://127.0.0.1:18000"


class SandboxProcess:
    """One sandbox server on a free port, restartable on the same journal."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.key_file = root / "key"
        self.key_file.write_text(KEY)
        self.key_file.chmod(0o600)
        self.publishable_file = root / "publishable"
        self.publishable_file.write_text(PUBLISHABLE)
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
                    "--publishable-key-file",
                    str(self.publishable_file),
                    "--allowed-origin",
                    ORIGIN,
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


def intent_body(card: str = "pm_card_visa", amount: int = 450, **extra: Any) -> dict[str, Any]:
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
    assert charge["payment_method_details"] == {
        "type": "card",
        "card": {"brand": "visa", "last4": "4242"},
    }
    assert intent["payment_method_details"] == charge["payment_method_details"]


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
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

    first = api.post(
        "/v1/payment_intents",
        json=intent_body("pm_card_chargeDeclinedProcessingError"),
        headers=headers,
    )
    second = api.post(
        "/v1/payment_intents",
        json=intent_body("pm_card_chargeDeclinedProcessingError"),
        headers=headers,
    )

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
    body = intent_body("pm_card_chargeDeclinedInsufficientFunds")

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


# ---- tokenization (issue 10: card data) ----------------------------------------------------


def card(number: str = "4242424242424242", **fields: Any) -> dict[str, Any]:
    return {
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123", **fields},
    }


def test_a_test_card_is_tokenized_with_the_publishable_key_into_brand_and_last_four(
    sandbox: SandboxProcess,
) -> None:
    with sandbox.client(PUBLISHABLE) as browser:
        response = browser.post("/v1/payment_methods", json=card("4242 4242 4242 4242"))

    assert response.status_code == 200
    method = response.json()
    assert method["id"].startswith("pm_")
    assert (method["object"], method["type"]) == ("payment_method", "card")
    assert method["card"] == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2040}
    assert "4242424242424242" not in response.text
    journal = (sandbox.data / "journal.jsonl").read_text()
    assert method["id"] in journal
    assert "4242424242424242" not in journal  # the provider's own storage keeps no number


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        (card("4242424242424241"), "incorrect_number", "number"),
        (card("4242"), "incorrect_number", "number"),
        (card("4242abcd42424242"), "incorrect_number", "number"),
        (card(exp_month=13), "invalid_expiry_month", "exp_month"),
        (card(exp_month="x"), "invalid_expiry_month", "exp_month"),
        (card(exp_year=2001), "expired_card", "exp_year"),
        (card(exp_year=2999), "invalid_expiry_year", "exp_year"),
        (card(cvc="12"), "invalid_cvc", "cvc"),
        (card(cvc="12345"), "invalid_cvc", "cvc"),
        (card(cvc=123), "invalid_cvc", "cvc"),
        (card("378282246310005", cvc="123"), "invalid_cvc", "cvc"),  # Amex: 4 digits
        (card("4111111111111111"), "card_declined", "number"),  # not a test card
    ],
)
def test_a_bad_card_is_402_naming_the_field_without_repeating_the_number(
    sandbox: SandboxProcess, api: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    with sandbox.client(PUBLISHABLE) as browser:
        response = browser.post("/v1/payment_methods", json=body)

    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("card_error", code, param)
    assert body["card"]["number"].replace(" ", "") not in response.text
    assert api.get("/v1/payment_intents").json()["data"] == []


def test_a_card_that_expired_last_month_is_refused(sandbox: SandboxProcess) -> None:
    import time

    today = time.gmtime()
    month, year = (
        (12, today.tm_year - 1) if today.tm_mon == 1 else (today.tm_mon - 1, today.tm_year)
    )
    with sandbox.client(PUBLISHABLE) as browser:
        response = browser.post("/v1/payment_methods", json=card(exp_month=month, exp_year=year))

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "expired_card"


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("4242424242424242", 200),
        ("5555555555554444", 200),
        ("4000000000000002", 402),
        ("4000000000009995", 402),
        ("4000000000000119", 500),
    ],
)
def test_a_token_pays_as_its_test_card_does(
    sandbox: SandboxProcess, api: httpx.Client, number: str, outcome: int
) -> None:
    with sandbox.client(PUBLISHABLE) as browser:
        token = browser.post("/v1/payment_methods", json=card(number)).json()["id"]

    response = api.post("/v1/payment_intents", json=intent_body(token))

    assert response.status_code == outcome
    if outcome != 500:
        intent = response.json() if outcome == 200 else response.json()["error"]["payment_intent"]
        assert intent["payment_method_details"]["card"]["last4"] == number[-4:]


def test_a_token_pays_once_a_replay_of_that_request_still_answers(
    sandbox: SandboxProcess, api: httpx.Client
) -> None:
    with sandbox.client(PUBLISHABLE) as browser:
        token = browser.post("/v1/payment_methods", json=card()).json()["id"]
    key = {"Idempotency-Key": "order-31-charge"}

    first = api.post("/v1/payment_intents", json=intent_body(token), headers=key)
    replay = api.post("/v1/payment_intents", json=intent_body(token), headers=key)
    other = api.post(
        "/v1/payment_intents",
        json=intent_body(token, metadata={"order_id": "32"}),
        headers={"Idempotency-Key": "order-32-charge"},
    )

    assert (first.status_code, replay.status_code, other.status_code) == (200, 200, 400)
    assert replay.json() == first.json()
    assert other.json()["error"]["code"] == "payment_method_unexpected_state"
    assert len(charges(api, status="succeeded")) == 1


def test_a_card_number_as_payment_method_is_refused_without_repeating_it(
    api: httpx.Client,
) -> None:
    response = api.post("/v1/payment_intents", json=intent_body("4242424242424242"))

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "payment_method"
    assert "4242424242424242" not in response.text
    assert charges(api) == []


def test_the_publishable_key_can_only_tokenize(sandbox: SandboxProcess) -> None:
    with sandbox.client(PUBLISHABLE) as browser:
        charge = browser.post("/v1/payment_intents", json=intent_body())
        listing = browser.get("/v1/charges")

    assert (charge.status_code, listing.status_code) == (403, 403)
    assert charge.json()["error"]["code"] == "secret_key_required"


def test_cors_lets_only_the_allowed_origin_tokenize(sandbox: SandboxProcess) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = httpx.options(
        f"{sandbox.url}/v1/payment_methods", headers={"Origin": ORIGIN, **preflight}
    )
    other = httpx.options(
        f"{sandbox.url}/v1/payment_methods",
        headers={"Origin": "https://evil.example", **preflight},
    )
    intents = httpx.options(
        f"{sandbox.url}/v1/payment_intents", headers={"Origin": ORIGIN, **preflight}
    )
    with sandbox.client(PUBLISHABLE) as browser:
        post = browser.post("/v1/payment_methods", json=card(), headers={"Origin": ORIGIN})
        refused = browser.post(
            "/v1/payment_methods", json=card(cvc="1"), headers={"Origin": ORIGIN}
        )

    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert (other.status_code, intents.status_code) == (403, 403)
    assert "Access-Control-Allow-Origin" not in other.headers
    assert post.headers["Access-Control-Allow-Origin"] == ORIGIN
    # The browser may read the refusal too, so the page can show it beside the field.
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_url_without_a_route_is_a_404_naming_it_and_counts_only_under_v1(
    sandbox: SandboxProcess, api: httpx.Client
) -> None:
    before = api.get("/sandbox/stats").json()

    answers = {
        ("GET", "/v1/nothing"): api.get("/v1/nothing"),
        ("POST", "/v1/nothing"): api.post("/v1/nothing", json={}),
        ("GET", "/v1/payment_methods"): api.get("/v1/payment_methods"),
        ("GET", "/v1/payment_intents/pi_missing"): api.get("/v1/payment_intents/pi_missing"),
        ("GET", "/v1/refunds/re_missing/"): api.get("/v1/refunds/re_missing/"),
        ("POST", "/sandbox/stats"): api.post("/sandbox/stats", json={}),
        ("POST", "/healthz"): api.post("/healthz", json={}),
    }
    anonymous = httpx.get(f"{sandbox.url}/nothing")
    after = api.get("/sandbox/stats").json()

    assert {call: (r.status_code, r.json()["error"]["message"]) for call, r in answers.items()} == {
        ("GET", "/v1/nothing"): (404, "Unrecognized URL: /v1/nothing"),
        ("POST", "/v1/nothing"): (404, "Unrecognized URL: POST /v1/nothing"),
        ("GET", "/v1/payment_methods"): (404, "Unrecognized URL: /v1/payment_methods"),
        ("GET", "/v1/payment_intents/pi_missing"): (404, "No such payment_intent: 'pi_missing'"),
        ("GET", "/v1/refunds/re_missing/"): (404, "No such refund: 're_missing'"),
        ("POST", "/sandbox/stats"): (404, "Unrecognized URL: /sandbox/stats"),
        ("POST", "/healthz"): (404, "Unrecognized URL: /healthz"),
    }
    # The key is checked before the URL: without one, nothing is told about routes.
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "api_key_invalid")
    # The five /v1 calls count as API calls (the POST as a write); the others do not.
    assert (after["requests"] - before["requests"], after["writes"] - before["writes"]) == (5, 1)
    assert charges(api) == []


def test_the_route_table_is_the_api_the_package_documents() -> None:
    # `GET|POST /sandbox/config`, `GET /v1/refunds[/<id>]`, `GET /v1/charges?…`
    documented = set()
    for methods, path, with_id in re.findall(
        r"`((?:GET|POST)(?:\|(?:GET|POST))?) (/[a-z0-9_/<>]*)(\[/<id>\])?",
        payments_package.__doc__ or "",
    ):
        for method in methods.split("|"):
            documented.add((method, path.replace("<id>", "{id}")))
            if with_id:
                documented.add((method, path + "/{id}"))

    assert {(route.method, route.path) for route in ROUTES} == documented
