"""Every `data-action` in the views has a handler in `ACTIONS`, and every handler is used.

The views are read as source (an AST walk), so an action only some state renders is
still checked: a misspelt action in a view fails here rather than doing nothing in a
browser.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from coffeeshop_client.app import ACTIONS

from tests.wasm_client.conftest import SRC
from tests.wasm_client.test_app import make

VIEWS = SRC / "coffeeshop_client" / "views"


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def actions_in_views() -> dict[str, list[str]]:
    """Each literal action the views package renders → where ("file.py:line")."""
    found: dict[str, list[str]] = {}

    def add(value: str | None, path: Path, node: ast.AST) -> None:
        if value is not None:
            where = path.relative_to(VIEWS).as_posix()
            found.setdefault(value, []).append(f"{where}:{getattr(node, 'lineno', 0)}")

    for path in sorted(VIEWS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):  # h("form", {"data_action": "checkout", …})
                for key, value in zip(node.keys, node.values, strict=True):
                    if _constant(key) == "data_action":
                        add(_constant(value), path, value)
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "button" and len(node.args) >= 2:  # button(label, action, …)
                    add(_constant(node.args[1]), path, node)
                if name == "add_line_form" and len(node.args) >= 2:  # (state, action, …)
                    add(_constant(node.args[1]), path, node)
                for keyword in node.keywords:  # choice_input(…, action="toggle-option")
                    if keyword.arg == "action":
                        add(_constant(keyword.value), path, keyword.value)
    return found


def test_every_action_the_views_render_has_a_handler() -> None:
    found = actions_in_views()

    missing = {action: where for action, where in found.items() if action not in ACTIONS}
    assert missing == {}


def test_every_handler_in_the_table_is_rendered_by_some_view() -> None:
    found = actions_in_views()

    assert sorted(set(ACTIONS) - set(found)) == []


def test_the_table_names_each_handler_for_its_action() -> None:
    assert {
        action: handler.__name__
        for action, handler in ACTIONS.items()
        if handler.__name__ != "do_" + action.replace("-", "_")
    } == {}


def test_an_unknown_action_changes_nothing_and_is_said_on_the_console(capsys) -> None:
    app, bff, platform = make()
    asyncio.run(app.start())
    before = (platform.view_html, len(bff.requests))

    asyncio.run(app.dispatch("chekout", {}))

    assert (platform.view_html, len(bff.requests)) == before
    assert "no handler for data-action 'chekout'" in capsys.readouterr().err
