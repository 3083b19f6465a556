"""A manager's menu edits (`PATCH /api/manage/<products|variations|options>/<id>`).

Managers only (a barista or customer is answered 403 before Order is called). The body
is checked here so a bad one is refused naming its field and nothing reaches Order;
Order checks again and writes, announcing `menu.changed` (which refreshes every open
menu through `bff-live`). This BFF's cached menu is dropped at once as well, so the
manager's next read shows the edit.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from bff_site.clients import order as order_client
from bff_site.gateway import selectors
from bff_site.sessions.apiview import SessionAPIView, json_object
from bff_site.sessions.authentication import Manager, SignedIn, Staff, signed_in_caller
from shared.openapi import closed, problems
from shared.problems import InvalidInput

MAX_DESCRIPTION = 2000
MAX_PRICE = 100_000  # pence: £1,000 is no coffee's price; a typo's likely
# What a manager may change on each kind of menu item, and how each value is checked.
FIELDS = {
    "product": ("description", "base_price", "is_available"),
    "variation": ("price_delta", "is_available"),
    "option": ("price_delta", "is_available"),
}


def _check(name: str, value: Any) -> str | None:
    """What is wrong with one value, or None."""
    if name == "is_available":
        return None if isinstance(value, bool) else "Must be true or false."
    if name == "description":
        if not isinstance(value, str):
            return "Must be text."
        return None if len(value) <= MAX_DESCRIPTION else f"At most {MAX_DESCRIPTION} characters."
    if isinstance(value, bool) or not isinstance(value, int):
        return "Must be a whole number of pence."
    low = 0 if name == "base_price" else -MAX_PRICE
    if not low <= value <= MAX_PRICE:
        return f"Must be between {low} and {MAX_PRICE}."
    return None


def menu_changes_check(*, item: str, body: dict[str, Any]) -> dict[str, Any]:
    """The changes in `body`, or InvalidInput naming every wrong or unknown field."""
    allowed = FIELDS[item]
    errors: dict[str, list[str]] = {}
    for name in sorted(body):
        if name not in allowed:
            article = "an" if item[0] in "aeiou" else "a"
            errors[name] = [f"Cannot be changed here; {article} {item} takes {', '.join(allowed)}."]
        elif (fault := _check(name, body[name])) is not None:
            errors[name] = [fault]
    if errors:
        raise InvalidInput("Some fields are wrong.", errors=errors)
    if not body:
        raise InvalidInput(
            "Nothing to change.", errors={"body": [f"Send one of: {', '.join(allowed)}."]}
        )
    return dict(body)


@closed
class ProductChangesSerializer(serializers.Serializer[Any]):
    description = serializers.CharField(max_length=MAX_DESCRIPTION, required=False)
    base_price = serializers.IntegerField(min_value=0, max_value=MAX_PRICE, required=False)
    is_available = serializers.BooleanField(required=False)


@closed
class PriceChangesSerializer(serializers.Serializer[Any]):
    """A variation's or an option's changes."""

    price_delta = serializers.IntegerField(
        min_value=-MAX_PRICE, max_value=MAX_PRICE, required=False
    )
    is_available = serializers.BooleanField(required=False)


ERRORS = problems("400", "401", "403", "404", "503")


class MenuItemUpdateApi(SessionAPIView):
    """A manager changes one menu item of the kind `item`."""

    item = ""
    permission_classes = [SignedIn, Staff, Manager]
    manager_action = "change the menu"

    def update(self, request: Request, item_id: int) -> Response:
        changes = menu_changes_check(item=self.item, body=json_object(request))
        updated = order_client.menu_item_update(
            user=signed_in_caller(request), item=self.item, item_id=item_id, changes=changes
        )
        selectors.menu_invalidate()
        return Response(updated)


class ProductUpdateApi(MenuItemUpdateApi):
    item = "product"

    @extend_schema(
        summary="A manager changes a product (sold out or back, price, description)",
        request=ProductChangesSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def patch(self, request: Request, product_id: int) -> Response:
        return self.update(request, product_id)


class VariationUpdateApi(MenuItemUpdateApi):
    item = "variation"

    @extend_schema(
        summary="A manager changes a variation (sold out or back, price)",
        request=PriceChangesSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def patch(self, request: Request, variation_id: int) -> Response:
        return self.update(request, variation_id)


class OptionUpdateApi(MenuItemUpdateApi):
    item = "option"

    @extend_schema(
        summary="A manager changes an option (sold out or back, price)",
        request=PriceChangesSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def patch(self, request: Request, option_id: int) -> Response:
        return self.update(request, option_id)
