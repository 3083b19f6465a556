"""Every menu write announces `menu.changed` through the outbox, in the write's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.forms import modelform_factory

from order_site.menu import services
from order_site.menu.models import Product
from order_site.outbox.models import OutboxEvent
from shared.events import ORDER_EVENTS_TOPIC
from tests.order.conftest import option, product, variation

pytestmark = pytest.mark.django_db


def menu_events() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (row.topic, row.key, row.envelope["payload"])
        for row in OutboxEvent.objects.filter(event_type="menu.changed").order_by("id")
    ]


def test_a_manager_marking_oat_milk_sold_out_writes_one_menu_changed_event(
    menu, client_for, manager
):
    oat = option("Milk", "Oat")

    response = client_for(manager).patch(
        f"/api/menu/options/{oat.id}/", {"is_available": False}, format="json"
    )

    assert response.status_code == 200
    assert menu_events() == [
        (ORDER_EVENTS_TOPIC, "menu", {"item": "option", "id": oat.id, "fields": ["is_available"]})
    ]


def test_price_description_and_variation_edits_each_announce_what_changed(
    menu, client_for, manager
):
    latte = product("Latte")
    vanilla = variation("Latte", "Vanilla")
    client = client_for(manager)

    client.patch(
        f"/api/menu/products/{latte.id}/",
        {"base_price": 420, "description": "Silky."},
        format="json",
    )
    client.patch(f"/api/menu/variations/{vanilla.id}/", {"price_delta": 35}, format="json")

    assert menu_events() == [
        (
            ORDER_EVENTS_TOPIC,
            "menu",
            {"item": "product", "id": latte.id, "fields": ["base_price", "description"]},
        ),
        (
            ORDER_EVENTS_TOPIC,
            "menu",
            {"item": "variation", "id": vanilla.id, "fields": ["price_delta"]},
        ),
    ]


def test_the_event_is_rolled_back_with_the_menu_write(menu):
    oat = option("Milk", "Oat")

    def write_then_fail() -> None:
        with transaction.atomic():
            services.option_update(option_id=oat.id, is_available=False)
            raise RuntimeError("the write's transaction fails")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert menu_events() == []
    oat.refresh_from_db()
    assert oat.is_available is True


def test_a_refused_edit_writes_no_event(menu, client_for, manager, barista):
    latte = product("Latte")

    taken = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/", {"name": "Espresso"}, format="json"
    )
    forbidden = client_for(barista).patch(
        f"/api/menu/products/{latte.id}/", {"is_available": False}, format="json"
    )

    assert (taken.status_code, forbidden.status_code) == (400, 403)
    assert menu_events() == []
    assert product("Latte").name == "Latte"
    assert product("Latte").is_available is True


def test_an_edit_in_django_admin_is_announced_too(menu):
    latte = product("Latte")
    form = modelform_factory(Product, fields=["base_price", "is_available"])(
        data={"base_price": 430, "is_available": False}, instance=latte
    )
    assert form.is_valid(), form.errors

    admin.site._registry[Product].save_model(None, form.instance, form, change=True)

    assert menu_events() == [
        (
            ORDER_EVENTS_TOPIC,
            "menu",
            {"item": "product", "id": latte.id, "fields": ["base_price", "is_available"]},
        )
    ]
    assert product("Latte").base_price == 430
