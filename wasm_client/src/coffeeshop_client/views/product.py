"""A product's page (`/product/<id>`): choose a size and options (customise), see the
price and allergens of what is chosen, and add it to the cart."""

from __future__ import annotations

from coffeeshop_client import allergens, customize, prices, product_facts, router
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Product
from coffeeshop_client.state import State
from coffeeshop_client.views.components import (
    MINUS,
    add_line_form,
    button,
    diet_badges,
    heading,
    loading,
    money,
    product_photo,
)
from coffeeshop_client.views.usuals import save_usual_form


def product_page(state: State) -> Markup:
    if state.menu is None:
        return fragment(heading("Menu"), loading())
    product = state.menu.product(int(state.route.params.get("id", "0") or 0))
    selection = state.selection
    if product is None or selection is None or selection.product_id != product.id:
        return fragment(
            heading("Not on the menu"),
            h("p", None, h("a", {"href": router.href("menu")}, "Back to the menu")),
        )
    currency = state.menu.currency
    parts: list[Markup] = []
    if product.variations:
        # Each group of choices is a fieldset named by its own legend, from the menu's
        # data ("Flavour", "Size" …), so a screen reader tells the groups apart.
        none_variation = (
            []
            if product.variation_required
            else [
                choice_input(
                    "radio",
                    "variation-none",
                    "variation",
                    "None",
                    "",
                    checked=selection.variation_id is None,
                    disabled=False,
                    action="choose-variation",
                    value=0,
                )
            ]
        )
        parts.append(
            h(
                "fieldset",
                {"class_": "choices", "data_testid": "choice-group"},
                h(
                    "legend",
                    {"id": "legend-variation"},
                    product.variation_label,
                    " ",
                    h("span", {"class_": "hint"}, customize.variation_hint(product)),
                ),
                none_variation,
                [
                    choice_input(
                        "radio",
                        f"variation-{v.id}",
                        "variation",
                        v.name,
                        prices.format_delta(v.price_delta, currency),
                        checked=v.id == selection.variation_id,
                        disabled=not v.is_available,
                        action="choose-variation",
                        value=v.id,
                    )
                    for v in product.variations
                ],
            )
        )
    for grp in product.option_groups:
        optional_radio = customize.is_optional_single_choice(grp)
        kind = "radio" if grp.is_single_choice else "checkbox"
        in_group = {o.id for o in grp.options}
        none_option = (
            [
                choice_input(
                    "radio",
                    f"group-{grp.id}-none",
                    f"group-{grp.id}",
                    "None",
                    "",
                    checked=not in_group.intersection(selection.option_ids),
                    disabled=False,
                    action="clear-group",
                    value=grp.id,
                    form_value="",  # no option of the group, when the form is posted
                )
            ]
            if optional_radio
            else []
        )
        parts.append(
            h(
                "fieldset",
                {"class_": "choices", "data_testid": "choice-group"},
                h(
                    "legend",
                    {"id": f"legend-group-{grp.id}"},
                    grp.name,
                    " ",
                    h("span", {"class_": "hint"}, customize.group_hint(grp)),
                ),
                none_option,
                [
                    choice_input(
                        kind,
                        f"option-{o.id}",
                        f"group-{grp.id}",
                        o.name,
                        prices.format_delta(o.price_delta, currency),
                        checked=o.id in selection.option_ids,
                        disabled=not o.is_available,
                        action="toggle-option",
                        value=o.id,
                    )
                    for o in grp.options
                ],
            )
        )
    photo = product_photo(product, lazy=False, class_="product-hero-photo")
    return fragment(
        h("p", {"class_": "crumbs"}, h("a", {"href": router.href("menu")}, "← Menu")),
        h(
            "div",
            {"class_": "product-page" + (" has-photo" if photo else "")},
            photo,
            h(
                "div",
                {"class_": "product-body"},
                product_about(state, product),
                customise_form(state, product, parts),
            ),
        ),
    )


