"""The controller driven as a user would, against a fake BFF and a fake browser."""

from __future__ import annotations

import asyncio
import json

from coffeeshop_client.api import ApiClient
from coffeeshop_client.app import CART_OWNER_KEY, CART_STORAGE_KEY, App
from coffeeshop_client.cart import CART_COOKIE, Cart

from tests.wasm_client.fakes import MENU, FakeBff, FakePlatform, order_json, queue_json

GOOD_CARD = {"card": "4242424242424242", "expiry": "12/40", "cvc": "123"}


def make(fragment: str = "", **bff_kwargs) -> tuple[App, FakeBff, FakePlatform]:
    bff = FakeBff(**bff_kwargs)
    platform = FakePlatform(fragment)
    return App(ApiClient(bff), platform), bff, platform


def test_start_shows_the_menu_and_goes_live_for_a_signed_in_customer():
    app, _bff, platform = make()

    async def scenario():
        await app.start()

    asyncio.run(scenario())

    assert 'data-testid="menu-item"' in platform.view_html
    assert "Casey" in platform.nav_html
    assert [s.url for s in platform.streams] == ["/api/events"]
    assert app.state.live_mode == "stream"


def test_start_when_order_is_down_shows_which_service_and_a_retry():
    app, bff, platform = make()
    bff.on("GET", "/api/menu", (503, {"title": "Unavailable", "status": 503, "service": "order"}))

    asyncio.run(app.start())

    assert 'data-testid="error-banner"' in platform.view_html
    assert "The ordering service is unavailable" in platform.view_html
    assert 'data-testid="error-retry"' in platform.view_html

    bff.on("GET", "/api/menu", (200, MENU))
    asyncio.run(app.dispatch("retry", {}))

    assert 'data-testid="error-banner"' not in platform.view_html
    assert 'data-testid="menu-item"' in platform.view_html


def test_quick_add_puts_the_default_drink_in_the_saved_cart():
    app, _bff, platform = make()

    async def scenario():
        await app.start()
        await app.dispatch("quick-add", {"product": "1"})

    asyncio.run(scenario())

    assert Cart.loads(platform.storage[CART_STORAGE_KEY]).to_api() == [
        {"product_id": 1, "variation_id": 1, "option_ids": [1], "quantity": 1}
    ]
    assert platform.announced[-1] == "Added Latte to your cart."
    assert "Cart (1)" in platform.nav_html


def test_customising_updates_the_live_price():
    app, _bff, _platform = make("#/product/1")

    async def scenario():
        await app.start()
        await app.dispatch("choose-variation", {"id": "2"})
        await app.dispatch("toggle-option", {"id": "2"})
        await app.dispatch("selection-quantity", {"by": "1"})
        await app.dispatch("add-to-cart", {})

    asyncio.run(scenario())

    assert app.state.cart.to_api() == [
        {"product_id": 1, "variation_id": 2, "option_ids": [2], "quantity": 2}
    ]
    assert app.state.notice == "Added 2 \u00d7 Latte to your cart."


def test_declined_card_keeps_the_cart_and_shows_the_reason():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, (2,)).dumps()
    bff.on("POST", "/api/orders", (201, order_json()))
    declined = order_json(status="payment_failed", failure_reason="Your card was declined.")
    bff.on("GET", "/api/orders/ord-0001", (200, declined))

    async def scenario():
        await app.start()
        await app.dispatch(
            "checkout", {"card": "4000 0000 0000 0002", "expiry": "12/40", "cvc": "123"}
        )
        await app.on_route(platform.path)
        platform.streams[0].on_event(
            json.dumps({"order_id": "ord-0001", "status": "payment_failed", "at": "x"})
        )
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(scenario())

    sent = bff.sent("POST", "/api/orders")[0]
    assert json.loads(sent.body or "")["payment_method"] == "pm_fake0002"
    assert "4000000000000002" not in (sent.body or "")
    assert platform.navigations == ["/orders/ord-0001"]
    assert 'data-testid="payment-declined"' in platform.view_html
    assert "Your card was declined." in platform.view_html
    assert not app.state.cart.is_empty
    assert platform.announced[-1] == "Payment for order A-001 was declined: Your card was declined."


