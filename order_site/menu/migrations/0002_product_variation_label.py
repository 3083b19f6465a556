"""Product.variation_label: the name of a product's group of variations ("Flavour" …).

The demo products that `menu_seed` made before this field existed get their labels
here, as a fresh seed gives them (order_site/menu/services.py SEED_PRODUCTS).
"""

from django.db import migrations, models

SEEDED_LABELS = {
    "Latte": "Flavour",
    "Espresso": "Shot",
    "Macchiato": "Flavour",
    "Iced Coffee": "Style",
    "Donuts": "Flavour",
}


def label_seeded_products(apps, schema_editor):
    Product = apps.get_model("menu", "Product")
    for name, label in SEEDED_LABELS.items():
        Product.objects.filter(name=name, variation_label="Choice").update(variation_label=label)


class Migration(migrations.Migration):
    dependencies = [
        ("menu", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="variation_label",
            field=models.CharField(default="Choice", max_length=40),
        ),
        migrations.RunPython(label_seeded_products, migrations.RunPython.noop),
    ]
