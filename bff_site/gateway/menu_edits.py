"""A manager's menu edits (`PATCH /api/manage/<products|variations|options>/<id>`).

Managers only (a barista or customer is answered 403 before Order is called). The body
is checked here so a bad one is refused naming its field and nothing reaches Order;
Order checks again and writes, announcing `menu.changed` (which refreshes every open
menu through `bff-live`). This BFF's cached menu is dropped at once as well, so the
manager's next read shows the edit.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from bff_site.clients import order as order_client
from bff_site.gateway import selectors
from bff_site.gateway.apis import _json_body, api
from shared.problems import DomainError, InvalidInput

MAX_DESCRIPTION = 2000
MAX_PRICE = 100_000  # pence: £1,000 is no coffee's price; a typo's likely
# What a manager may change on each kind of menu item, and how each value is checked.
FIELDS = {
    "product": ("description", "base_price", "is_available"),
    "variation": ("price_delta", "is_available"),
    "option": ("price_delta", "is_available"),
}


class ManagersOnly(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


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


def _edit(request: HttpRequest, user: dict[str, Any], item: str, item_id: int) -> HttpResponse:
    if "manager" not in user.get("roles", []):
        raise ManagersOnly("Only a manager can change the menu.")
    changes = menu_changes_check(item=item, body=_json_body(request))
    updated = order_client.menu_item_update(user=user, item=item, item_id=item_id, changes=changes)
    selectors.menu_invalidate()
    return JsonResponse(updated)


@require_http_methods(["PATCH"])
@api(staff=True)
def product_update(request: HttpRequest, user: dict[str, Any], product_id: int) -> HttpResponse:
    return _edit(request, user, "product", product_id)


@require_http_methods(["PATCH"])
@api(staff=True)
def variation_update(request: HttpRequest, user: dict[str, Any], variation_id: int) -> HttpResponse:
    return _edit(request, user, "variation", variation_id)


@require_http_methods(["PATCH"])
@api(staff=True)
def option_update(request: HttpRequest, user: dict[str, Any], option_id: int) -> HttpResponse:
    return _edit(request, user, "option", option_id)