def test_paid_order_empties_the_cart():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, (2,)).dumps()
    bff.on("POST", "/api/orders", (201, order_json()))
    bff.on("GET", "/api/orders/ord-0001", (200, order_json(status="placed")))

    async def scenario():
        await app.start()
        await app.dispatch(
            "checkout", {"card": "4242424242424242", "expiry": "12/40", "cvc": "123"}
        )
        await app.on_route(platform.path)

    asyncio.run(scenario())

    assert app.state.cart.is_empty
    assert platform.storage[CART_STORAGE_KEY] == "[]"
    assert 'data-status="placed"' in platform.view_html


def test_retry_after_a_network_error_reuses_the_idempotency_key():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()
    attempts: list[int] = []

    def lost_once(request):
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("TypeError: Failed to fetch")
        return (201, order_json())

    bff.on("POST", "/api/orders", lost_once)

    async def scenario():
        await app.start()
        await app.dispatch("checkout", GOOD_CARD)
        await app.dispatch("retry", {})

    asyncio.run(scenario())

    sent = bff.sent("POST", "/api/orders")
    assert [r.headers["Idempotency-Key"] for r in sent] == ["key-1", "key-1"]
    # The same attempt sends the same token: the card is tokenized once.
    assert [json.loads(r.body or "")["payment_method"] for r in sent] == ["pm_fake4242"] * 2
    assert len(bff.sent("POST", "https://pay.example/v1/payment_methods")) == 1
    assert platform.navigations == ["/orders/ord-0001"]


def test_a_typo_in_the_card_is_caught_before_anything_is_sent():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()

    async def scenario():
        await app.start()
        await app.dispatch("checkout", {"card": "4242 4242 4242 4241"})

    asyncio.run(scenario())

    assert bff.sent("POST", "/api/orders") == []
    assert bff.sent("POST", "https://pay.example/v1/payment_methods") == []
    assert 'aria-invalid="true"' in platform.view_html
    assert "check digit" in platform.view_html


def test_checkout_starts_with_empty_card_fields_and_the_test_card_as_a_hint():
    app, _bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()

    asyncio.run(app.start())

    assert 'id="card" type="text" name="card"' in platform.view_html
    for field in ("card", "card-expiry", "card-cvc"):
        assert f'id="{field}"' in platform.view_html
    assert 'value=""' in platform.view_html
    assert "4242 4242 4242 4242" not in platform.view_html.split('id="card-hint"')[0]
    assert "4242 4242 4242 4242 pays" in platform.view_html  # the hint beside the field


def test_checkout_with_empty_fields_names_each_one_and_sends_nothing():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()

    async def scenario():
        await app.start()
        await app.dispatch("checkout", {"card": "", "expiry": "", "cvc": ""})

    asyncio.run(scenario())

    assert set(app.state.card_errors) == {"number", "expiry", "cvc"}
    for testid in ("card-number-error", "card-expiry-error", "card-cvc-error"):
        assert f'data-testid="{testid}"' in platform.view_html
    assert bff.sent("POST", "/api/orders") == []
    assert bff.sent("POST", "https://pay.example/v1/payment_methods") == []


def test_the_providers_refusal_is_shown_beside_its_field_and_no_order_is_placed():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()

    async def scenario():
        await app.start()
        await app.dispatch(
            "checkout", {"card": "4000000000000069", "expiry": "12/40", "cvc": "123"}
        )

    asyncio.run(scenario())

    assert app.state.card_errors == {"expiry": "Your card has expired."}
    error = platform.view_html.split('data-testid="card-expiry-error"')[1]
    assert error.startswith(">Your card has expired.<")
    assert bff.sent("POST", "/api/orders") == []
    assert "checkout" not in app.state.busy