def product_about(state: State, product: Product) -> Markup:
    """The product's name, description, and what the drink as chosen is: its dietary
    badges (oat milk makes a latte vegan), calories for the size chosen and allergens
    (each changes with the choices, `aria-live`)."""
    selection = state.selection
    assert selection is not None
    kcal = product_facts.calories_chosen(product, selection)
    return fragment(
        heading(product.name, testid="product-name"),
        h("p", {"class_": "description"}, product.description) if product.description else None,
        h(
            "div",
            {"class_": "product-facts"},
            diet_badges(product_facts.badges(product, selection), data_testid="diet-badges"),
            h(
                "p",
                {"class_": "kcal", "data_testid": "calories", "aria_live": "polite"},
                kcal,
            )
            if kcal
            else None,
            # The allergens of the drink as chosen: changes with the milk (shared/allergens.py).
            h(
                "p",
                {"class_": "allergens", "data_testid": "allergens", "aria_live": "polite"},
                allergens.chosen_line(product, selection),
            ),
        ),
    )


def customise_form(state: State, product: Product, parts: list[Markup]) -> Markup:
    selection = state.selection
    assert selection is not None
    currency = state.menu.currency if state.menu else "GBP"
    problems = customize.problems(product, selection)
    priced = prices.price_line(
        product, selection.variation_id, selection.option_ids, selection.quantity, currency
    )
    live_price = money(priced[1], currency) if priced else "Price at checkout"
    return fragment(
        # A form, so choosing and "Add to cart" work before Python has loaded (posted to
        # the BFF); once Python runs, every change re-renders and the submit is its own.
        add_line_form(
            state,
            "add-to-cart",
            {
                "product": product.id,
                "quantity": selection.quantity,
                "next": router.href("product", id=product.id),
            },
            parts,
            h(
                "div",
                {"class_": "quantity", "role": "group", "aria_labelledby": "qty-label"},
                h("span", {"id": "qty-label"}, "Quantity"),
                button(
                    MINUS,
                    "selection-quantity",
                    id="qty-down",
                    by=-1,
                    aria_label="One fewer",
                    disabled=selection.quantity <= 1,
                ),
                h(
                    "output",
                    {"id": "qty", "data_testid": "quantity", "aria_live": "polite"},
                    selection.quantity,
                ),
                button(
                    "+",
                    "selection-quantity",
                    id="qty-up",
                    by=1,
                    aria_label="One more",
                    disabled=selection.quantity >= 20,
                ),
            ),
            h(
                "ul",
                {"class_": "problems", "data_testid": "selection-problems"},
                [h("li", None, p) for p in problems],
            )
            if problems
            else None,
            h(
                "div",
                {"class_": "add-bar"},
                h(
                    "span",
                    {"class_": "price", "data_testid": "live-price", "aria_live": "polite"},
                    live_price,
                ),
                h(
                    "button",
                    {
                        "type": "submit",
                        "id": "add-to-cart",
                        "class_": "btn btn-primary",
                        "data_testid": "add-to-cart",
                        "disabled": bool(problems),
                    },
                    "Add to cart",
                ),
            ),
            class_="customise",
        ),
        save_usual_form(state, product, selection),
    )


def choice_input(
    kind: str,
    id: str,
    name: str,
    label: str,
    delta: str,
    *,
    checked: bool,
    disabled: bool,
    action: str,
    value: int,
    form_value: str | None = None,
) -> Markup:
    return h(
        "label",
        {"class_": "choice" + (" is-disabled" if disabled else ""), "for_": id},
        h(
            "input",
            {
                "type": kind,
                "id": id,
                "name": name,
                "value": value if form_value is None else form_value,
                "checked": checked,
                "disabled": disabled,
                "data_action": action,
                "data_id": value,
            },
        ),
        h("span", {"class_": "choice-name"}, label),
        h("span", {"class_": "choice-delta"}, delta) if delta else None,
        h("span", {"class_": "choice-note"}, "(unavailable)") if disabled else None,
    )
