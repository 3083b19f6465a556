"""Allergens on the menu: options carry theirs, every list is one of the 14 UK/EU
allergens (refused otherwise, in the API and in the database), and the menu API shows them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from order_site.menu.models import Category, Option, Product
from tests.order.conftest import option, product

pytestmark = pytest.mark.django_db


def menu_product(menu_json: list, name: str) -> dict:
    return next(p for c in menu_json for p in c["products"] if p["name"] == name)


def test_menu_api_shows_each_options_allergens_and_what_it_replaces(menu, client_for):
    response = client_for(None).get("/api/menu/")

    latte = menu_product(response.json(), "Latte")
    milk = next(g for g in latte["option_groups"] if g["name"] == "Milk")
    assert [(o["name"], o["allergens"], o["removes_allergens"]) for o in milk["options"]] == [
        ("Whole", ["milk"], ["milk"]),
        ("Oat", ["gluten"], ["milk"]),
        ("Almond", ["tree_nuts"], ["milk"]),
        ("Soy", ["soybeans"], ["milk"]),
    ]
    assert latte["allergens"] == ["milk"]
    assert menu_product(response.json(), "Donuts")["allergens"] == [
        "gluten",
        "eggs",
        "milk",
        "soybeans",
    ]


def test_a_product_with_an_allergen_outside_the_fourteen_is_refused_naming_it(
    menu, client_for, manager
):
    bakery = Category.objects.get(name="Bakery")
    before = Product.objects.count()

    response = client_for(manager).post(
        "/api/menu/products/",
        {"category_id": bakery.id, "name": "Nut roll", "base_price": 300, "allergens": ["nuts"]},
        format="json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "nuts" in str(response.json()["errors"]["allergens"])
    assert Product.objects.count() == before


def test_changing_a_products_allergens_to_an_unknown_one_changes_nothing(menu, client_for, manager):
    latte = product("Latte")

    response = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/", {"allergens": ["milk", "glitter"]}, format="json"
    )

    assert response.status_code == 400
    assert "glitter" in str(response.json()["errors"]["allergens"])
    assert product("Latte").allergens == ["milk"]


@pytest.mark.parametrize("field", ["allergens", "removes_allergens"])
def test_the_database_refuses_an_option_allergen_outside_the_fourteen(menu, field):
    oat = option("Milk", "Oat")

    with pytest.raises(IntegrityError), transaction.atomic():
        Option.objects.filter(id=oat.id).update(**{field: ["gluten", "oats"]})

    assert option("Milk", "Oat").allergens == ["gluten"]


@pytest.mark.django_db(transaction=True)
def test_migration_renames_old_words_and_gives_the_seeded_milks_their_allergens():
    executor = MigrationExecutor(connection)
    executor.migrate([("menu", "0001_initial")])
    old = executor.loader.project_state([("menu", "0001_initial")]).apps
    coffee = old.get_model("menu", "Category").objects.create(name="Coffee")
    old.get_model("menu", "Product").objects.create(
        category=coffee, name="Donuts", base_price=200, allergens=["gluten", "egg", "soy", "milk"]
    )
    milk = old.get_model("menu", "OptionGroup").objects.create(name="Milk")
    for name in ("Whole", "Oat", "Almond", "Soy"):
        old.get_model("menu", "Option").objects.create(group=milk, name=name)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Product.objects.get(name="Donuts").allergens == ["gluten", "eggs", "soybeans", "milk"]
    assert list(
        Option.objects.order_by("id").values_list("name", "allergens", "removes_allergens")
    ) == [
        ("Whole", ["milk"], ["milk"]),
        ("Oat", ["gluten"], ["milk"]),
        ("Almond", ["tree_nuts"], ["milk"]),
        ("Soy", ["soybeans"], ["milk"]),
    ]