def test_the_card_goes_to_the_provider_with_the_publishable_key_and_only_the_token_to_the_bff():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()
    bff.on("POST", "/api/orders", (201, order_json()))

    async def scenario():
        await app.start()
        await app.dispatch("checkout", GOOD_CARD)

    asyncio.run(scenario())

    [tokenize] = bff.sent("POST", "https://pay.example/v1/payment_methods")
    assert tokenize.headers["Authorization"] == "Bearer pk_test_fake"
    assert json.loads(tokenize.body or "")["card"] == {
        "number": "4242424242424242",
        "exp_month": 12,
        "exp_year": 2040,
        "cvc": "123",
    }
    to_bff = [r for r in bff.requests if not r.url.startswith("https://pay.example")]
    assert all("4242424242424242" not in (r.body or "") + r.url for r in to_bff)
    assert (app.state.card_text, app.state.card_cvc) == ("", "")  # forgotten once paid


def test_rate_limited_checkout_says_when_to_try_again():
    app, bff, platform = make("#/checkout")
    platform.storage[CART_STORAGE_KEY] = Cart().add(2, None).dumps()
    bff.on(
        "POST", "/api/orders", (429, {"title": "Too many", "status": 429}, {"retry-after": "12"})
    )

    async def scenario():
        await app.start()
        await app.dispatch("checkout", GOOD_CARD)

    asyncio.run(scenario())

    assert "Too many requests. Try again in 12 seconds." in platform.view_html
    assert not app.state.cart.is_empty
    assert 12 in platform.sleeps  # 'Try again' is enabled again after Retry-After
    assert app.state.problem is not None
    assert app.state.problem.waiting is False


def test_stream_failures_fall_back_to_polling_every_three_seconds():
    app, bff, platform = make("#/orders")
    bff.on("GET", "/api/orders", (200, {"results": [order_json(status="placed")]}))

    async def scenario():
        await app.start()
        stream = platform.streams[0]
        stream.on_error(False)
        stream.on_error(False)
        assert app.state.live_mode == "stream"
        bff.on("GET", "/api/orders", (200, {"results": [order_json(status="ready")]}))
        stream.on_error(True)  # the browser gave up
        assert stream.closed
        assert app.state.live_mode == "polling"
        await app._poll_task  # type: ignore[misc]

    asyncio.run(scenario())

    assert platform.sleeps[:3] == [3.0, 3.0, 3.0]
    assert "Order A-001 is ready to collect." in platform.announced
    assert len(platform.streams) == 2  # after a minute of polling it tries the stream again


def test_barista_advances_an_order_with_one_tap():
    app, bff, platform = make("#/queue", roles=("barista",))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json(status="placed"))))
    bff.on("POST", "/api/staff/orders/ord-0001/advance", (200, order_json(status="in_preparation")))

    async def scenario():
        await app.start()
        assert 'data-testid="queue-item"' in platform.view_html
        assert 'data-to="in_preparation"' in platform.view_html
        await app.dispatch("advance", {"order": "ord-0001", "to": "in_preparation"})

    asyncio.run(scenario())

    assert [o.status for o in app.state.queue] == ["in_preparation"]
    assert 'data-to="ready"' in platform.view_html
    assert platform.announced[-1] == "Order A-001 is now being made."


def test_collected_orders_leave_the_queue():
    app, bff, platform = make("#/queue", roles=("barista", "manager"))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json(status="ready"))))
    bff.on("POST", "/api/staff/orders/ord-0001/advance", (200, order_json(status="collected")))

    async def scenario():
        await app.start()
        await app.dispatch("advance", {"order": "ord-0001", "to": "collected"})

    asyncio.run(scenario())

    assert app.state.queue == []
    assert 'data-testid="nav-admin"' in platform.nav_html


