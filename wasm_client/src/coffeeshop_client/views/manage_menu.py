"""The manager's "Menu" page (`/manage/menu`): mark a product, variation or option sold
out or back, and change prices and descriptions (`PATCH /api/manage/...`).

Each item is one <form data-action="menu-edit">, carrying its kind and id, with a
price field in pounds (and a description for a product); its "Sold out" / "Back on"
button is a `data-action="menu-availability"` click. An option group shared by
several products (Milk) is listed once.
"""

from __future__ import annotations

from coffeeshop_client import prices
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Choice, OptionGroup, Product
from coffeeshop_client.prices import pounds
from coffeeshop_client.state import State
from coffeeshop_client.views.components import managers_only


def _availability(state: State, item: str, item_id: int, available: bool, name: str) -> Markup:
    busy = f"menu-{item}-{item_id}" in state.busy
    return h(
        "button",
        {
            "type": "button",
            "id": f"avail-{item}-{item_id}",
            "class_": "btn btn-quiet" if available else "btn",
            "data_action": "menu-availability",
            "data_item": item,
            "data_id": str(item_id),
            "data_available": "false" if available else "true",
            "data_testid": f"avail-{item}-{item_id}",
            "aria_label": f"Mark {name} sold out" if available else f"Put {name} back on",
            "disabled": busy,
        },
        "Mark sold out" if available else "Back on",
    )


def _row(
    state: State,
    *,
    item: str,
    item_id: int,
    name: str,
    price: int,
    available: bool,
    description: str | None = None,
) -> Markup:
    """One item: its name, state, price (and description) fields, Save and availability."""
    key = f"{item}-{item_id}"
    busy = f"menu-{key}" in state.busy
    price_field = "base_price" if item == "product" else "price_delta"
    price_label = "Price (£)" if item == "product" else "Extra (£)"
    fields: list[object] = [
        h("label", {"for_": f"price-{key}"}, price_label),
        h(
            "input",
            {
                "type": "text",
                "inputmode": "decimal",
                "id": f"price-{key}",
                "name": price_field,
                "value": pounds(price),
                "size": 6,
                "data_testid": f"price-{key}",
            },
        ),
    ]
    if description is not None:
        fields += [
            h("label", {"for_": f"description-{key}"}, "Description"),
            h(
                "textarea",
                {
                    "id": f"description-{key}",
                    "name": "description",
                    "rows": 2,
                    "maxlength": 2000,
                    "data_testid": f"description-{key}",
                },
                description,
            ),
        ]
    error = state.menu_edit_errors.get(key)
    return h(
        "li",
        {"class_": "manage-item" + ("" if available else " is-sold-out"), "data_testid": key},
        h(
            "form",
            {"data_action": "menu-edit", "data_item": item, "data_id": str(item_id)},
            h("span", {"class_": "manage-name"}, name),
            " ",
            h("span", {"class_": "sold-out"}, "Sold out") if not available else "",
            h("div", {"class_": "manage-fields"}, fields),
            h(
                "button",
                {
                    "type": "submit",
                    "id": f"save-{key}",
                    "class_": "btn",
                    "disabled": busy,
                    "data_testid": f"save-{key}",
                },
                "Save",
            ),
            " ",
            _availability(state, item, item_id, available, name),
            h("p", {"class_": "field-error", "role": "alert"}, error) if error else "",
        ),
    )


def _choice_rows(state: State, item: str, choices: tuple[Choice, ...]) -> list[Markup]:
    return [
        _row(
            state,
            item=item,
            item_id=c.id,
            name=c.name,
            price=c.price_delta,
            available=c.is_available,
        )
        for c in choices
    ]


def _product(state: State, product: Product) -> Markup:
    rows = [
        _row(
            state,
            item="product",
            item_id=product.id,
            name=product.name,
            price=product.base_price,
            available=product.is_available,
            description=product.description,
        )
    ]
    variations = (
        h(
            "section",
            {"class_": "manage-variations"},
            h("h4", None, product.variation_label),
            h(
                "ul",
                {"class_": "manage-list"},
                _choice_rows(state, "variation", product.variations),
            ),
        )
        if product.variations
        else ""
    )
    return h(
        "section",
        {"class_": "manage-product", "data_testid": f"manage-product-{product.id}"},
        h("h3", None, product.name),
        h("ul", {"class_": "manage-list"}, rows),
        variations,
    )


def _groups(state: State) -> list[OptionGroup]:
    seen: dict[int, OptionGroup] = {}
    for category in state.menu.categories if state.menu else ():
        for product in category.products:
            for group in product.option_groups:
                seen.setdefault(group.id, group)
    return list(seen.values())


def page(state: State) -> Markup:
    title = h("h1", {"tabindex": "-1", "data_testid": "manage-menu-heading"}, "Menu")
    refused = managers_only(state, title, "Changing the menu")
    if refused is not None:
        return refused
    if state.menu is None:
        return fragment(title, h("p", {"class_": "loading", "role": "status"}, "Loading…"))
    currency = state.menu.currency
    intro = h(
        "p",
        None,
        "Changes reach every customer's open menu within seconds. Prices in ",
        currency,
        f" (e.g. {prices.format_money(420, currency)} is 4.20).",
    )
    categories = [
        h(
            "section",
            {"class_": "manage-category"},
            h("h2", None, category.name),
            [_product(state, p) for p in category.products],
        )
        for category in state.menu.categories
    ]
    groups = [
        h(
            "section",
            {"class_": "manage-group", "data_testid": f"manage-group-{group.id}"},
            h("h3", None, group.name),
            h("ul", {"class_": "manage-list"}, _choice_rows(state, "option", group.options)),
        )
        for group in _groups(state)
    ]
    return fragment(
        title,
        intro,
        categories,
        h("section", {"class_": "manage-options"}, h("h2", None, "Options"), groups)
        if groups
        else "",
    )
