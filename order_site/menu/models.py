"""The menu: products in categories, their variations (flavours) and option groups.

Prices are integers in the smallest currency unit (DESIGN.md, "Orders"). Sizes are
an option group with exactly one choice (min = max = 1), so one mechanism prices
and validates every choice a customer makes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from shared.allergens import ALLERGENS, unknown_allergens

DEFAULT_CURRENCY = "GBP"
ALLERGEN_KEYS = list(ALLERGENS)


def validate_allergens(value: Any) -> None:
    """A list of keys of the 14 declarable allergens (shared/allergens.py)."""
    if not isinstance(value, list):
        raise ValidationError("A list of allergens.")
    unknown = unknown_allergens(value)
    if unknown:
        raise ValidationError(
            f"Not one of the 14 allergens: {', '.join(unknown)}. Use: {', '.join(ALLERGEN_KEYS)}."
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

    class Meta:
        ordering = ("category__position", "position", "name")
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="menu_product_currency_iso"
            ),
            _allergens_known("allergens", "menu_product_allergens_known"),
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
