"""`GET /api/orders/report/`: a manager's day report (takings, orders per hour, best
sellers), in the shop's local day, with exact figures from orders placed and paid here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from order_site.order_payments import services
from order_site.order_payments.refunds import payment_refund
from order_site.orders.models import Order
from order_site.payments.models import Refund
from order_site.users.principals import Principal
from shared.problems import TYPE_BASE
from tests.order.conftest import donut_line, latte_line, pay

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"  # British Summer Time in July: local = UTC + 1
DAY = "2026-07-15"
LATTE, DONUT = 550, 250  # latte_line and donut_line, each


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.fixture
def london(settings: Any) -> None:
    settings.TIME_ZONE = LONDON


@pytest.fixture
def shop(menu, client_for, customer, manager, barista):
    """Places and pays orders as a customer, and refunds them as staff, at set times."""

    class Shop:
        keys = 0

        def place(self, *lines: dict[str, Any]) -> Order:
            self.keys += 1
            response = client_for(customer).post(
                "/api/orders/",
                {"payment_method": "pm_card_visa", "lines": list(lines)},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"report-{self.keys}",
            )
            assert response.status_code == 201, response.json()
            return Order.objects.get(id=response.json()["id"])

        def paid(self, *lines: dict[str, Any], at: str) -> Order:
            order = self.place(*lines)
            pay(order.id)
            Order.objects.filter(id=order.id).update(paid_at=utc(at))
            return order

        def given_back(self, order: Order, *, how: str, refunded_at: str) -> None:
            """Cancelled by the manager or rejected by a barista; refunded at the provider."""
            if how == "cancel":
                services.order_cancel(order_id=order.id, actor=manager, reason="test")
            else:
                services.order_reject(order_id=order.id, actor=barista, reason="out of oat milk")
            refund = Refund.objects.get(order_id=order.id)
            assert payment_refund(refund_id=refund.id).status == "succeeded"
            Refund.objects.filter(id=refund.id).update(completed_at=utc(refunded_at))

    return Shop()


def report(client: Any, **query: str) -> Any:
    return client.get("/api/orders/report/", query)


def test_a_day_counts_its_paid_orders_and_refunds_in_local_time(london, shop, client_for, manager):
    first = shop.paid(latte_line(2), at="2026-07-14T23:30:00")  # 00:30 local: the day's first
    shop.paid(donut_line(1), at="2026-07-15T22:59:59")  # 23:59:59 local: still the day
    shop.paid(latte_line(1), at="2026-07-15T23:00:00")  # midnight local: the next day
    late_yesterday = shop.paid(donut_line(3), at="2026-07-14T22:59:59")  # 23:59:59 the day before
    cancelled = shop.paid(latte_line(1), donut_line(1), at="2026-07-15T07:15:00")  # 08:15
    shop.given_back(cancelled, how="cancel", refunded_at="2026-07-15T08:00:00")
    shop.paid(latte_line(1), at="2026-07-15T07:45:00")  # 08:45 local
    shop.place(donut_line(4))  # never paid
    unpaid_cancelled = shop.place(latte_line(3))
    services.order_cancel(order_id=unpaid_cancelled.id, actor=manager, reason="changed mind")
    yesterdays = shop.paid(donut_line(2), at="2026-07-14T11:00:00")
    shop.given_back(yesterdays, how="reject", refunded_at="2026-07-14T23:00:00")  # 00:00 local
    shop.given_back(late_yesterday, how="reject", refunded_at="2026-07-15T23:00:00")  # next day

    response = report(client_for(manager), date=DAY)

    assert response.status_code == 200
    hours = [0] * 24
    hours[0], hours[8], hours[23] = 1, 2, 1
    assert response.json() == {
        "date": DAY,
        "time_zone": LONDON,
        "currency": "GBP",
        "orders": 4,  # first, the 23:59:59 donut, the cancelled one, the 08:45 latte
        "gross": 2 * LATTE + DONUT + (LATTE + DONUT) + LATTE,
        "refunds": (LATTE + DONUT) + 2 * DONUT,  # the cancelled one and yesterday's
        "takings": 2 * LATTE + DONUT + LATTE - 2 * DONUT,
        "orders_per_hour": hours,
        "best_sellers": [  # the cancelled order's latte and donut were given back
            {
                "product_id": first.lines.get().product_id,
                "name": "Latte",
                "quantity": 3,
                "revenue": 3 * LATTE,
            },
            {
                "product_id": shop.place(donut_line(1)).lines.get().product_id,
                "name": "Donuts",
                "quantity": 1,
                "revenue": DONUT,
            },
        ],
    }
    assert response.json()["takings"] == 1400


def test_the_report_shows_at_most_top_best_sellers(london, shop, client_for, manager):
    shop.paid(latte_line(1), donut_line(2), at="2026-07-15T12:00:00")

    response = report(client_for(manager), date=DAY, top="1")

    assert response.status_code == 200
    assert [(s["name"], s["quantity"]) for s in response.json()["best_sellers"]] == [("Donuts", 2)]


def test_a_day_without_orders_is_all_zeros(london, menu, client_for, manager):
    response = report(client_for(manager), date="2026-07-16")

    assert response.status_code == 200
    assert response.json() == {
        "date": "2026-07-16",
        "time_zone": LONDON,
        "currency": "GBP",
        "orders": 0,
        "gross": 0,
        "refunds": 0,
        "takings": 0,
        "orders_per_hour": [0] * 24,
        "best_sellers": [],
    }


def test_without_a_date_the_report_is_of_today_in_the_shop_time_zone(
    settings, shop, client_for, manager
):
    # UTC+14 all year: the shop's date differs from UTC's for 14 hours of every day.
    settings.TIME_ZONE = "Pacific/Kiritimati"
    order = shop.place(latte_line(1))
    pay(order.id)  # paid now
    today = (timezone.now() + timedelta(hours=14)).date()

    response = report(client_for(manager))

    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["time_zone"]) == (today.isoformat(), "Pacific/Kiritimati")
    assert (body["orders"], body["takings"]) == (1, LATTE)
    order.refresh_from_db()
    hours = [0] * 24
    hours[timezone.localtime(order.paid_at).hour] = 1
    assert body["orders_per_hour"] == hours


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ("15/07/2026", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ("today", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
        ("1999-12-31", "Must be between 2000-01-01 and 2999-12-31."),
        ("9999-12-31", "Must be between 2000-01-01 and 2999-12-31."),
    ],
)
def test_a_bad_date_is_a_400_problem_naming_date(
    menu, client_for, manager, value: str, message: str
):
    before = Order.objects.count(), Refund.objects.count()

    response = report(client_for(manager), date=value)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["status"]) == (TYPE_BASE + "invalid", 400)
    assert body["errors"] == {"date": [message]}
    assert (Order.objects.count(), Refund.objects.count()) == before


@pytest.mark.parametrize("who", ["barista", "customer"])
def test_only_a_manager_may_read_the_report(client_for, who: str, request: Any):
    principal: Principal = request.getfixturevalue(who)

    response = report(client_for(principal), date=DAY)

    assert response.status_code == 403
    assert response.json()["detail"] == "Only managers may do this."


def test_signed_out_callers_get_no_report(client_for):
    response = report(client_for(None), date=DAY)

    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


def test_a_day_of_paid_orders_is_read_through_the_paid_at_index(london, db):
    # The planner picks a scan for a small table; forbid it, so the plan shows whether the
    # report's range on paid_at can use an index at all (with thousands of orders it does).
    queryset = Order.objects.filter(
        paid_at__gte=utc("2026-07-14T23:00:00"), paid_at__lt=utc("2026-07-15T23:00:00")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()

    assert "orders_paid_at" in plan


def test_the_schema_says_what_counts_in_takings(client_for, manager):
    schema = client_for(manager).get("/api/schema/", {"format": "json"}).json()

    body = schema["paths"]["/api/orders/report/"]["get"]["responses"]["200"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = schema["components"]["schemas"][ref]["properties"]
    assert fields["takings"]["description"].startswith("gross - refunds")
    assert "cancelled or rejected later" in fields["orders"]["description"]
    params = schema["paths"]["/api/orders/report/"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in params] == [("date", "query"), ("top", "query")]
