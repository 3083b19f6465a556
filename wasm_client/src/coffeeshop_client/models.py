"""What the BFF sends (docs/bff-api.md), as typed, immutable Python objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAFF_ROLES = frozenset({"barista", "manager"})


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    roles: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=str(data.get("id", "")),
            email=str(data.get("email") or ""),
            name=str(data.get("name") or data.get("email") or ""),
            roles=tuple(str(r) for r in data.get("roles") or ()),
        )

    @property
    def is_staff(self) -> bool:
        return bool(STAFF_ROLES.intersection(self.roles))

    @property
    def is_manager(self) -> bool:
        return "manager" in self.roles


@dataclass(frozen=True)
class Session:
    authenticated: bool
    user: User | None
    csrf_token: str
    admin_url: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        user = data.get("user")
        return cls(
            authenticated=bool(data.get("authenticated")),
            user=User.from_json(user) if user else None,
            csrf_token=str(data.get("csrf_token") or ""),
            admin_url=data.get("admin_url") or None,
        )

    @classmethod
    def anonymous(cls) -> Session:
        return cls(authenticated=False, user=None, csrf_token="")

    @property
    def is_staff(self) -> bool:
        return self.user is not None and self.user.is_staff

    @property
    def is_manager(self) -> bool:
        return self.user is not None and self.user.is_manager


@dataclass(frozen=True)
class Choice:
    """A size/variation or an option: a name, a price delta, available or not."""

    id: int
    name: str
    price_delta: int
    is_available: bool = True
    # Keys of shared/allergens.py: what the option adds, and what of the product it replaces.
    allergens: tuple[str, ...] = ()
    removes_allergens: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Choice:
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            price_delta=int(data.get("price_delta") or 0),
            is_available=bool(data.get("is_available", True)),
            allergens=tuple(str(a) for a in data.get("allergens") or ()),
            removes_allergens=tuple(str(a) for a in data.get("removes_allergens") or ()),
        )


@dataclass(frozen=True)
class OptionGroup:
    id: int
    name: str
    min: int
    max: int
    options: tuple[Choice, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OptionGroup:
        options = tuple(Choice.from_json(o) for o in data.get("options") or ())
        most = data.get("max")
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            min=int(data.get("min") or 0),
            max=len(options) if most is None else int(most),
            options=options,
        )

    @property
    def is_single_choice(self) -> bool:
        return self.max == 1

    def option(self, option_id: int) -> Choice | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Calories:
    """The kcal of a product in one size (`size_id`: an option of its size group), or
    whatever is chosen (`size_id` None: a product without sizes)."""

    size_id: int | None
    kcal: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calories:
        size = data.get("size_id")
        return cls(size_id=None if size is None else int(size), kcal=int(data.get("kcal") or 0))


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    description: str
    base_price: int
    is_available: bool
    allergens: tuple[str, ...] = ()
    variations: tuple[Choice, ...] = ()
    option_groups: tuple[OptionGroup, ...] = ()
    # Whether one of the variations must be chosen (a plain Latte needs none), and the
    # name its group of choices goes by ("Flavour", "Shot" …).
    variation_required: bool = True
    variation_label: str = "Choice"
    # What a customer reads beyond the price: a photo's key (shared/photos.py; "" none),
    # dietary badges (shared/dietary.py) and calories per size.
    photo: str = ""
    badges: tuple[str, ...] = ()
    calories: tuple[Calories, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Product:
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            description=str(data.get("description") or ""),
            base_price=int(data.get("base_price") or 0),
            is_available=bool(data.get("is_available", True)),
            allergens=tuple(str(a) for a in data.get("allergens") or ()),
            variations=tuple(Choice.from_json(v) for v in data.get("variations") or ()),
            option_groups=tuple(OptionGroup.from_json(g) for g in data.get("option_groups") or ()),
            variation_required=bool(data.get("variation_required", True)),
            variation_label=str(data.get("variation_label") or "Choice"),
            photo=str(data.get("photo") or ""),
            badges=tuple(str(b) for b in data.get("badges") or ()),
            calories=tuple(Calories.from_json(c) for c in data.get("calories") or ()),
        )

    def variation(self, variation_id: int | None) -> Choice | None:
        return next((v for v in self.variations if v.id == variation_id), None)

    def find_option(self, option_id: int) -> tuple[OptionGroup, Choice] | None:
        for group in self.option_groups:
            option = group.option(option_id)
            if option is not None:
                return group, option
        return None


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    products: tuple[Product, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Category:
        return cls(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            products=tuple(Product.from_json(p) for p in data.get("products") or ()),
        )


@dataclass(frozen=True)
class Menu:
    currency: str
    categories: tuple[Category, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Menu:
        return cls(
            currency=str(data.get("currency") or "GBP"),
            categories=tuple(Category.from_json(c) for c in data.get("categories") or ()),
        )

    def product(self, product_id: int) -> Product | None:
        for category in self.categories:
            for product in category.products:
                if product.id == product_id:
                    return product
        return None


@dataclass(frozen=True)
class OrderLine:
    product_name: str
    variation_name: str | None
    options: tuple[str, ...]
    quantity: int
    unit_price: int
    line_total: int
    # The menu's ids, for "Order again" and "Save as my usual" (product None: since
    # taken off the menu).
    product_id: int | None = None
    variation_id: int | None = None
    option_ids: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderLine:
        product, variation = data.get("product_id"), data.get("variation_id")
        return cls(
            product_name=str(data.get("product_name", "")),
            variation_name=data.get("variation_name") or None,
            options=tuple(str(o) for o in data.get("options") or ()),
            quantity=int(data.get("quantity") or 1),
            unit_price=int(data.get("unit_price") or 0),
            line_total=int(data.get("line_total") or 0),
            product_id=int(product) if product is not None else None,
            variation_id=int(variation) if variation is not None else None,
            option_ids=tuple(int(o) for o in data.get("option_ids") or ()),
        )


@dataclass(frozen=True)
class Favourite:
    """A saved drink ("my usual"): a cart line without a quantity, and its name."""

    id: str
    name: str
    product_id: int
    variation_id: int | None
    option_ids: tuple[int, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Favourite:
        variation = data.get("variation_id")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            product_id=int(data["product_id"]),
            variation_id=int(variation) if variation is not None else None,
            option_ids=tuple(sorted(int(o) for o in data.get("option_ids") or ())),
        )


@dataclass(frozen=True)
class HistoryEntry:
    status: str
    at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(status=str(data.get("status", "")), at=str(data.get("at", "")))


@dataclass(frozen=True)
class Order:
    id: str
    status: str
    total: int
    currency: str
    created_at: str
    failure_reason: str | None = None
    lines: tuple[OrderLine, ...] = ()
    history: tuple[HistoryEntry, ...] = field(default_factory=tuple)
    # Until when the customer may still cancel this paid order (ISO 8601), else None.
    cancellable_until: str | None = None
    # Why it ended as it did (rejected: the barista's reason), else None.
    status_reason: str | None = None
    # The pickup number ("A-042", unique for its day), given when paid; else None.
    number: str | None = None
    # Written on the cup, and told to the barista ("" when not given).
    cup_name: str = ""
    note: str = ""

    @property
    def pickup(self) -> str:
        """The one number shown for this order, as the e-mails and the barista say it."""
        return self.number or f"#{self.id}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        return cls(
            id=str(data["id"]),
            number=data.get("number") or None,
            status=str(data.get("status", "")),
            total=int(data.get("total") or 0),
            currency=str(data.get("currency") or "GBP"),
            created_at=str(data.get("created_at") or ""),
            failure_reason=data.get("failure_reason") or None,
            lines=tuple(OrderLine.from_json(line) for line in data.get("lines") or ()),
            history=tuple(HistoryEntry.from_json(e) for e in data.get("history") or ()),
            cancellable_until=data.get("cancellable_until") or None,
            status_reason=data.get("status_reason") or None,
            cup_name=str(data.get("cup_name") or ""),
            note=str(data.get("note") or ""),
        )


@dataclass(frozen=True)
class QueueColumn:
    """One column of the barista queue: its count, a page oldest first, the cursor of
    the next page (None: no more), and its newest arrivals."""

    status: str
    count: int
    orders: tuple[Order, ...]
    next_cursor: str | None
    newest: tuple[Order, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueueColumn:
        return cls(
            status=str(data["status"]),
            count=int(data.get("count") or 0),
            orders=tuple(Order.from_json(o) for o in data.get("results") or ()),
            next_cursor=data.get("next_cursor") or None,
            newest=tuple(Order.from_json(o) for o in data.get("newest") or ()),
        )