PAID_AT = 1_795_000_000.0  # 2026-11-18T11:06:40Z
WINDOW_END = "2026-11-18T11:08:40Z"  # two minutes later


def test_customer_cancels_a_paid_order_within_its_window_seeing_the_time_left():
    app, bff, platform = make("#/orders/ord-0001")
    app.clock = lambda: PAID_AT + 15
    placed = order_json(status="placed", cancellable_until=WINDOW_END)
    bff.on("GET", "/api/orders/ord-0001", (200, placed))
    bff.on("POST", "/api/orders/ord-0001/cancel", (200, order_json(status="cancelled")))

    async def scenario():
        await app.start()
        assert 'data-testid="cancel-order"' in platform.view_html
        assert "1:45 left to cancel for a full refund." in platform.view_html
        await app.dispatch("cancel-order", {"order": "ord-0001"})

    asyncio.run(scenario())

    assert 'data-status="cancelled"' in platform.view_html
    assert 'data-testid="cancel-order"' not in platform.view_html
    assert 'data-testid="cancel-ask-counter"' not in platform.view_html


def test_the_cancel_button_goes_when_the_window_ends_and_the_counter_is_named():
    app, bff, platform = make("#/orders/ord-0001")
    now = [PAID_AT + 118]
    app.clock = lambda: now[0]
    seen: list[str] = []

    async def a_second_passes(seconds: float) -> None:
        seen.append(platform.view_html)
        platform.sleeps.append(seconds)
        now[0] += seconds
        await asyncio.sleep(0)

    platform.sleep = a_second_passes  # type: ignore[method-assign]
    placed = order_json(status="placed", cancellable_until=WINDOW_END)
    bff.on("GET", "/api/orders/ord-0001", (200, placed))

    async def scenario():
        await app.start()
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(scenario())

    assert "0:02 left to cancel" in seen[0]
    assert "0:01 left to cancel" in seen[1]

    assert 'data-testid="cancel-order"' not in platform.view_html
    assert "To cancel this order, ask at the counter." in platform.view_html
    assert 1.0 in platform.sleeps


def test_the_bff_ending_a_quiet_stream_is_not_a_failure():
    app, _bff, platform = make()

    async def scenario():
        await app.start()
        stream = platform.streams[0]
        for _ in range(5):  # the BFF closes the stream, the browser reconnects
            stream.on_error(False)
            stream.on_open()

    asyncio.run(scenario())

    assert app.state.live_mode == "stream"
    assert not platform.streams[0].closed


def test_a_burst_of_events_refreshes_the_queue_twice_not_once_per_event():
    app, bff, platform = make("#/queue", roles=("barista",))
    calls = []

    def queue(request):
        calls.append(request)
        return 200, queue_json(order_json(status="placed"))

    bff.on("GET", "/api/staff/queue", queue)

    async def scenario():
        await app.start()
        calls.clear()
        stream = platform.streams[0]
        for n in range(5):
            stream.on_event(json.dumps({"order_id": f"o{n}", "status": "placed", "at": "x"}))
        for _ in range(10):
            await asyncio.sleep(0)

    asyncio.run(scenario())

    assert len(calls) == 2
    assert 'data-testid="queue-item"' in platform.view_html


def test_the_menu_shows_my_orders_in_progress():
    app, bff, platform = make()
    bff.on(
        "GET",
        "/api/orders",
        (200, {"results": [order_json("a-0001", "ready"), order_json("b-0002", "collected")]}),
    )

    asyncio.run(app.start())

    assert 'data-testid="active-order" data-order-id="a-0001"' in platform.view_html
    assert "b-0002" not in platform.view_html


