"""The receipt mailed when an order is paid: its lines, VAT and where to collect it.

Built from the order as Order stored it (each line's price and options as priced at
placement), so the receipt always adds up to what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from order_site.menu.models import Option, Product
from order_site.orders.models import Order, OrderLine
from shared.allergens import allergen_line, allergens_for
from shared.pricing import format_money


def vat_included(total: int, *, rate_percent: int) -> int:
    """The VAT contained in a VAT-inclusive `total` (UK prices include VAT): total * rate
    / (100 + rate), rounded half up to the smallest unit. `vat_included(600, 20) == 100`."""
    return (2 * total * rate_percent + 100 + rate_percent) // (2 * (100 + rate_percent))


def order_number(order: Order) -> str:
    """The pickup number a customer quotes at the counter ("A-042"), as the app and the
    barista's card show it; an order not paid yet has none and is named by its id."""
    return order.number or f"#{order.id}"


@dataclass(frozen=True)
class ReceiptLine:
    quantity: int
    name: str  # the product, with its variation: "Latte (Vanilla)"
    options: tuple[str, ...]  # "Milk: Oat (+£0.40)"
    unit_price: str
    line_total: str
    allergens: str  # "Contains: cereals containing gluten." (shared/allergens.py)


@dataclass(frozen=True)
class Receipt:
    number: str
    paid_at: str
    lines: tuple[ReceiptLine, ...]
    total: str
    vat: str
    vat_rate_percent: int
    shop_name: str
    shop_address: str
    # As the customer gave them at checkout ("" when not given).
    cup_name: str = ""
    note: str = ""


def _line_allergens(
    line: OrderLine, products: dict[int, Product], options: dict[int, Option]
) -> str:
    """The allergens of the drink as chosen, from the menu as it is now (lines keep
    names and prices, not allergens); a product since removed from the menu has none
    to tell, and says so rather than claim it is free of them."""
    product = products.get(line.product_id) if line.product_id is not None else None
    if product is None:
        return "Allergens: ask at the counter."
    chosen = [options[int(o["id"])] for o in line.options if int(o["id"]) in options]
    return allergen_line(allergens_for(product, None, chosen))


def _line(
    line: OrderLine, currency: str, products: dict[int, Product], menu_options: dict[int, Option]
) -> ReceiptLine:
    name = line.product_name
    if line.variation_name:
        name = f"{name} ({line.variation_name})"
    options = []
    for option in line.options:
        delta = int(option.get("price_delta", 0))
        price = f" (+{format_money(delta, currency)})" if delta > 0 else ""
        if delta < 0:
            price = f" ({format_money(delta, currency)})"
        options.append(f"{option.get('group', '')}: {option.get('name', '')}{price}")
    return ReceiptLine(
        quantity=line.quantity,
        name=name,
        options=tuple(options),
        unit_price=format_money(line.unit_price, currency),
        line_total=format_money(line.line_total, currency),
        allergens=_line_allergens(line, products, menu_options),
    )


def receipt_for(*, order: Order, paid_at: datetime) -> Receipt:
    """The receipt of a paid order (reads `order.lines`: prefetch them)."""
    rate = int(settings.VAT_RATE_PERCENT)
    lines = list(order.lines.all())
    products = Product.objects.in_bulk([line.product_id for line in lines if line.product_id])
    options = Option.objects.in_bulk(
        [int(option["id"]) for line in lines for option in line.options]
    )
    return Receipt(
        number=order_number(order),
        paid_at=f"{paid_at.day} {paid_at:%B %Y, %H:%M} UTC",
        lines=tuple(_line(line, order.currency, products, options) for line in lines),
        total=format_money(order.total, order.currency),
        vat=format_money(vat_included(order.total, rate_percent=rate), order.currency),
        vat_rate_percent=rate,
        shop_name=str(settings.SHOP_NAME),
        shop_address=str(settings.SHOP_ADDRESS),
        cup_name=order.cup_name,
        note=order.note,
    )


def receipt_text(receipt: Receipt) -> str:
    """The plain-text part: one line per item, the amounts in a right-hand column."""
    width = 44

    def row(left: str, right: str) -> str:
        return f"{left}{' ' * max(1, width - len(left) - len(right))}{right}"

    out = [
        f"Thank you for your order at {receipt.shop_name}.",
        "",
        f"Receipt for order {receipt.number}",
        f"Paid {receipt.paid_at}",
        *([f"Name on the cup: {receipt.cup_name}"] if receipt.cup_name else []),
        *([f"Note for the barista: {receipt.note}"] if receipt.note else []),
        "",
    ]
    for line in receipt.lines:
        out.append(row(f"{line.quantity} x {line.name}", line.line_total))
        out.extend(f"    {option}" for option in line.options)
        if line.quantity > 1:
            out.append(f"    {line.unit_price} each")
        out.append(f"    {line.allergens}")
    out += [
        "-" * width,
        row("Total", receipt.total),
        row(f"VAT included ({receipt.vat_rate_percent}%)", receipt.vat),
        "",
        f"Your order number is {receipt.number}. We will e-mail you when it is ready",
        "to collect at:",
        f"{receipt.shop_name}, {receipt.shop_address}",
        "",
    ]
    return "\n".join(out)
