"""The menu: the demo seed, the public read API and managers-only edits."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from order_site.menu.models import Category, Option, OptionGroup, Product, Variation
from tests.order.conftest import option, product, variation

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int, int]:
    return (
        Category.objects.count(),
        Product.objects.count(),
        Variation.objects.count(),
        OptionGroup.objects.count(),
        Option.objects.count(),
    )


def test_seed_menu_creates_the_demo_menu_once_and_keeps_manager_edits():
    call_command("seed_menu")
    first = counts()
    latte = product("Latte")
    latte.base_price = 420
    latte.save()

    call_command("seed_menu")

    assert first == (2, 5, 13, 3, 8)
    assert counts() == first
    assert product("Latte").base_price == 420


def test_seeded_prices_match_the_menu_card(menu):
    assert {p.name: p.base_price for p in Product.objects.all()} == {
        "Latte": 400,
        "Espresso": 250,
        "Macchiato": 400,
        "Iced Coffee": 350,
        "Donuts": 200,
    }
    assert variation("Latte", "Pumpkin Spice").price_delta == 50
    assert variation("Espresso", "Double").price_delta == 100
    assert variation("Donuts", "Boston Cream").price_delta == 50
    assert option("Size", "Large").price_delta == 80
    assert option("Milk", "Soy").price_delta == 30
    assert option("Extra shot", "Extra shot").price_delta == 60
    assert sorted(g.name for g in product("Latte").option_groups.all()) == [
        "Extra shot",
        "Milk",
        "Size",
    ]
    assert list(product("Donuts").option_groups.all()) == []


def test_each_product_names_its_variations_so_no_two_groups_of_choices_share_a_name(
    menu, client_for
):
    products = [p for c in client_for(None).get("/api/menu/").json() for p in c["products"]]

    assert {p["name"]: p["variation_label"] for p in products} == {
        "Latte": "Flavour",
        "Espresso": "Shot",
        "Macchiato": "Flavour",
        "Iced Coffee": "Style",
        "Donuts": "Flavour",
    }
    for p in products:
        names = [p["variation_label"], *(g["name"] for g in p["option_groups"])]
        assert len(set(names)) == len(names), p["name"]


def test_a_manager_renames_a_products_group_of_variations(menu, client_for, manager):
    response = client_for(manager).patch(
        f"/api/menu/products/{product('Espresso').id}/",
        {"variation_label": "Shots"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["variation_label"] == "Shots"
    assert product("Espresso").variation_label == "Shots"


def test_anyone_reads_the_menu_with_variations_and_options(menu, client_for):
    response = client_for(None).get("/api/menu/")

    assert response.status_code == 200
    categories = response.json()
    assert [c["name"] for c in categories] == ["Coffee", "Bakery"]
    latte = next(p for p in categories[0]["products"] if p["name"] == "Latte")
    assert latte["base_price"] == 400
    assert latte["currency"] == "GBP"
    assert [v["name"] for v in latte["variations"]] == ["Pumpkin Spice", "Vanilla", "Hazelnut"]
    size = next(g for g in latte["option_groups"] if g["name"] == "Size")
    assert (size["min_selections"], size["max_selections"]) == (1, 1)
    assert [(o["name"], o["price_delta"]) for o in size["options"]] == [
        ("Small", 0),
        ("Medium", 40),
        ("Large", 80),
    ]


def test_manager_marks_an_option_unavailable(menu, client_for, manager):
    oat = option("Milk", "Oat")

    response = client_for(manager).patch(
        f"/api/menu/options/{oat.id}/", {"is_available": False}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": oat.id,
        "name": "Oat",
        "price_delta": 40,
        "is_available": False,
        "allergens": ["gluten"],
        "removes_allergens": ["milk"],
    }
    oat.refresh_from_db()
    assert oat.is_available is False


def test_manager_creates_a_product(menu, client_for, manager):
    bakery = Category.objects.get(name="Bakery")

    response = client_for(manager).post(
        "/api/menu/products/",
        {"category_id": bakery.id, "name": "Croissant", "base_price": 275, "allergens": ["gluten"]},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["name"] == "Croissant"
    assert product("Croissant").base_price == 275


@pytest.mark.parametrize("who", ["customer", "barista"])
def test_only_managers_edit_the_menu_and_nothing_changes_otherwise(menu, client_for, request, who):
    latte = product("Latte")

    response = client_for(request.getfixturevalue(who)).patch(
        f"/api/menu/products/{latte.id}/", {"base_price": 1}, format="json"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert product("Latte").base_price == 400


def test_anonymous_menu_edit_is_401(menu, client_for):
    latte = product("Latte")

    response = client_for(None).patch(
        f"/api/menu/products/{latte.id}/", {"base_price": 1}, format="json"
    )

    assert response.status_code == 401
    assert product("Latte").base_price == 400


def test_negative_base_price_is_refused_naming_the_field(menu, client_for, manager):
    latte = product("Latte")

    response = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/", {"base_price": -5}, format="json"
    )

    assert response.status_code == 400
    assert "base_price" in response.json()["errors"]
    assert product("Latte").base_price == 400


def test_renaming_a_product_to_a_taken_name_is_refused(menu, client_for, manager):
    latte = product("Latte")

    response = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/", {"name": "Espresso"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"name": ["Already on the menu."]}
    assert product("Latte").name == "Latte"


def test_editing_an_unknown_product_is_404(menu, client_for, manager):
    response = client_for(manager).patch(
        "/api/menu/products/999999/", {"is_available": False}, format="json"
    )

    assert response.status_code == 404