def test_when_the_payment_lands_the_order_page_offers_cancel_with_the_time_left():
    app, bff, platform = make("#/orders/ord-0001")
    app.clock = lambda: PAID_AT + 30
    bff.on("GET", "/api/orders/ord-0001", (200, order_json(status="pending_payment")))

    async def scenario():
        await app.start()
        placed = order_json(status="placed", cancellable_until=WINDOW_END)
        bff.on("GET", "/api/orders/ord-0001", (200, placed))
        platform.streams[0].on_event(
            json.dumps({"order_id": "ord-0001", "status": "placed", "at": "x"})
        )
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(scenario())

    assert 'data-status="placed"' in platform.view_html
    assert "1:30 left to cancel for a full refund." in platform.view_html


LATTE_LINE = [{"product_id": 1, "variation_id": 1, "option_ids": [1], "quantity": 1}]


def test_signing_out_empties_the_stored_cart_and_forgets_its_owner():
    app, _bff, platform = make()

    async def scenario():
        await app.start()
        await app.dispatch("quick-add", {"product": "1"})

    asyncio.run(scenario())
    assert platform.storage[CART_OWNER_KEY] == "u1"
    app.forget_person()

    assert Cart.loads(platform.storage[CART_STORAGE_KEY]).to_api() == []
    assert platform.storage[CART_OWNER_KEY] == ""
    assert app.state.cart.is_empty


def test_a_different_person_signing_in_does_not_see_the_previous_persons_cart():
    app, _bff, platform = make()
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, [1]).dumps()
    platform.storage[CART_OWNER_KEY] = "someone-else"

    asyncio.run(app.start())

    assert app.state.cart.is_empty
    assert Cart.loads(platform.storage[CART_STORAGE_KEY]).to_api() == []
    assert platform.storage[CART_OWNER_KEY] == "u1"


def test_a_visitors_cart_goes_with_them_when_they_sign_in():
    app, _bff, platform = make()
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, [1]).dumps()

    asyncio.run(app.start())

    assert app.state.cart.to_api() == LATTE_LINE
    assert platform.storage[CART_OWNER_KEY] == "u1"


def test_a_signed_in_persons_cart_is_emptied_once_nobody_is_signed_in():
    app, _bff, platform = make(authenticated=False)
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, [1]).dumps()
    platform.storage[CART_OWNER_KEY] = "u1"

    asyncio.run(app.start())

    assert app.state.cart.is_empty
    assert platform.storage[CART_OWNER_KEY] == ""


def test_the_same_person_keeps_their_cart_across_reloads():
    app, _bff, platform = make()
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, [1]).dumps()
    platform.storage[CART_OWNER_KEY] = "u1"

    asyncio.run(app.start())

    assert app.state.cart.to_api() == LATTE_LINE


def test_a_resync_event_refetches_my_orders_and_announces_what_changed():
    app, bff, platform = make("#/orders")
    fetched = []
    answers = iter(["placed", "ready"])

    def orders(request):
        fetched.append(request)
        return 200, {"results": [order_json(status=next(answers))]}

    bff.on("GET", "/api/orders", orders)

    async def scenario():
        await app.start()
        assert app.state.orders["ord-0001"].status == "placed"
        # The BFF could not replay what was missed during a reconnect.
        platform.streams[0].on_event(json.dumps({"resync": True}))
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(scenario())

    assert len(fetched) == 2
    assert app.state.orders["ord-0001"].status == "ready"
    assert len(platform.announced) == 1
    assert app.state.live_mode == "stream"


def test_barista_rejects_an_order_with_a_reason_and_it_leaves_the_queue():
    app, bff, platform = make("#/queue", roles=("barista",))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json(status="placed"))))
    rejected = order_json(status="rejected", status_reason="Out of oat milk")
    bff.on("POST", "/api/staff/orders/ord-0001/reject", (200, rejected))

    async def scenario():
        await app.start()
        await app.dispatch("reject-open", {"order": "ord-0001"})
        assert 'data-testid="reject-form"' in platform.view_html
        await app.dispatch("reject", {"order": "ord-0001", "reason": "  Out of  oat milk "})

    asyncio.run(scenario())

    sent = bff.sent("POST", "/api/staff/orders/ord-0001/reject")
    assert [json.loads(s.body or "") for s in sent] == [{"reason": "Out of oat milk"}]
    assert app.state.queue == []
    assert app.state.rejecting is None
    assert platform.announced[-1] == "Order A-001 rejected and refunded: Out of oat milk"


