"""Staff sign into Order's Django admin with their CoffeeShop account (issue 11).

Identity runs under gunicorn (the `identity` fixture in conftest.py) with the clients the
orchestrator provisions, `order-admin` among them; Order runs in-process and exchanges
the code at Identity with the secret from its own Vault secrets. The browser's part at
Identity (its login form) is played with a real HTTP session.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client

from shared.admin_oidc.views import SESSION_KEY
from tests.admin_sign_in import PASSWORD, identity_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _admin_pages_render(settings: Any) -> None:
    """Admin pages link static files; tests have no collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="module")
def demo_people(identity: Any, test_stack: Any) -> None:
    """Identity's demo users: a manager, a barista and a customer."""
    test_stack.manage("identity", "seed_demo", extra_env={"DEMO_PASSWORD": PASSWORD})


def _order_browser(test_stack: Any) -> Client:
    # The Host Identity knows this site by: the redirect URI is registered exactly.
    return Client(HTTP_HOST=f"127.0.0.1:{test_stack.ports['order']}")


def _sign_in(client: Client, email: str) -> tuple[str, dict[str, str]]:
    start = client.get("/admin/oidc/start", {"next": "/admin/orders/order/"})
    assert start.status_code == 302
    back = identity_sign_in(start["Location"], email)
    query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    return urlsplit(back).path, query


def test_the_admin_login_page_offers_sign_in_with_coffeeshop_first(test_stack: Any) -> None:
    page = _order_browser(test_stack).get("/admin/login/", {"next": "/admin/"})
    body = page.content.decode()

    assert page.status_code == 200
    assert 'href="/admin/oidc/start?next=/admin/"' in body
    assert body.index("Sign in with CoffeeShop") < body.index('name="password"')


def test_sign_in_goes_to_identity_with_pkce_s256_and_the_exact_redirect_uri(
    identity: Any, test_stack: Any
) -> None:
    start = _order_browser(test_stack).get("/admin/oidc/start")
    target = urlsplit(start["Location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}

    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"http://127.0.0.1:{test_stack.ports['identity']}/o/authorize/"
    )
    assert query["client_id"] == "order-admin"
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == (
        f"http://127.0.0.1:{test_stack.ports['order']}/admin/oidc/callback"
    )
    assert query["scope"] == "openid profile email roles"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32


def test_a_manager_signs_in_with_their_identity_login_and_becomes_staff_of_managers(
    demo_people: None, test_stack: Any
) -> None:
    browser = _order_browser(test_stack)
    path, query = _sign_in(browser, "manager@coffeeshop.local")

    answer = browser.get(path, query)

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/orders/order/"
    user = User.objects.get(email="manager@coffeeshop.local")
    assert user.username.startswith("identity-")
    assert (user.is_staff, user.is_superuser, user.has_usable_password()) == (True, False, False)
    assert [g.name for g in user.groups.all()] == ["managers"]
    assert user.has_perm("payments.add_refund")
    assert user.has_perm("menu.change_product")
    assert not user.has_perm("orders.change_order")
    assert browser.get("/admin/orders/order/").status_code == 200


def test_a_customer_gets_no_admin_access_and_a_page_saying_why(
    demo_people: None, test_stack: Any
) -> None:
    browser = _order_browser(test_stack)
    path, query = _sign_in(browser, "customer@coffeeshop.local")

    answer = browser.get(path, query)

    assert answer.status_code == 403
    assert "Your CoffeeShop account has no access to this admin" in answer.content.decode()
    assert User.objects.filter(is_staff=True).count() == 0
    assert browser.get("/admin/").status_code == 302


def test_a_callback_with_another_state_is_refused_and_signs_nobody_in(
    demo_people: None, test_stack: Any
) -> None:
    browser = _order_browser(test_stack)
    path, query = _sign_in(browser, "manager@coffeeshop.local")

    answer = browser.get(path, {**query, "state": "x" + query["state"][1:]})

    assert answer.status_code == 400
    assert "This sign-in link has expired or was already used" in answer.content.decode()
    assert User.objects.count() == 0
    # The state is single-use: the right one is refused too once a try was made.
    assert browser.get(path, query).status_code == 400
    assert User.objects.count() == 0


def test_a_code_redeemed_with_another_pkce_verifier_is_refused(
    demo_people: None, test_stack: Any
) -> None:
    browser = _order_browser(test_stack)
    path, query = _sign_in(browser, "manager@coffeeshop.local")
    session = browser.session
    pending = session[SESSION_KEY]
    session[SESSION_KEY] = {**pending, "verifier": "v" * 64}
    session.save()

    answer = browser.get(path, query)

    assert answer.status_code == 400
    assert "Identity refused this sign-in" in answer.content.decode()
    assert User.objects.count() == 0


def test_a_manager_demoted_at_identity_loses_admin_access_at_the_next_sign_in() -> None:
    from shared.admin_oidc.views import admin_user_sync

    claims = {"sub": "42", "email": "maya@x.test", "name": "Maya", "roles": ["manager"]}
    admin_user_sync(claims=claims)

    user = admin_user_sync(claims={**claims, "roles": ["customer"]})

    assert (user.username, user.is_staff, user.is_superuser) == ("identity-42", False, False)
    assert list(user.groups.all()) == []
    assert User.objects.count() == 1
