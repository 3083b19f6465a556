"""The menu: products in categories, their variations (flavours) and option groups.

Prices are integers in the smallest currency unit (DESIGN.md, "Orders"). Sizes are
an option group with exactly one choice (min = max = 1), so one mechanism prices
and validates every choice a customer makes.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

DEFAULT_CURRENCY = "GBP"


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

    class Meta:
        ordering = ("group", "position", "name")
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="menu_option_unique_name"),
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
    allergens = models.JSONField(default=list, blank=True)
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
