"""Identity's own pages: log in (throttled), register, reset a password, the admin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from identity_site.accounts.models import Role, User
from identity_site.outbox.models import OutboxEvent
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def post_login(client: Client, email: str, password: str) -> Any:
    return client.post(
        "/accounts/login/", {"username": email, "password": password, "next": "/accounts/"}
    )


def test_login_page_is_branded_accessible_html(client: Client) -> None:
    response = client.get("/accounts/login/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Log in · CoffeeShop</title>" in html
    assert '<html lang="en">' in html
    assert '<label for="id_username">E-mail address</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_correct_password_logs_in_and_goes_to_next(client: Client, customer: User) -> None:
    response = post_login(client, customer.email, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    assert client.get("/accounts/").status_code == 200


def test_fifth_failure_locks_the_account_from_that_address_with_429(
    client: Client, customer: User
) -> None:
    answers = [post_login(client, customer.email, "wrong-password").status_code for _ in range(5)]
    locked = post_login(client, customer.email, PASSWORD)

    assert answers == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Too many attempts, try again in 15 minutes." in locked.content.decode()
    assert locked["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_address(client: Client, customer: User) -> None:
    for _ in range(5):
        post_login(client, customer.email, "wrong-password")

    other = Client(REMOTE_ADDR="10.0.0.9")
    response = post_login(other, customer.email, PASSWORD)

    assert response.status_code == 302


def test_success_clears_the_failure_count(client: Client, customer: User) -> None:
    for _ in range(4):
        post_login(client, customer.email, "wrong-password")
    post_login(client, customer.email, PASSWORD)
    client.logout()

    answers = [post_login(client, customer.email, "wrong-password").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 200]


def test_registration_creates_a_customer_logs_in_and_records_user_created(
    client: Client,
) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "email": "New.Person@Example.com",
            "full_name": "New Person",
            "password1": "latte-art-2026!",
            "password2": "latte-art-2026!",
            "next": "/o/authorize/?client_id=bff-web",
        },
    )

    user = User.objects.get()
    event = OutboxEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/o/authorize/?client_id=bff-web"
    assert (user.email, user.full_name, user.role) == (
        "new.person@example.com",
        "New Person",
        Role.CUSTOMER,
    )
    assert client.session["_auth_user_id"] == str(user.pk)
    assert event.event_type == "user.created"
    assert event.topic == "coffeeshop.user-events"
    assert event.key == str(user.pk)
    assert event.payload == {
        "user_id": str(user.pk),
        "email": "new.person@example.com",
        "full_name": "New Person",
        "role": "customer",
        "roles": ["customer"],
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short"),
        ("password123", "This password is too common"),
        ("83749201947382", "This password is entirely numeric"),
    ],
)
def test_registration_applies_the_password_validators_and_creates_nothing(
    client: Client, password: str, message: str
) -> None:
    response = client.post(
        "/accounts/register/",
        {"email": "x@example.com", "password1": password, "password2": password},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_registration_with_a_taken_email_in_other_case_is_refused(
    client: Client, customer: User
) -> None:
    events_before = OutboxEvent.objects.count()

    response = client.post(
        "/accounts/register/",
        {
            "email": customer.email.upper(),
            "password1": "latte-art-2026!",
            "password2": "latte-art-2026!",
        },
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1
    assert OutboxEvent.objects.count() == events_before


def test_open_redirect_after_registration_is_ignored(client: Client) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "email": "y@example.com",
            "password1": "latte-art-2026!",
            "password2": "latte-art-2026!",
            "next": "https://evil.example/",
        },
    )

    assert response["Location"] == "/accounts/"


def test_password_reset_mails_a_link_that_sets_a_new_password(
    client: Client, customer: User
) -> None:
    client.post("/accounts/password/reset/", {"email": customer.email})

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert message.subject == "Reset your CoffeeShop password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", str(message.body))
    assert link is not None
    form = client.get(link.group(1), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "flat-white-9000", "new_password2": "flat-white-9000"},
    )
    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password("flat-white-9000")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: Client,
) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_user_added_in_the_admin_records_user_created(client: Client, manager: User) -> None:
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    before = OutboxEvent.objects.count()

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "ben@coffeeshop.test",
            "role": "barista",
            "password1": "espresso-shot-42",
            "password2": "espresso-shot-42",
        },
    )

    assert response.status_code == 302, response.content[:500]
    ben = User.objects.get(email="ben@coffeeshop.test")
    events = list(OutboxEvent.objects.order_by("id")[before:])
    assert [(e.event_type, e.key) for e in events] == [("user.created", str(ben.pk))]
    assert events[0].payload["roles"] == ["barista"]


def test_role_change_in_the_admin_records_user_updated_and_delete_records_user_deleted(
    client: Client, manager: User, customer: User
) -> None:
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)
    before = OutboxEvent.objects.count()

    client.post(
        f"/admin/accounts/user/{customer.pk}/change/",
        {
            "email": customer.email,
            "full_name": "Cora",
            "role": "barista",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    client.post(f"/admin/accounts/user/{customer.pk}/delete/", {"post": "yes"})

    events = list(OutboxEvent.objects.order_by("id")[before:])
    assert [(e.event_type, e.key) for e in events] == [
        ("user.updated", str(customer.pk)),
        ("user.deleted", str(customer.pk)),
    ]
    assert events[0].payload["roles"] == ["barista"]
    assert events[1].payload == {"user_id": str(customer.pk)}
    assert not User.objects.filter(pk=customer.pk).exists()
