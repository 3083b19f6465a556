"""Sign-in and the account box at the end of the links bar: the person's name and
"Sign out" (a real POST with the CSRF token: the BFF ends the session), or "Sign in"
and "Register" (links to the BFF, which runs the OIDC flow)."""

from __future__ import annotations

from coffeeshop_client.html import Markup, h
from coffeeshop_client.state import State
from coffeeshop_client.views.components import login_href


def account(state: State) -> Markup:
    session = state.session
    if not state.session_loaded:
        return Markup("")
    if session.authenticated and session.user is not None:
        return h(
            "div",
            {"class_": "account"},
            h("span", {"class_": "who", "data_testid": "user-name"}, session.user.name),
            h(
                "form",
                {
                    "method": "post",
                    "action": "/auth/logout",
                    "class_": "inline",
                    "data_sign_out": "1",
                },
                h(
                    "input",
                    {"type": "hidden", "name": "csrfmiddlewaretoken", "value": session.csrf_token},
                ),
                h(
                    "button",
                    {
                        "type": "submit",
                        "class_": "btn btn-quiet",
                        "id": "sign-out",
                        "data_testid": "sign-out",
                    },
                    "Sign out",
                ),
            ),
        )
    return h(
        "div",
        {"class_": "account"},
        h(
            "a",
            {"href": login_href(), "class_": "btn btn-quiet", "data_testid": "sign-in"},
            "Sign in",
        ),
        h(
            "a",
            {"href": "/auth/register", "class_": "btn", "data_testid": "register"},
            "Register",
        ),
    )