def test_reject_with_a_blank_reason_sends_nothing_and_says_why():
    app, bff, platform = make("#/queue", roles=("barista",))
    bff.on("GET", "/api/staff/queue", (200, queue_json(order_json(status="placed"))))

    async def scenario():
        await app.start()
        await app.dispatch("reject-open", {"order": "ord-0001"})
        await app.dispatch("reject", {"order": "ord-0001", "reason": "   "})

    asyncio.run(scenario())

    assert bff.sent("POST", "/api/staff/orders/ord-0001/reject") == []
    assert [o.status for o in app.state.queue] == ["placed"]
    assert app.state.problem is not None
    assert app.state.problem.message == "Say why the order is rejected; the customer is told."
    assert platform.announced[-1] == app.state.problem.message
    assert app.state.rejecting == "ord-0001"  # the form stays open


def test_a_customer_sees_the_reason_of_a_rejection_from_the_live_update():
    app, bff, platform = make("#/orders/ord-0001")
    bff.on("GET", "/api/orders/ord-0001", (200, order_json(status="placed")))
    bff.on("GET", "/api/orders", (200, {"results": [order_json(status="placed")]}))

    async def scenario():
        await app.start()
        await app.on_route(platform.path)
        bff.on(
            "GET",
            "/api/orders/ord-0001",
            (200, order_json(status="rejected", status_reason="Out of oat milk")),
        )
        platform.streams[0].on_event(
            json.dumps({"order_id": "ord-0001", "status": "rejected", "reason": "Out of oat milk"})
        )
        for _ in range(4):
            await asyncio.sleep(0)

    asyncio.run(scenario())

    assert app.state.orders["ord-0001"].status_reason == "Out of oat milk"
    assert "Out of oat milk</span> — refunded" in platform.view_html
    assert "Order A-001 was rejected and refunded: Out of oat milk" in platform.announced


def test_queue_shows_counts_pages_and_announces_a_new_arrival_behind_a_backlog():
    app, bff, platform = make("#/queue", roles=("barista",))
    old = [order_json(f"o{n}", "placed", number=f"A-{n + 1:03d}") for n in range(500)]
    first = queue_json(*old[:50])
    first["counts"]["placed"] = first["columns"][0]["count"] = 500
    first["columns"][0]["next_cursor"] = "c50"
    first["columns"][0]["newest"] = old[::-1][:5]
    new = order_json("o500", "placed", number="A-501")
    second = queue_json(*old[:50])
    second["counts"]["placed"] = second["columns"][0]["count"] = 501
    second["columns"][0]["next_cursor"] = "c50"
    second["columns"][0]["newest"] = [new, *old[::-1][:4]]
    more = queue_json(*old[50:100])
    (more["columns"],) = [[{**more["columns"][0], "count": 501, "next_cursor": "c100"}]]
    more["counts"]["placed"] = 501
    answers = [first, second]
    bff.on("GET", "/api/staff/queue", lambda request: (200, answers.pop(0)))
    bff.on("GET", "/api/staff/queue?status=placed&cursor=c50", (200, more))

    async def scenario():
        await app.start()
        assert 'data-testid="queue-count-placed">(500)' in platform.view_html
        platform.streams[0].on_event(
            json.dumps({"order_id": "o500", "status": "placed", "at": "x"})
        )
        for _ in range(10):
            await asyncio.sleep(0)
        await app.dispatch("queue-more", {"status": "placed"})

    asyncio.run(scenario())

    html = platform.view_html
    assert "New order: A-501." in platform.announced
    assert 'data-testid="queue-count-placed">(501)' in html
    assert 'data-order-id="o500"' in html  # among the newest arrivals, in sight
    assert [o.id for o in app.state.queue] == [f"o{n}" for n in range(100)]
    assert "Show more (396 more)" in html


