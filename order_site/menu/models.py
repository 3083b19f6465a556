"""The menu: products in categories, their variations (flavours) and option groups.

Prices are integers in the smallest currency unit (DESIGN.md, "Orders"). Sizes are
an option group with exactly one choice (min = max = 1), so one mechanism prices
and validates every choice a customer makes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from shared.allergens import ALLERGENS, unknown_allergens
from shared.dietary import BADGES, unknown_badges
from shared.photos import PHOTOS, unknown_photo

DEFAULT_CURRENCY = "GBP"
ALLERGEN_KEYS = list(ALLERGENS)
BADGE_KEYS = list(BADGES)
# A sanity bound: no drink or cake on a coffee shop's menu has more.
MAX_CALORIES = 3000


def validate_allergens(value: Any) -> None:
    """A list of keys of the 14 declarable allergens (shared/allergens.py)."""
    if not isinstance(value, list):
        raise ValidationError("A list of allergens.")
    unknown = unknown_allergens(value)
    if unknown:
        raise ValidationError(
            f"Not one of the 14 allergens: {', '.join(unknown)}. Use: {', '.join(ALLERGEN_KEYS)}."
        )


def validate_badges(value: Any) -> None:
    """A list of keys of the dietary badges (shared/dietary.py), each once."""
    if not isinstance(value, list):
        raise ValidationError("A list of badges.")
    unknown = unknown_badges(value)
    if unknown:
        raise ValidationError(f"Not a badge: {', '.join(unknown)}. Use: {', '.join(BADGE_KEYS)}.")
    if len(set(value)) != len(value):
        raise ValidationError("A badge is listed twice.")
    if {"vegan", "vegan_with_plant_milk"} <= set(value):
        raise ValidationError("Vegan, or vegan with plant milk: not both.")


def validate_photo(value: Any) -> None:
    """The key of a photo the shop ships (shared/photos.py), or "" for none."""
    unknown = unknown_photo(value)
    if unknown is not None:
        raise ValidationError(
            f"No photo {unknown!r} is shipped (wasm_client/static/photos/). "
            f"Use one of: {', '.join(PHOTOS)}."
        )


def _allergens_field(help_text: str) -> Any:
    return models.JSONField(
        default=list, blank=True, validators=[validate_allergens], help_text=help_text
    )


def _allergens_known(field: str, name: str) -> models.CheckConstraint:
    # The database holds the list too: a JSON array contained in the 14 keys.
    return models.CheckConstraint(
        condition=Q(**{f"{field}__contained_by": ALLERGEN_KEYS}), name=name
    )


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "name")
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class OptionGroup(models.Model):
    """A set of choices added to a product (Size, Milk, Extra shot, Syrup …)."""

    name = models.CharField(max_length=80, unique=True)
    min_selections = models.PositiveSmallIntegerField(default=0)
    max_selections = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_selections__lte=F("max_selections")),
                name="menu_optiongroup_min_le_max",
            ),
            models.CheckConstraint(
                condition=Q(max_selections__gte=1), name="menu_optiongroup_max_ge_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Option(models.Model):
    group = models.ForeignKey(OptionGroup, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=80)
    price_delta = models.IntegerField(default=0)
    is_available = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    allergens = _allergens_field("Allergens this option adds (oat milk: gluten).")
    removes_allergens = _allergens_field(
        "Allergens of the product this option replaces (any milk choice replaces the "
        "default cow's milk)."
    )

    class Meta:
        ordering = ("group", "position", "name")
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="menu_option_unique_name"),
            _allergens_known("allergens", "menu_option_allergens_known"),
            _allergens_known("removes_allergens", "menu_option_removes_allergens_known"),
        ]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.name}"


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    base_price = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    is_available = models.BooleanField(default=True)
    allergens = _allergens_field("Allergens of the product as it comes, before options.")
    # A product with variations needs one chosen unless this is False (a plain Latte is fine).
    variation_required = models.BooleanField(default=True)
    # What its variations are called on the customise page ("Flavour", "Shot" …): each
    # group of choices needs its own name, and "Size" is an option group already.
    variation_label = models.CharField(max_length=40, default="Choice")
    option_groups = models.ManyToManyField(OptionGroup, blank=True, related_name="products")
    position = models.PositiveSmallIntegerField(default=0)
    photo = models.CharField(
        max_length=40,
        blank=True,
        default="",
        validators=[validate_photo],
        help_text="One of the photos the shop ships (shared/photos.py); empty: none.",
    )
    badges = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_badges],
        help_text="Dietary badges of the product as it comes (vegan, contains caffeine …).",
    )

    class Meta:
        ordering = ("category__position", "position", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="menu_product_currency_iso"
            ),
            _allergens_known("allergens", "menu_product_allergens_known"),
            models.CheckConstraint(
                condition=Q(badges__contained_by=BADGE_KEYS), name="menu_product_badges_known"
            ),
            # The catalogue grows with the code; the database holds the key's shape.
            models.CheckConstraint(
                condition=Q(photo__regex=r"^([a-z0-9]+(-[a-z0-9]+)*)?$"),
                name="menu_product_photo_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Variation(models.Model):
    """A flavour or kind of a product (Vanilla Latte, Double Espresso …)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variations")
    name = models.CharField(max_length=80)
    price_delta = models.IntegerField(default=0)
    is_available = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("product", "position", "name")
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="menu_variation_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name}: {self.name}"


class Calories(models.Model):
    """The energy of a product in kcal, per size: one row per option of the product's
    size group (any group of exactly one choice), or one row without a size for a
    product that has none (a donut). As made by default (whole milk, no extras)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="calories")
    size = models.ForeignKey(
        Option,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="A size (an option of a group of exactly one choice); empty: no sizes.",
    )
    kcal = models.PositiveSmallIntegerField(validators=[MaxValueValidator(MAX_CALORIES)])

    class Meta:
        ordering = ("product", "size__position")
        verbose_name_plural = "calories"
        constraints = [
            models.UniqueConstraint(
                fields=["product", "size"],
                nulls_distinct=False,
                name="menu_calories_one_per_size",
            ),
            models.CheckConstraint(
                condition=Q(kcal__lte=MAX_CALORIES), name="menu_calories_kcal_at_most"
            ),
        ]

    def __str__(self) -> str:
        size = self.size.name if self.size_id and self.size else "any size"
        return f"{self.product_id}: {size} {self.kcal} kcal"
