"""Staff sign into the BFF's Django admin with their CoffeeShop account (issue 11).

Identity runs under gunicorn with the orchestrator's clients (`bff-admin` among them);
the BFF runs in-process and redeems the code with the secret from its Vault secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.admin_sign_in import callback_of, identity_sign_in, running_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def identity(test_stack: Any) -> Iterator[None]:
    with running_identity(test_stack, "identity-for-bff-admin-tests"):
        yield


@pytest.fixture(autouse=True)
def _admin_pages_render(settings: Any) -> None:
    """Admin pages link static files; tests have no collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _browser(test_stack: Any) -> Client:
    return Client(HTTP_HOST=f"127.0.0.1:{test_stack.ports['bff']}")


def _sign_in(browser: Client, email: str) -> Any:
    start = browser.get("/admin/oidc/start")
    assert start.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(start["Location"]).query).items()}
    assert query["client_id"] == "bff-admin"
    assert query["code_challenge_method"] == "S256"
    path, params = callback_of(identity_sign_in(start["Location"], email))
    return browser.get(path, params)


def test_the_bff_admin_login_page_offers_sign_in_with_coffeeshop(test_stack: Any) -> None:
    body = _browser(test_stack).get("/admin/login/").content.decode()

    assert 'href="/admin/oidc/start?next=/admin/"' in body
    assert body.index("Sign in with CoffeeShop") < body.index('name="password"')


def test_a_manager_signs_into_the_bff_admin_with_their_identity_login(
    identity: None, test_stack: Any
) -> None:
    browser = _browser(test_stack)

    answer = _sign_in(browser, "manager@coffeeshop.local")

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/"
    user = User.objects.get(email="manager@coffeeshop.local")
    assert (user.is_staff, user.is_superuser) == (True, False)
    assert [g.name for g in user.groups.all()] == ["managers"]
    assert browser.get("/admin/").status_code == 200


def test_a_barista_is_refused_the_bff_admin_with_a_page_saying_why(
    identity: None, test_stack: Any
) -> None:
    browser = _browser(test_stack)

    answer = _sign_in(browser, "barista@coffeeshop.local")

    assert answer.status_code == 403
    assert "it is for managers" in answer.content.decode()
    assert User.objects.filter(is_staff=True).count() == 0
    assert browser.get("/admin/").status_code == 302
