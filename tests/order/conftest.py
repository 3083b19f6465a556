"""Fixtures of the Order suite: the seeded menu, principals and API clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from order_site.menu.models import Option, Product, Variation
from order_site.menu.services import menu_seed
from order_site.order_payments.charges import payment_charge
from order_site.payments.models import Payment
from order_site.users.principals import Principal

CUSTOMER_ID = 1001
OTHER_CUSTOMER_ID = 1002
BARISTA_ID = 2001
MANAGER_ID = 3001


@pytest.fixture
def menu(db: Any) -> None:
    menu_seed()


def product(name: str) -> Product:
    return Product.objects.get(name=name)


def variation(product_name: str, name: str) -> Variation:
    return Variation.objects.get(product__name=product_name, name=name)


def option(group: str, name: str) -> Option:
    return Option.objects.get(group__name=group, name=name)


@pytest.fixture
def customer() -> Principal:
    return Principal(CUSTOMER_ID, frozenset({"customer"}), "bff-customer")


@pytest.fixture
def other_customer() -> Principal:
    return Principal(OTHER_CUSTOMER_ID, frozenset({"customer"}), "bff-customer")


@pytest.fixture
def barista() -> Principal:
    return Principal(BARISTA_ID, frozenset({"barista"}), "bff-staff")


@pytest.fixture
def manager() -> Principal:
    return Principal(MANAGER_ID, frozenset({"manager", "barista"}), "bff-staff")


@pytest.fixture
def client_for() -> Callable[[Principal | None], APIClient]:
    """An API client acting as the principal (DRF force_authenticate; no Identity needed)."""

    def make(principal: Principal | None) -> APIClient:
        client = APIClient()
        if principal is not None:
            client.force_authenticate(user=principal)
        return client

    return make


def pay(order_id: int) -> None:
    """Pay for an order placed through the API: its charge, at the sandbox provider."""
    payment_charge(payment_id=Payment.objects.get(order_id=order_id).id)


def latte_line(quantity: int = 1) -> dict[str, Any]:
    """Vanilla Latte, Large, Oat: 4.00 + 0.30 + 0.80 + 0.40 = 5.50 each."""
    return {
        "product_id": product("Latte").id,
        "variation_id": variation("Latte", "Vanilla").id,
        "option_ids": [option("Size", "Large").id, option("Milk", "Oat").id],
        "quantity": quantity,
    }


def donut_line(quantity: int = 1) -> dict[str, Any]:
    """Boston Cream donut: 2.00 + 0.50 = 2.50 each."""
    return {
        "product_id": product("Donuts").id,
        "variation_id": variation("Donuts", "Boston Cream").id,
        "quantity": quantity,
    }