def test_the_cart_the_server_pages_filled_before_python_loaded_is_the_cart():
    """Issue 16: lines added with the server-rendered page's plain forms are in the
    cookie; Python takes them over (and every change is written back to it)."""
    app, _bff, platform = make("/cart")
    platform.storage[CART_STORAGE_KEY] = Cart().add(1, 1, (1,)).dumps()  # older
    platform.cookies[CART_COOKIE] = Cart().add(1, 2, (2,), 3).to_token()

    async def scenario():
        await app.start()
        await app.dispatch("quick-add", {"product": "1"})

    asyncio.run(scenario())

    lines = Cart.from_token(platform.cookies[CART_COOKIE]).to_api()
    assert lines[0] == {"product_id": 1, "variation_id": 2, "option_ids": [2], "quantity": 3}
    assert len(lines) == 2
    assert Cart.loads(platform.storage[CART_STORAGE_KEY]).to_api() == lines


def test_choices_made_on_the_server_rendered_product_page_survive_the_take_over():
    app, _bff, platform = make("/product/1")
    platform.filled = [("variation", "2"), ("group-1", "2"), ("group-2", "4"), ("quantity", "2")]

    asyncio.run(app.start())

    assert app.state.selection is not None
    assert (app.state.selection.variation_id, app.state.selection.option_ids) == (2, (2, 4))
    assert app.state.selection.quantity == 2
    assert 'id="option-2" name="group-1" value="2" checked' in platform.view_html


def test_the_cookie_cart_is_the_device_copy_as_soon_as_python_runs():
    """Lines the plain forms added are in the device's storage too before any change, so
    a cookie lost later (cleared, expired) does not bring back an older cart."""
    app, _bff, platform = make("/")
    platform.storage[CART_STORAGE_KEY] = Cart().dumps()
    platform.cookies[CART_COOKIE] = Cart().add(1, 2, (2,), 3).to_token()

    asyncio.run(app.start())

    assert Cart.loads(platform.storage[CART_STORAGE_KEY]).to_api() == [
        {"product_id": 1, "variation_id": 2, "option_ids": [2], "quantity": 3}
    ]


def test_what_the_server_page_said_it_added_is_still_said_and_the_query_goes():
    app, _bff, platform = make("/?added=1&qty=2")

    asyncio.run(app.start())

    assert app.state.notice == "Added 2 \u00d7 Latte to your cart."
    assert platform.path == "/"
    assert platform.navigations == []  # replaced, not a new history entry


def test_the_page_the_server_rendered_is_kept_when_python_would_render_the_same():
    """A click landing while Python takes the page over must not hit a replaced button:
    when its first render is what the server sent, the DOM is left alone."""
    from coffeeshop_client import views

    first, _bff, shown = make("/")
    asyncio.run(first.start())  # what the page shows, rendered once by "the server"
    token = first.state.session.csrf_token
    app, _bff, platform = make("/")
    platform.server_print = views.fingerprint(shown.nav_html, shown.view_html, token)

    asyncio.run(app.start())

    assert platform.adopted == (shown.nav_html, shown.view_html)
    other, _bff, replaced = make("/")
    replaced.server_print = "00000000"  # the server showed something else
    asyncio.run(other.start())
    assert replaced.adopted is None
    assert 'data-testid="menu-item"' in replaced.view_html


def test_the_fingerprint_leaves_out_each_sides_own_csrf_token():
    from coffeeshop_client import views

    server = views.fingerprint("<nav>", '<input value="tok-A">', "tok-A")
    client = views.fingerprint("<nav>", '<input value="tok-B">', "tok-B")

    assert server == client
    assert server != views.fingerprint("<nav>", '<input value="tok-B">x', "tok-B")
