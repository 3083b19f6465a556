"""Reads of the menu."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from order_site.menu.models import Category, Option, OptionGroup, Product, Variation
from shared.problems import NotFound


def menu_categories() -> QuerySet[Category]:
    """Every category with its products, their variations and option groups with options."""
    groups = OptionGroup.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("position", "name"))
    )
    products = Product.objects.prefetch_related(
        Prefetch("variations", queryset=Variation.objects.order_by("position", "name")),
        Prefetch("option_groups", queryset=groups),
    ).order_by("position", "name")
    return Category.objects.prefetch_related(Prefetch("products", queryset=products)).order_by(
        "position", "name"
    )


def products_for_order(product_ids: set[int]) -> dict[int, Product]:
    """The products an order names, with variations and option groups, by id."""
    products = Product.objects.filter(id__in=product_ids).prefetch_related(
        "variations", Prefetch("option_groups", queryset=OptionGroup.objects.all())
    )
    return {product.id: product for product in products}


def options_by_id(option_ids: set[int]) -> dict[int, Option]:
    return {
        option.id: option
        for option in Option.objects.filter(id__in=option_ids).select_related("group")
    }


def menu_product(*, product_id: int) -> Product:
    """One product with its variations and option groups; raises NotFound."""
    product = (
        Product.objects.filter(id=product_id)
        .prefetch_related("variations", "option_groups__options")
        .first()
    )
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product
