"""A tiny HTML builder with escaping, so views are plain functions returning strings.

No inline styles or scripts are ever produced: the page runs under a strict
Content-Security-Policy (`style-src 'self'`, `script-src 'self'`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape as _escape

VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})

AttrValue = str | int | bool | None


class Markup(str):
    """A string that is already HTML: it is never escaped again."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(_escape(str(value), quote=True))


def _attr_name(name: str) -> str:
    # `class_`/`for_` because those are keywords; `data_testid` → `data-testid`.
    return name.rstrip("_").replace("_", "-")


def attrs_html(attrs: Mapping[str, AttrValue]) -> str:
    parts = []
    for name, value in attrs.items():
        if name in ("style", "style_") or name.startswith("on"):
            raise ValueError(f"attribute {name!r} is not allowed under the page's CSP")
        if value is None or value is False:
            continue
        key = _attr_name(name)
        if value is True:
            parts.append(f" {key}")
        else:
            parts.append(f' {key}="{escape(value)}"')
    return "".join(parts)


def _children(children: Iterable[object]) -> str:
    out: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int):
            out.append(escape(child))
        else:
            out.append(_children(child))  # type: ignore[arg-type]
    return "".join(out)


def h(tag: str, attrs: Mapping[str, AttrValue] | None = None, *children: object) -> Markup:
    """`h("a", {"href": "/x", "class_": "btn"}, "Go")` → `<a href="/x" class="btn">Go</a>`."""
    opening = f"<{tag}{attrs_html(attrs or {})}>"
    if tag in VOID_TAGS:
        return Markup(opening)
    return Markup(f"{opening}{_children(children)}</{tag}>")


def fragment(*children: object) -> Markup:
    return Markup(_children(children))
