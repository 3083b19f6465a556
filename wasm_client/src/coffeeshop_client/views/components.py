"""Pieces every page uses: money, buttons, headings, the loading line, the problem and
notice banners, status badges, times, the sign-in panel of a page that needs one and
what a manager's page shows anyone else."""

from __future__ import annotations

from urllib.parse import quote

from coffeeshop_client import prices, product_facts, router, statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Product
from coffeeshop_client.state import State

TIMES = "\u00d7"  # the multiplication sign, as in "2 x Latte"
MINUS = "\u2212"  # a real minus sign on the "one fewer" buttons


def money(amount: int, currency: str) -> str:
    return prices.format_money(amount, currency)


def currency_of(state: State) -> str:
    return state.menu.currency if state.menu else "GBP"


def login_href(next_path: str = "") -> str:
    """Sign in, then come back to `next_path` (one of the app's paths; the menu if none)."""
    target = next_path if next_path.startswith("/") else "/"
    return "/auth/login?next=" + quote(target, safe="/")


def button(
    label: object, action: str, *, id: str, testid: str | None = None, **data: object
) -> Markup:
    attrs: dict[str, str | int | bool | None] = {
        "type": "button",
        "id": id,
        "class_": str(data.pop("class_", "btn")),
        "data_action": action,
        "data_testid": testid,
        "disabled": bool(data.pop("disabled", False)),
        "aria_label": data.pop("aria_label", None),  # type: ignore[dict-item]
    }
    for key, value in data.items():
        attrs["data_" + key] = None if value is None else str(value)
    return h("button", attrs, label)


# Where the server-rendered pages' plain forms post a line for the cart (the BFF's
# bff_site/gateway/pages.py); once Python runs, the same forms are handled here.
ADD_LINE_URL = "/cart/lines"


def add_line_form(
    state: State,
    action: str,
    fields: dict[str, str | int],
    *body: object,
    class_: str = "add-form",
) -> Markup:
    """A form that adds to the cart: posted to the BFF before Python has loaded (with the
    session's CSRF token), run as `action` after."""
    hidden = {"csrfmiddlewaretoken": state.session.csrf_token, **fields}
    return h(
        "form",
        {"method": "post", "action": ADD_LINE_URL, "data_action": action, "class_": class_},
        [
            h("input", {"type": "hidden", "name": name, "value": value})
            for name, value in hidden.items()
        ],
        *body,
    )


def added_notice(name: str, quantity: int) -> str:
    """What "Add" says, here and on the page the server renders after its form."""
    noun = f"{quantity} {TIMES} {name}" if quantity > 1 else name
    return f"Added {noun} to your cart."


def heading(text: str, *, testid: str | None = None) -> Markup:
    # The id lets focus come back to the heading when a page re-renders after loading.
    return h("h1", {"id": "page-heading", "tabindex": "-1", "data_testid": testid}, text)


def loading(text: str = "Loading…") -> Markup:
    return h("p", {"class_": "loading", "role": "status"}, h("span", {"class_": "spinner"}), text)


def sign_in_needed(what: str, next_path: str) -> Markup:
    return h(
        "div",
        {"class_": "panel"},
        h("p", None, f"Sign in to {what}."),
        h(
            "p",
            None,
            h("a", {"class_": "btn", "href": login_href(next_path)}, "Sign in"),
            " ",
            h("a", {"class_": "btn btn-quiet", "href": "/auth/register"}, "Create an account"),
        ),
    )


def managers_only(state: State, title: Markup, what: str) -> Markup | None:
    """A manager's page as anyone else sees it ("<what> is for managers.", or "Loading…"
    while the session is not known yet), or None for a manager."""
    if state.session.is_manager:
        return None
    if state.session_loaded:
        return fragment(title, h("p", None, f"{what} is for managers."))
    return fragment(title, h("p", {"class_": "loading", "role": "status"}, "Loading…"))


def problem_banner(state: State) -> Markup:
    problem = state.problem
    if problem is None:
        return Markup("")
    actions = []
    if problem.status == 401:
        actions.append(
            h(
                "a",
                {
                    "class_": "btn",
                    "href": login_href(router.href(state.route.name, **state.route.params)),
                },
                "Sign in",
            )
        )
    if problem.retry:
        actions.append(
            button(
                "Try again",
                "retry",
                id="problem-retry",
                testid="error-retry",
                disabled=problem.waiting,
            )
        )
    actions.append(button("Dismiss", "dismiss", id="problem-dismiss", class_="btn btn-quiet"))
    return h(
        "div",
        {"class_": "banner banner-bad", "role": "alert", "data_testid": "error-banner"},
        h("p", None, problem.message),
        h("div", {"class_": "banner-actions"}, actions),
    )


def notice(state: State) -> Markup:
    if not state.notice:
        return Markup("")
    return h(
        "div",
        {"class_": "banner banner-good", "data_testid": "notice"},
        h("p", None, state.notice, " ", h("a", {"href": router.href("cart")}, "View cart")),
    )


def status_badge(status: str) -> Markup:
    return h(
        "span",
        {
            "class_": f"badge badge-{statuses.tone(status)}",
            "data_testid": "order-status",
            "data_status": status,
        },
        statuses.label(status),
    )


def when(iso: str) -> str:
    """`2026-11-25T13:45:12.123Z` → `25 Nov 13:45` (UTC; no time-zone database needed)."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    try:
        date, time = iso.split("T")
        _, month, day = date.split("-")
        return f"{int(day)} {months[int(month) - 1]} {time[:5]}"
    except (ValueError, IndexError):
        return iso


def live_note(state: State) -> Markup:
    if state.live_mode == "polling":
        return h(
            "p",
            {"class_": "hint", "data_testid": "live-mode"},
            "Checking for updates every few seconds.",
        )
    return Markup("")


def product_photo(product: Product, *, lazy: bool, class_: str) -> Markup | None:
    """The product's photo at its drawn size (the stylesheet scales it: no layout shift
    while it loads), lazily loaded below the first screen; None when it has none."""
    photo = product_facts.photo(product)
    if photo is None:
        return None
    return h(
        "img",
        {
            "src": photo.src,
            "alt": photo.alt,
            "width": photo.width,
            "height": photo.height,
            "loading": "lazy" if lazy else None,
            "decoding": "async",
            "class_": class_,
            "data_testid": "product-photo",
        },
    )


def diet_badges(badges: list[tuple[str, str]], **attrs: str) -> Markup | None:
    """The dietary badges (vegan, contains caffeine …) as a list of labels."""
    if not badges:
        return None
    return h(
        "ul",
        {"class_": "diet-badges", "aria_label": "Dietary", **attrs},
        [
            h(
                "li",
                {
                    "class_": f"diet diet-{key.replace('_', '-')}",
                    "data_testid": "diet-badge",
                    "data_badge": key,
                },
                label,
            )
            for key, label in badges
        ],
    )
