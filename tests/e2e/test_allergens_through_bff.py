"""The BFF passes each option's allergens through to the web client as Order's menu has them."""

from __future__ import annotations

from typing import Any

import httpx


def test_bff_menu_carries_the_allergens_of_each_milk_option(system: dict[str, Any]) -> None:
    menu = httpx.get(f"http://127.0.0.1:{system['ports']['bff']}/api/menu", timeout=20).json()

    latte = next(p for c in menu["categories"] for p in c["products"] if p["name"] == "Latte")
    milk = next(g for g in latte["option_groups"] if g["name"] == "Milk")
    assert latte["allergens"] == ["milk"]
    assert {o["name"]: (o["allergens"], o["removes_allergens"]) for o in milk["options"]} == {
        "Whole": (["milk"], ["milk"]),
        "Oat": (["gluten"], ["milk"]),
        "Almond": (["tree_nuts"], ["milk"]),
        "Soy": (["soybeans"], ["milk"]),
    }
