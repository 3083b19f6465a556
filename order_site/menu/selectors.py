"""Reads of the menu."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, QuerySet

from order_site.menu.models import Calories, Category, Option, OptionGroup, Product, Variation
from shared.cart import Catalogue, MenuChoice, MenuGroup, MenuProduct
from shared.problems import NotFound

logger = logging.getLogger("coffeeshop.order.menu")

# Redis key changed (after commit) by every write of a menu row, in any process.
PRICING_VERSION_KEY = "menu:pricing-version"


def calories_by_size() -> QuerySet[Calories]:
    """Calories rows smallest size first (as the sizes are listed)."""
    return Calories.objects.order_by("size__position", "size__name")


def menu_categories() -> QuerySet[Category]:
    """Every category with its products, their variations and option groups with options."""
    groups = OptionGroup.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("position", "name"))
    )
    products = Product.objects.prefetch_related(
        Prefetch("variations", queryset=Variation.objects.order_by("position", "name")),
        Prefetch("option_groups", queryset=groups),
        Prefetch("calories", queryset=calories_by_size()),
    ).order_by("position", "name")
    return Category.objects.prefetch_related(Prefetch("products", queryset=products)).order_by(
        "position", "name"
    )


# ---- the menu as placements price it, cached per process --------------------------------


@dataclass(frozen=True)
class PricingMenu:
    """Every product (with variations and option groups) and option, by id, and the
    same menu as plain data for the cart validator (`shared.cart`). Read-only."""

    products: dict[int, Product]
    options: dict[int, Option]
    catalogue: Catalogue
    version: object
    expires: float
    # When the Redis version was last seen equal to `version` (time.monotonic()).
    checked: float

    def serves(self, product_ids: set[int], option_ids: set[int], now: float) -> bool:
        """Still young enough, and holding every id asked for."""
        return (
            now < self.expires
            and product_ids <= self.products.keys()
            and option_ids <= self.options.keys()
        )


_pricing: PricingMenu | None = None
_pricing_lock = threading.Lock()


def pricing_menu_forget() -> None:
    """Drop this process's copy (the next placement reads the menu again)."""
    global _pricing
    _pricing = None


def _ttl() -> float:
    # getattr: a site setting (order_site.config.settings.base), not in the mypy settings.
    return float(getattr(settings, "MENU_PRICING_CACHE_SECONDS", 30.0))


def _version_check_interval() -> float:
    return float(getattr(settings, "MENU_PRICING_VERSION_CHECK_SECONDS", 1.0))


def _pricing_version() -> object:
    try:
        return cache.get(PRICING_VERSION_KEY)
    except Exception as err:  # Redis down: read the database every time
        logger.warning("menu pricing version unreadable: %s", err)
        return object()  # equal to nothing: never a hit


def _choice(row: Variation | Option) -> MenuChoice:
    return MenuChoice(row.id, row.name, row.price_delta, row.is_available)


def catalogue_build(products: dict[int, Product], options: dict[int, Option]) -> Catalogue:
    """The plain-data menu `shared.cart` checks carts against, from prefetched rows
    (built once per load of the pricing copy, not per placement)."""
    by_group: dict[int, list[MenuChoice]] = {}
    for option in sorted(options.values(), key=lambda o: (o.position, o.name)):
        by_group.setdefault(option.group_id, []).append(_choice(option))
    return Catalogue(
        {
            product.id: MenuProduct(
                id=product.id,
                name=product.name,
                base_price=product.base_price,
                currency=product.currency,
                is_available=product.is_available,
                variation_required=product.variation_required,
                variations=tuple(_choice(v) for v in product.variations.all()),
                groups=tuple(
                    MenuGroup(
                        group.id,
                        group.name,
                        group.min_selections,
                        group.max_selections,
                        tuple(by_group.get(group.id, ())),
                    )
                    for group in product.option_groups.all()
                ),
            )
            for product in products.values()
        }
    )


def _pricing_load(version: object) -> PricingMenu:
    products = {
        product.id: product
        for product in Product.objects.prefetch_related(
            "variations", Prefetch("option_groups", queryset=OptionGroup.objects.all())
        )
    }
    options = {option.id: option for option in Option.objects.select_related("group")}
    return PricingMenu(
        products=products,
        options=options,
        catalogue=catalogue_build(products, options),
        version=version,
        expires=time.monotonic() + _ttl(),
        checked=time.monotonic(),
    )


def pricing_menu(
    *, product_ids: set[int], option_ids: set[int], recheck: bool = False
) -> PricingMenu:
    """The menu placements price from, without a database query while it is current.

    A copy is kept per process and used while it is younger than
    MENU_PRICING_CACHE_SECONDS and the Redis pricing version (changed after every
    committed menu write, see `order_site.menu.signals`) is the one it was read under.
    That version is looked up at most every MENU_PRICING_VERSION_CHECK_SECONDS (1 s)
    per process, so a write elsewhere reaches this process's prices within a second
    (a write in this process at once); placements pay no Redis round trip meanwhile;
    a copy lacking a requested id is read again. The version is read before the rows,
    so a write committing meanwhile makes the next call read again. `recheck` looks the
    version up now, whenever it was last seen (a placement about to be refused asks).
    """
    global _pricing
    current = _pricing
    now = time.monotonic()
    if current is not None and current.serves(product_ids, option_ids, now):
        if not recheck and now - current.checked < _version_check_interval():
            return current  # the version was current a moment ago: no Redis round trip
        version = _pricing_version()
        if current.version == version:
            _pricing = dataclasses.replace(current, checked=now)
            return _pricing
    else:
        version = _pricing_version()
    with _pricing_lock:  # one read per process when the copy goes stale under load
        current = _pricing
        if (
            current is None
            or current.version != version
            or not current.serves(product_ids, option_ids, time.monotonic())
        ):
            current = _pricing_load(version)
        if _ttl() > 0:
            _pricing = current
        return current


def menu_product(*, product_id: int) -> Product:
    """One product with its variations and option groups; raises NotFound."""
    product = (
        Product.objects.filter(id=product_id)
        .prefetch_related(
            "variations",
            "option_groups__options",
            Prefetch("calories", queryset=calories_by_size()),
        )
        .first()
    )
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product
