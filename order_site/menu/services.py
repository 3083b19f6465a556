"""Writes to the menu: the demo seed and the managers' edits."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import transaction

from order_site.menu.models import Calories, Category, Option, OptionGroup, Product, Variation
from order_site.outbox.services import outbox_record
from shared.events import ORDER_EVENTS_TOPIC
from shared.problems import InvalidInput, NotFound

ChoiceRow = TypeVar("ChoiceRow", Variation, Option)

MENU_CHANGED = "menu.changed"
MENU_EVENT_KEY = "menu"  # one key: every menu event on one partition, in order


def menu_change_record(*, item: str, item_id: int | None, fields: list[str]) -> None:
    """Announce a menu write (`menu.changed` on `coffeeshop.order-events`), in the
    write's own transaction: the BFF drops its cached menu and tells every open
    browser to fetch it again. `item` is product, variation or option (the admin also
    sends category and optiongroup); `fields` the names changed (empty: created or
    deleted; the admin names an inline's model instead).
    """
    outbox_record(
        topic=ORDER_EVENTS_TOPIC,
        key=MENU_EVENT_KEY,
        event_type=MENU_CHANGED,
        payload={"item": item, "id": item_id, "fields": sorted(fields)},
    )


# (name, min, max, [(option, price delta in pence)])
SEED_OPTION_GROUPS: list[tuple[str, int, int, list[tuple[str, int]]]] = [
    ("Size", 1, 1, [("Small", 0), ("Medium", 40), ("Large", 80)]),
    ("Milk", 0, 1, [("Whole", 0), ("Oat", 40), ("Almond", 40), ("Soy", 30)]),
    ("Extra shot", 0, 1, [("Extra shot", 60)]),
]

# (category, product, base price, variation required, variation label,
#  [(variation, delta)], [option groups])
DRINK_GROUPS = ["Size", "Milk", "Extra shot"]
SEED_PRODUCTS: list[tuple[str, str, int, bool, str, list[tuple[str, int]], list[str]]] = [
    (
        "Coffee",
        "Latte",
        400,
        False,
        "Flavour",
        [("Pumpkin Spice", 50), ("Vanilla", 30), ("Hazelnut", 40)],
        DRINK_GROUPS,
    ),
    (
        "Coffee",
        "Espresso",
        250,
        True,
        "Shot",
        [("Single", 0), ("Double", 100)],
        ["Size", "Extra shot"],
    ),
    (
        "Coffee",
        "Macchiato",
        400,
        False,
        "Flavour",
        [("Caramel", 50), ("Vanilla", 30)],
        DRINK_GROUPS,
    ),
    (
        "Coffee",
        "Iced Coffee",
        350,
        True,
        "Style",
        [("Regular", 0), ("Sweetened", 30), ("Extra Ice", 20)],
        DRINK_GROUPS,
    ),
    (
        "Bakery",
        "Donuts",
        200,
        True,
        "Flavour",
        [("Glazed", 0), ("Jelly", 30), ("Boston Cream", 50)],
        [],
    ),
]
# Keys of shared/allergens.py. A milk drink lists milk (made with cow's milk unless a
# milk is chosen); each milk option adds its own and replaces the cow's milk.
SEED_ALLERGENS = {
    "Latte": ["milk"],
    "Macchiato": ["milk"],
    "Iced Coffee": ["milk"],
    "Donuts": ["gluten", "eggs", "milk", "soybeans"],
}
# (group, option) -> (allergens it adds, allergens of the product it replaces)
SEED_OPTION_ALLERGENS: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("Milk", "Whole"): (["milk"], ["milk"]),
    ("Milk", "Oat"): (["gluten"], ["milk"]),
    ("Milk", "Almond"): (["tree_nuts"], ["milk"]),
    ("Milk", "Soy"): (["soybeans"], ["milk"]),
}

# What a customer reads about each demo product: (description, photo key, dietary badges
# (shared/dietary.py), kcal by size name, or {"": kcal} for a product without sizes).
# Calories are for the drink as it comes: whole milk, no flavour, no extra shot.
SEED_FACTS: dict[str, tuple[str, str, list[str], dict[str, int]]] = {
    "Latte": (
        "A double shot of our house espresso under steamed milk and a thin layer of "
        "silky foam. Smooth, mellow, made to your size.",
        "latte",
        ["vegan_with_plant_milk", "caffeine"],
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
        ["vegan_with_plant_milk", "caffeine"],
        {"Small": 45, "Medium": 70, "Large": 100},
    ),
    "Iced Coffee": (
        "Cold-brewed for sixteen hours, poured over ice with a splash of milk. Bright "
        "and refreshing.",
        "iced-coffee",
        ["vegan_with_plant_milk", "caffeine"],
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


def _seed_calories(product: Product, groups: dict[str, OptionGroup]) -> int:
    """The seed's calories of a product just created (its sizes from the Size group)."""
    sizes = {o.name: o for o in Option.objects.filter(group=groups["Size"])}
    rows = [
        Calories(product=product, size=sizes[name] if name else None, kcal=kcal)
        for name, kcal in SEED_FACTS.get(product.name, ("", "", [], {}))[3].items()
    ]
    Calories.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def menu_seed() -> int:
    """Create the demo menu where it is missing; never overwrites a manager's edits.

    Returns how many rows were created (0 when the menu was already there).
    """
    created = 0
    groups: dict[str, OptionGroup] = {}
    for position, (group_name, minimum, maximum, options) in enumerate(SEED_OPTION_GROUPS):
        group, new = OptionGroup.objects.get_or_create(
            name=group_name,
            defaults={"min_selections": minimum, "max_selections": maximum, "position": position},
        )
        created += new
        groups[group_name] = group
        for opt_position, (option_name, delta) in enumerate(options):
            adds, replaces = SEED_OPTION_ALLERGENS.get((group_name, option_name), ([], []))
            _, new = Option.objects.get_or_create(
                group=group,
                name=option_name,
                defaults={
                    "price_delta": delta,
                    "position": opt_position,
                    "allergens": adds,
                    "removes_allergens": replaces,
                },
            )
            created += new
    categories: dict[str, Category] = {}
    for position, (
        category_name,
        name,
        price,
        required,
        label,
        variations,
        group_names,
    ) in enumerate(SEED_PRODUCTS):
        if category_name not in categories:
            categories[category_name], new = Category.objects.get_or_create(
                name=category_name, defaults={"position": len(categories)}
            )
            created += new
        description, photo, badges, _ = SEED_FACTS.get(name, ("", "", [], {}))
        product, new = Product.objects.get_or_create(
            name=name,
            defaults={
                "category": categories[category_name],
                "base_price": price,
                "variation_required": required,
                "variation_label": label,
                "allergens": SEED_ALLERGENS.get(name, []),
                "position": position,
                "description": description,
                "photo": photo,
                "badges": badges,
            },
        )
        created += new
        if new:
            product.option_groups.set([groups[g] for g in group_names])
            created += _seed_calories(product, groups)
        for var_position, (variation_name, delta) in enumerate(variations):
            _, new = Variation.objects.get_or_create(
                product=product,
                name=variation_name,
                defaults={"price_delta": delta, "position": var_position},
            )
            created += new
    # Not announced: the seed runs at deployment, before any menu is cached or open.
    return created


PRODUCT_FIELDS = {
    "name",
    "description",
    "base_price",
    "is_available",
    "allergens",
    "position",
    "variation_label",
    "photo",
    "badges",
}


def _calories_rows(
    *, product: Product, group_ids: set[int], calories: list[dict[str, Any]]
) -> list[Calories]:
    """The calories rows of `calories` (`[{"size_id": 12 or None, "kcal": 190}]`) for a
    product offering the option groups `group_ids`; raises InvalidInput naming
    `calories` when a size is not one of the product's sizes (an option of one of its
    groups of exactly one choice), is given twice, or a product with sizes is given
    calories without one."""
    size_ids = [row.get("size_id") for row in calories]
    sizes = {
        option.id: option
        for option in Option.objects.filter(
            id__in=[i for i in size_ids if i is not None],
            group_id__in=group_ids,
            group__min_selections=1,
            group__max_selections=1,
        )
    }
    problems = [
        f"{size_id} is not a size of {product.name}."
        for size_id in size_ids
        if size_id is not None and size_id not in sizes
    ]
    if len(set(size_ids)) != len(size_ids):
        problems.append("A size is given twice.")
    has_sizes = OptionGroup.objects.filter(
        id__in=group_ids, min_selections=1, max_selections=1
    ).exists()
    if has_sizes and None in size_ids:
        problems.append(f"{product.name} comes in sizes: give the calories of each size.")
    if problems:
        raise InvalidInput("Calories not accepted.", errors={"calories": problems})
    return [
        Calories(product=product, size=sizes.get(row.get("size_id") or 0), kcal=row["kcal"])
        for row in calories
    ]


def _calories_set(*, product: Product, group_ids: set[int], calories: list[dict[str, Any]]) -> None:
    rows = _calories_rows(product=product, group_ids=group_ids, calories=calories)
    Calories.objects.filter(product=product).delete()
    Calories.objects.bulk_create(rows)


@transaction.atomic
def product_create(
    *,
    category_id: int,
    name: str,
    base_price: int,
    description: str = "",
    currency: str = "GBP",
    is_available: bool = True,
    allergens: list[str] | None = None,
    variation_required: bool = True,
    variation_label: str = "Choice",
    option_group_ids: list[int] | None = None,
    photo: str = "",
    badges: list[str] | None = None,
    calories: list[dict[str, Any]] | None = None,
) -> Product:
    """A new product; raises InvalidInput for an unknown category or option group,
    a name already on the menu, or calories for a size it does not come in."""
    category = Category.objects.filter(id=category_id).first()
    if category is None:
        raise InvalidInput(
            f"Unknown category {category_id}.", errors={"category_id": ["Unknown category."]}
        )
    if Product.objects.filter(name=name).exists():
        raise InvalidInput(
            f"A product named {name!r} exists.", errors={"name": ["Already on the menu."]}
        )
    groups = list(OptionGroup.objects.filter(id__in=option_group_ids or []))
    if len(groups) != len(set(option_group_ids or [])):
        raise InvalidInput(
            "Unknown option group.", errors={"option_group_ids": ["Unknown option group."]}
        )
    product = Product.objects.create(
        category=category,
        name=name,
        base_price=base_price,
        description=description,
        currency=currency,
        is_available=is_available,
        allergens=allergens or [],
        variation_required=variation_required,
        variation_label=variation_label,
        photo=photo,
        badges=badges or [],
    )
    product.option_groups.set(groups)
    _calories_set(product=product, group_ids={g.id for g in groups}, calories=calories or [])
    menu_change_record(item="product", item_id=product.id, fields=[])
    return product


@transaction.atomic
def product_update(*, product_id: int, changes: dict[str, Any]) -> Product:
    """Change a product's own fields (name, description, base_price, is_available,
    allergens, position, variation_label, photo, badges) and its calories (`calories`:
    every size's, replacing those it had); raises NotFound or InvalidInput."""
    product = Product.objects.select_for_update().filter(id=product_id).first()
    if product is None:
        raise NotFound(f"No product {product_id}.")
    changes = dict(changes)
    calories = changes.pop("calories", None)
    if calories is not None:
        group_ids = set(product.option_groups.values_list("id", flat=True))
        _calories_set(product=product, group_ids=group_ids, calories=calories)
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise InvalidInput(
            "Unknown fields.", errors={name: ["Cannot be changed."] for name in sorted(unknown)}
        )
    taken = Product.objects.filter(name=changes.get("name")).exclude(id=product_id).exists()
    if "name" in changes and taken:
        raise InvalidInput("Name taken.", errors={"name": ["Already on the menu."]})
    for name, value in changes.items():
        setattr(product, name, value)
    product.save(update_fields=list(changes) or None)
    fields = list(changes) + (["calories"] if calories is not None else [])
    if fields:
        menu_change_record(item="product", item_id=product.id, fields=fields)
    return product


def _choice_update(
    model: type[ChoiceRow], item: str, row_id: int, changes: dict[str, int | bool | None]
) -> ChoiceRow:
    """Lock a variation or an option, set the fields given (None: unchanged), save them
    and record the menu change; raises NotFound."""
    row = model.objects.select_for_update().filter(id=row_id).first()
    if row is None:
        raise NotFound(f"No {item} {row_id}.")
    fields = [name for name, value in changes.items() if value is not None]
    for name in fields:
        setattr(row, name, changes[name])
    if fields:
        row.save(update_fields=fields)
        menu_change_record(item=item, item_id=row.id, fields=fields)
    return row


@transaction.atomic
def variation_update(
    *, variation_id: int, price_delta: int | None = None, is_available: bool | None = None
) -> Variation:
    """Change a variation's price delta or availability; raises NotFound."""
    return _choice_update(
        Variation,
        "variation",
        variation_id,
        {"price_delta": price_delta, "is_available": is_available},
    )


@transaction.atomic
def option_update(
    *, option_id: int, price_delta: int | None = None, is_available: bool | None = None
) -> Option:
    """Change an option's price delta or availability; raises NotFound."""
    return _choice_update(
        Option, "option", option_id, {"price_delta": price_delta, "is_available": is_available}
    )
