"""Cache invalidation of the menu placements price from (`selectors.pricing_menu`).

Signals here only invalidate a cache; they carry no domain flow. Every write of a
menu row through the ORM (services, admin, seeding) drops this process's copy at
once and, after its transaction commits, changes the Redis pricing version so every
other process reads the menu again. A write that bypasses the ORM's signals
(`QuerySet.update`, raw SQL) is picked up within MENU_PRICING_CACHE_SECONDS.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from order_site.menu.models import Option, OptionGroup, Product, Variation
from order_site.menu.selectors import PRICING_VERSION_KEY, pricing_menu_forget

logger = logging.getLogger("coffeeshop.order.menu")


def _publish_version() -> None:
    try:
        cache.set(PRICING_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception as err:  # the TTL still bounds how stale copies get
        logger.warning("menu pricing version not changed: %s", err)


def menu_changed(**_: Any) -> None:
    pricing_menu_forget()
    transaction.on_commit(_publish_version)
    transaction.on_commit(pricing_menu_forget)  # a read during the transaction saw it


def connect() -> None:
    for model in (Product, Variation, OptionGroup, Option):
        post_save.connect(menu_changed, sender=model, dispatch_uid=f"menu-pricing-{model}")
        post_delete.connect(menu_changed, sender=model, dispatch_uid=f"menu-pricing-d-{model}")
    m2m_changed.connect(
        menu_changed, sender=Product.option_groups.through, dispatch_uid="menu-pricing-m2m"
    )
