"""Concurrent retries of one placement create one order (DESIGN.md "Orders")."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from order_site.menu.services import menu_seed
from order_site.orders.models import Order, OrderLine
from order_site.outbox.models import OutboxEvent
from order_site.users.principals import Principal
from tests.order.conftest import CUSTOMER_ID, donut_line

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_placements_with_one_key_create_one_order():
    menu_seed()
    body = {"payment_method": "pm_card_visa", "lines": [donut_line(2)]}
    principal = Principal(CUSTOMER_ID, frozenset({"customer"}))
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def place() -> None:
        try:
            client = APIClient()
            client.force_authenticate(user=principal)
            barrier.wait(timeout=30)
            response = client.post(
                "/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
            )
            with lock:
                results.append((response.status_code, response.json()))
        except BaseException as exc:  # collected and re-raised in the main thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert [status for status, _ in results] == [201] * THREADS
    assert all(body == results[0][1] for _, body in results)
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="order.placed").count() == 1
    assert Order.objects.get().total == 500
