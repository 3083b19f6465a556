"""Menu rows, written through the ORM as the seed and the admin write them (the
pricing cache hears of each write). Prices are in pence; names are unique."""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from order_site.menu.models import (
    DEFAULT_CURRENCY,
    Category,
    Option,
    OptionGroup,
    Product,
    Variation,
)


class CategoryFactory(DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class OptionGroupFactory(DjangoModelFactory[OptionGroup]):
    """Optional, one choice at most; `min_selections=1` makes the choice required."""

    class Meta:
        model = OptionGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    min_selections = 0
    max_selections = 1


class OptionFactory(DjangoModelFactory[Option]):
    class Meta:
        model = Option

    group = factory.SubFactory(OptionGroupFactory)
    name = factory.Sequence(lambda n: f"Option {n}")
    price_delta = 0


class ProductFactory(DjangoModelFactory[Product]):
    """An available product at 3.00 with no variations; `option_groups=[…]` offers groups."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    base_price = 300
    currency = DEFAULT_CURRENCY
    variation_required = False

    @factory.post_generation
    def option_groups(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.option_groups.set(extracted)


class VariationFactory(DjangoModelFactory[Variation]):
    class Meta:
        model = Variation

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Variation {n}")
    price_delta = 0
