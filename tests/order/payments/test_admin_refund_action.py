"""The Refund action in Order's admin: a manager refunds an order in full, once, with a
reason; through the payments service and the real sandbox provider (issue 11)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from order_site.order_payments.refunds import payment_refund_task, refund_request
from order_site.payments.models import Refund
from shared.admin_oidc.views import admin_user_sync
from tests.order.payments.test_payment_request_and_refund import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _admin_pages_render(settings: Any) -> None:
    """Admin pages link static files; tests have no collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _signed_in(roles: list[str]) -> Client:
    """A browser signed into the admin as Identity's sign-in would leave it."""
    user = admin_user_sync(
        claims={"sub": f"sub-{'-'.join(roles)}", "email": "m@x.test", "name": "M", "roles": roles}
    )
    client = Client()
    client.force_login(user)
    return client


def _refund(client: Client, order_id: int, reason: str) -> Any:
    return client.post(
        "/admin/orders/order/",
        {"action": "refund", "_selected_action": [order_id], "apply": "1", "reason": reason},
        follow=True,
    )


def test_a_manager_refunds_an_order_in_full_once_with_the_reason_recorded(
    make_order: Any, provider_api: httpx.Client, django_capture_on_commit_callbacks: Any
) -> None:
    order, payment = paid_order(make_order, total=450)
    manager = _signed_in(["manager", "barista"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _refund(manager, order.id, "Oat milk was off")
        second = _refund(manager, order.id, "clicked again")

    refund = Refund.objects.get(order_id=order.id)
    assert len(callbacks) == 1
    assert payment_refund_task.apply(args=[refund.id]).get() == "succeeded"
    refund.refresh_from_db()
    order.refresh_from_db()
    assert Refund.objects.filter(order_id=order.id).count() == 1
    assert (refund.status, refund.amount, refund.payment_id) == ("succeeded", 450, payment.id)
    assert order.refund_reference == refund.provider_reference
    assert f"Order {order.id}: refund of €4.50 requested." in first.content.decode()
    assert f"Order {order.id} was already refunded (refund {refund.id}, " in (
        second.content.decode()
    )
    entries = LogEntry.objects.filter(object_id=str(order.id))
    assert [e.change_message for e in entries] == ["Refunded in full (€4.50): Oat milk was off"]


def test_the_refund_action_asks_for_a_reason_and_refunds_nothing_without_one(
    make_order: Any,
) -> None:
    order, _ = paid_order(make_order, total=450)
    manager = _signed_in(["manager"])

    page = manager.post(
        "/admin/orders/order/", {"action": "refund", "_selected_action": [order.id]}
    )
    blank = _refund(manager, order.id, "   ")

    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert "Give a reason for the refund." in blank.content.decode()
    assert Refund.objects.count() == 0
    assert LogEntry.objects.count() == 0


def test_only_managers_have_admin_access_and_the_refund_action(make_order: Any) -> None:
    order, _ = paid_order(make_order, total=450)
    barista = _signed_in(["barista"])

    listing = barista.get("/admin/orders/order/")
    attempt = _refund(barista, order.id, "not mine to give")

    assert listing.status_code == 302
    assert listing["Location"].startswith("/admin/login/")
    assert attempt.redirect_chain[0][0].startswith("/admin/login/")
    assert Refund.objects.count() == 0


def test_the_payments_list_refunds_the_payments_order_once_too(
    make_order: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order, payment = paid_order(make_order, total=320)
    manager = _signed_in(["manager"])
    body = {"action": "refund", "_selected_action": [payment.id], "apply": "1"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = manager.post("/admin/payments/payment/", {**body, "reason": "Wrong size"})
        again = manager.post("/admin/payments/payment/", {**body, "reason": "again"}, follow=True)

    refund = Refund.objects.get()
    assert first.status_code == 302
    assert len(callbacks) == 1
    assert (refund.order_id, refund.amount, refund.status) == (order.id, 320, "requested")
    assert f"Order {order.id} was already refunded (refund {refund.id}, " in (
        again.content.decode()
    )
    entries = LogEntry.objects.filter(object_id=str(order.id))
    assert [e.change_message for e in entries] == ["Refunded in full (€3.20): Wrong size"]


def test_after_a_part_refund_the_admin_action_refunds_what_is_left_with_its_reason(
    make_order: Any,
) -> None:
    order, _ = paid_order(make_order, total=450)
    part = refund_request(
        order_id=order.id, amount=100, reason="Cold", requested_by=7, key="part-1"
    )
    manager = _signed_in(["manager"])

    answer = _refund(manager, order.id, "Whole order wrong")

    rest = Refund.objects.exclude(id=part.id).get(order_id=order.id)
    assert (rest.amount, rest.reason) == (350, "Whole order wrong")
    assert f"Order {order.id}: refund of €3.50 requested." in answer.content.decode()
