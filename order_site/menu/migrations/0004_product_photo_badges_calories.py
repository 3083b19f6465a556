"""Products get a photo (a key of shared/photos.py), dietary badges (shared/dietary.py)
and calories per size (menu.Calories).

The demo products that `menu_seed` made before these existed get theirs here, as a
fresh seed gives them (order_site/menu/services.py SEED_FACTS), where a manager has not
written anything yet: an empty description, no photo, no badges, no calories.
"""

import django.core.validators
import django.db.models.deletion
import order_site.menu.models
from django.db import migrations, models

BADGE_KEYS = ["vegan", "vegan_with_plant_milk", "vegetarian", "caffeine"]
DRINK = ["vegan_with_plant_milk", "caffeine"]
# name: (description, photo, badges, kcal by size name; "" for a product without sizes)
SEEDED = {
    "Latte": (
        "A double shot of our house espresso under steamed milk and a thin layer of "
        "silky foam. Smooth, mellow, made to your size.",
        "latte",
        DRINK,
        {"Small": 140, "Medium": 190, "Large": 250},
    ),
    "Espresso": (
        "Our house blend pulled short: dark chocolate and toasted hazelnut under a thick "
        "golden crema.",
        "espresso",
        ["vegan", "caffeine"],
        {"Small": 3, "Medium": 5, "Large": 8},
    ),
    "Macchiato": (
        "Espresso marked with a spoonful of foamed milk; add caramel or vanilla for "
        "something sweeter.",
        "macchiato",
        DRINK,
        {"Small": 45, "Medium": 70, "Large": 100},
    ),
    "Iced Coffee": (
        "Cold-brewed for sixteen hours, poured over ice with a splash of milk. Bright "
        "and refreshing.",
        "iced-coffee",
        DRINK,
        {"Small": 40, "Medium": 60, "Large": 80},
    ),
    "Donuts": (
        "Soft yeast-raised donuts made every morning: classic glaze, raspberry jam or "
        "Boston cream.",
        "donuts",
        ["vegetarian"],
        {"": 260},
    ),
}


def seeded_facts(apps, schema_editor):
    Product = apps.get_model("menu", "Product")
    Option = apps.get_model("menu", "Option")
    Calories = apps.get_model("menu", "Calories")
    sizes = {o.name: o for o in Option.objects.filter(group__name="Size")}
    for product in Product.objects.filter(name__in=list(SEEDED)):
        description, photo, badges, kcal = SEEDED[product.name]
        changed = []
        if not product.description:
            product.description, changed = description, [*changed, "description"]
        if not product.photo:
            product.photo, changed = photo, [*changed, "photo"]
        if not product.badges:
            product.badges, changed = badges, [*changed, "badges"]
        if changed:
            product.save(update_fields=changed)
        if Calories.objects.filter(product=product).exists():
            continue
        if any(name and name not in sizes for name in kcal):
            continue  # the Size group was changed by hand: leave it to the manager
        Calories.objects.bulk_create(
            Calories(product=product, size=sizes[name] if name else None, kcal=value)
            for name, value in kcal.items()
        )


class Migration(migrations.Migration):

    dependencies = [
        ("menu", "0003_option_allergens"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="photo",
            field=models.CharField(
                blank=True,
                default="",
                help_text="One of the photos the shop ships (shared/photos.py); empty: none.",
                max_length=40,
                validators=[order_site.menu.models.validate_photo],
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="badges",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Dietary badges of the product as it comes (vegan, contains caffeine …).",
                validators=[order_site.menu.models.validate_badges],
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("badges__contained_by", BADGE_KEYS)),
                name="menu_product_badges_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("photo__regex", "^([a-z0-9]+(-[a-z0-9]+)*)?$")),
                name="menu_product_photo_key",
            ),
        ),
        migrations.CreateModel(
            name="Calories",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kcal",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MaxValueValidator(3000)]
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calories",
                        to="menu.product",
                    ),
                ),
                (
                    "size",
                    models.ForeignKey(
                        blank=True,
                        help_text="A size (an option of a group of exactly one choice); empty: no sizes.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="menu.option",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "calories",
                "ordering": ("product", "size__position"),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("product", "size"),
                        name="menu_calories_one_per_size",
                        nulls_distinct=False,
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kcal__lte", 3000)), name="menu_calories_kcal_at_most"
                    ),
                ],
            },
        ),
        migrations.RunPython(seeded_facts, migrations.RunPython.noop),
    ]
