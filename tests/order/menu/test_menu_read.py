"""A menu a person wants to read (issue 17): every product has a description, a photo the
shop ships, dietary badges and calories per size; the menu API shows them, managers set
them (API and admin), and what is wrong is refused naming it, with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from order_site.menu.admin import ProductAdminForm
from order_site.menu.models import Calories, Category, Product
from order_site.menu.services import SEED_PRODUCTS, menu_seed
from order_site.outbox.models import OutboxEvent
from shared.admin_oidc.views import admin_user_sync
from shared.dietary import BADGES
from shared.photos import PHOTOS
from tests.order.conftest import option, product

pytestmark = pytest.mark.django_db


def menu_product(menu_json: list, name: str) -> dict:
    return next(p for c in menu_json for p in c["products"] if p["name"] == name)


def calories_of(name: str) -> list[tuple[str | None, int]]:
    return [
        (row.size.name if row.size else None, row.kcal)
        for row in Calories.objects.filter(product__name=name).order_by("size__position")
    ]


def menu_events() -> int:
    return OutboxEvent.objects.filter(event_type="menu.changed").count()


def test_menu_api_shows_each_products_photo_badges_and_calories_per_size(menu, client_for):
    body = client_for(None).get("/api/menu/").json()

    latte = menu_product(body, "Latte")
    assert latte["photo"] == "latte"
    assert latte["badges"] == ["vegan_with_plant_milk", "caffeine"]
    assert latte["calories"] == [
        {"size_id": option("Size", "Small").id, "kcal": 140},
        {"size_id": option("Size", "Medium").id, "kcal": 190},
        {"size_id": option("Size", "Large").id, "kcal": 250},
    ]
    assert latte["description"].startswith("A double shot of our house espresso")
    donuts = menu_product(body, "Donuts")
    assert (donuts["photo"], donuts["badges"]) == ("donuts", ["vegetarian"])
    assert donuts["calories"] == [{"size_id": None, "kcal": 260}]


def test_every_seeded_product_has_a_description_a_shipped_photo_badges_and_calories(menu):
    names = [row[1] for row in SEED_PRODUCTS]

    for name in names:
        seeded = product(name)
        assert len(seeded.description) > 40, name
        assert seeded.photo in PHOTOS, name
        assert seeded.badges, name
        assert set(seeded.badges) <= set(BADGES), name
        assert calories_of(name), name
    assert calories_of("Espresso") == [("Small", 3), ("Medium", 5), ("Large", 8)]


def test_seeding_again_keeps_a_managers_changes(menu, client_for, manager):
    latte = product("Latte")
    client_for(manager).patch(
        f"/api/menu/products/{latte.id}/",
        {"badges": ["caffeine"], "photo": "cup"},
        format="json",
    )

    assert menu_seed() == 0
    assert (product("Latte").badges, product("Latte").photo) == (["caffeine"], "cup")


def test_a_manager_creates_a_product_with_photo_badges_and_calories(menu, client_for, manager):
    coffee = Category.objects.get(name="Coffee")
    size = option("Size", "Small").group

    response = client_for(manager).post(
        "/api/menu/products/",
        {
            "category_id": coffee.id,
            "name": "Flat White",
            "base_price": 380,
            "description": "Ristretto and velvety milk.",
            "option_group_ids": [size.id],
            "photo": "cup",
            "badges": ["vegan_with_plant_milk", "caffeine"],
            "calories": [
                {"size_id": option("Size", "Small").id, "kcal": 110},
                {"size_id": option("Size", "Large").id, "kcal": 170},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["photo"], body["badges"]) == ("cup", ["vegan_with_plant_milk", "caffeine"])
    assert body["calories"] == [
        {"size_id": option("Size", "Small").id, "kcal": 110},
        {"size_id": option("Size", "Large").id, "kcal": 170},
    ]
    assert calories_of("Flat White") == [("Small", 110), ("Large", 170)]


def test_a_managers_new_calories_replace_the_old_and_are_announced(menu, client_for, manager):
    latte = product("Latte")
    before = menu_events()

    response = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/",
        {"calories": [{"size_id": option("Size", "Medium").id, "kcal": 200}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["calories"] == [{"size_id": option("Size", "Medium").id, "kcal": 200}]
    assert calories_of("Latte") == [("Medium", 200)]
    assert menu_events() == before + 1
    event = OutboxEvent.objects.filter(event_type="menu.changed").latest("id")
    assert event.envelope["payload"]["fields"] == ["calories"]


def _small() -> int:
    return option("Size", "Small").id


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        ({"calories": [{"size_id": "small", "kcal": -5}]}, "calories", "valid integer"),
        ({"calories": [{"size_id": None, "kcal": -5}]}, "calories", "greater than or equal to 0"),
        ({"calories": [{"size_id": None, "kcal": 3001}]}, "calories", "less than or equal to 3000"),
        ({"calories": [{"size_id": None, "kcal": "lots"}]}, "calories", "valid integer"),
        ({"badges": ["vegan", "keto"]}, "badges", '"keto" is not a badge'),
        ({"badges": ["vegan", "vegan"]}, "badges", "listed twice"),
        ({"badges": ["vegan", "vegan_with_plant_milk"]}, "badges", "not both"),
        ({"photo": "latte.jpg"}, "photo", 'No photo "latte.jpg" is shipped'),
        ({"photo": "https://example.com/latte.png"}, "photo", "No photo"),
    ],
)
def test_bad_photo_badges_or_calories_are_refused_naming_the_field_and_nothing_changes(
    menu, client_for, manager, change, field, said
):
    latte = product("Latte")
    before = (latte.photo, latte.badges, calories_of("Latte"), menu_events())

    response = client_for(manager).patch(f"/api/menu/products/{latte.id}/", change, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert said in str(response.json()["errors"][field])
    latte.refresh_from_db()
    assert (latte.photo, latte.badges, calories_of("Latte"), menu_events()) == before


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (lambda: [{"size_id": option("Milk", "Oat").id, "kcal": 90}], "is not a size of Latte"),
        (lambda: [{"size_id": None, "kcal": 190}], "Latte comes in sizes"),
        (
            lambda: [{"size_id": _small(), "kcal": 140}, {"size_id": _small(), "kcal": 150}],
            "A size is given twice",
        ),
        (lambda: [{"size_id": 999999, "kcal": 140}], "999999 is not a size of Latte"),
    ],
)
def test_calories_for_a_size_the_product_does_not_come_in_are_refused(
    menu, client_for, manager, rows, said
):
    latte = product("Latte")
    before = (calories_of("Latte"), menu_events())

    response = client_for(manager).patch(
        f"/api/menu/products/{latte.id}/", {"calories": rows()}, format="json"
    )

    assert response.status_code == 400
    assert said in str(response.json()["errors"]["calories"])
    assert (calories_of("Latte"), menu_events()) == before


def test_a_product_without_sizes_takes_one_figure_and_no_size(menu, client_for, manager):
    donuts = product("Donuts")

    refused = client_for(manager).patch(
        f"/api/menu/products/{donuts.id}/",
        {"calories": [{"size_id": _small(), "kcal": 300}]},
        format="json",
    )
    taken = client_for(manager).patch(
        f"/api/menu/products/{donuts.id}/",
        {"calories": [{"size_id": None, "kcal": 280}]},
        format="json",
    )

    assert refused.status_code == 400
    assert f"{_small()} is not a size of Donuts." in refused.json()["errors"]["calories"]
    assert taken.status_code == 200
    assert calories_of("Donuts") == [(None, 280)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("badges", ["vegan", "keto"]), ("photo", "Latte Photo!"), ("photo", "../etc/passwd")],
)
def test_the_database_refuses_an_unknown_badge_or_a_photo_key_of_the_wrong_shape(
    menu, field, value
):
    latte = product("Latte")

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(id=latte.id).update(**{field: value})

    assert getattr(product("Latte"), field) == getattr(latte, field)


def test_the_database_refuses_impossible_calories_and_two_figures_for_one_size(menu):
    donuts = product("Donuts")
    latte = product("Latte")

    with pytest.raises(IntegrityError), transaction.atomic():
        Calories.objects.filter(product=donuts).update(kcal=3001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Calories.objects.create(product=donuts, size=None, kcal=100)  # a second "no size"
    with pytest.raises(IntegrityError), transaction.atomic():
        Calories.objects.create(product=latte, size=option("Size", "Small"), kcal=100)

    assert calories_of("Donuts") == [(None, 260)]


# ---- Django admin --------------------------------------------------------------------


@pytest.fixture
def admin_pages_render(settings: Any) -> None:
    """Admin pages link static files; tests have no collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _manager_in_admin() -> Client:
    user = admin_user_sync(
        claims={"sub": "sub-manager", "email": "m@x.test", "name": "M", "roles": ["manager"]}
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("admin_pages_render")
def test_a_manager_picks_a_shipped_photo_ticks_badges_and_edits_calories_in_the_admin(menu):
    latte = product("Latte")

    page = _manager_in_admin().get(f"/admin/menu/product/{latte.id}/change/").content.decode()

    assert '<select name="photo"' in page
    assert '<option value="latte" selected>' in page
    for key in PHOTOS:
        assert f'<option value="{key}"' in page
    assert 'type="checkbox" name="badges" value="caffeine"' in page
    assert 'name="calories-TOTAL_FORMS" value="3"' in page
    assert 'name="calories-0-kcal" value="140"' in page


def _form_data(product_row: Product, **changes: Any) -> dict[str, Any]:
    data = {
        "category": product_row.category_id,
        "name": product_row.name,
        "description": product_row.description,
        "photo": product_row.photo,
        "badges": list(product_row.badges),
        "base_price": product_row.base_price,
        "currency": product_row.currency,
        "is_available": product_row.is_available,
        "allergens": '["milk"]',
        "variation_required": product_row.variation_required,
        "variation_label": product_row.variation_label,
        "option_groups": list(product_row.option_groups.values_list("id", flat=True)),
        "position": product_row.position,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [({"photo": "latte.png"}, "photo"), ({"badges": ["keto"]}, "badges")],
)
def test_the_admin_form_refuses_a_photo_not_shipped_and_an_unknown_badge(menu, change, field):
    form = ProductAdminForm(data=_form_data(product("Latte"), **change), instance=product("Latte"))

    assert not form.is_valid()
    assert "Select a valid choice" in str(form.errors[field])


@pytest.mark.usefixtures("admin_pages_render")
def test_the_admin_refuses_negative_or_absurd_calories_naming_the_row(menu):
    latte = product("Latte")
    rows = list(Calories.objects.filter(product=latte).order_by("size__position"))
    data = {
        **_form_data(latte),
        "variations-TOTAL_FORMS": "0",
        "variations-INITIAL_FORMS": "0",
        "calories-TOTAL_FORMS": str(len(rows)),
        "calories-INITIAL_FORMS": str(len(rows)),
    }
    for n, row in enumerate(rows):
        data.update(
            {
                f"calories-{n}-id": row.id,
                f"calories-{n}-product": latte.id,
                f"calories-{n}-size": row.size_id,
                f"calories-{n}-kcal": row.kcal,
            }
        )
    data["calories-0-kcal"] = "-10"
    data["calories-1-kcal"] = "9000"
    before = calories_of("Latte")

    page = _manager_in_admin().post(f"/admin/menu/product/{latte.id}/change/", data)

    assert page.status_code == 200  # the form again, with the errors
    html = page.content.decode()
    assert "Ensure this value is greater than or equal to 0." in html
    assert "Ensure this value is less than or equal to 3000." in html
    assert calories_of("Latte") == before
