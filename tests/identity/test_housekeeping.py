"""Identity's scheduled purges on real PostgreSQL: old rows go, recent and unsent ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from identity_site.accounts.models import User
from identity_site.config.celery import app
from identity_site.housekeeping.services import (
    TokenCounts,
    oauth_tokens_purge,
    outbox_purge_sent,
    session_purge_expired,
)
from identity_site.housekeeping.tasks import outbox_purge_sent_task
from identity_site.outbox.models import OutboxEvent
from tests.identity.factories.oauth import (
    AccessTokenFactory,
    GrantFactory,
    IDTokenFactory,
    RefreshTokenFactory,
)
from tests.identity.factories.outbox import OutboxEventFactory

pytestmark = pytest.mark.django_db

PURGE_TASKS = {
    "identity_site.housekeeping.tasks.outbox_purge_sent_task",
    "identity_site.housekeeping.tasks.oauth_tokens_purge_task",
    "identity_site.housekeeping.tasks.session_purge_expired_task",
}


def outbox_row(key: str, *, sent_days_ago: float | None) -> OutboxEvent:
    sent_at = None if sent_days_ago is None else timezone.now() - timedelta(days=sent_days_ago)
    return OutboxEventFactory(topic="t", key=key, sent_at=sent_at)


def test_outbox_purge_deletes_only_rows_sent_longer_ago_than_the_retention():
    outbox_row("old-sent", sent_days_ago=8)
    outbox_row("new-sent", sent_days_ago=1)
    unsent = outbox_row("old-unsent", sent_days_ago=None)
    OutboxEvent.objects.filter(id=unsent.id).update(occurred_at=timezone.now() - timedelta(days=30))

    deleted = outbox_purge_sent(older_than=timedelta(days=7))

    assert deleted == 1
    assert sorted(OutboxEvent.objects.values_list("key", flat=True)) == ["new-sent", "old-unsent"]


def test_outbox_purge_task_uses_the_retention_setting(settings: Any):
    outbox_row("two-days", sent_days_ago=2)
    outbox_row("half-a-day", sent_days_ago=0.5)
    settings.OUTBOX_SENT_RETENTION_SECONDS = 86400

    deleted = outbox_purge_sent_task.apply().get()

    assert deleted == 1
    assert list(OutboxEvent.objects.values_list("key", flat=True)) == ["half-a-day"]


def _tokens(customer: User, client: Application) -> dict[str, Any]:
    """One row of each kind on each side of its expiry rule (REFRESH_TOKEN_EXPIRE_SECONDS
    is 14 days in these settings)."""
    now = timezone.now()
    idle = timedelta(seconds=settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"])

    def access(name: str, expires: Any, id_token: IDToken | None = None) -> AccessToken:
        return AccessTokenFactory(
            user=customer,
            application=client,
            token=f"at-{name}-{uuid.uuid4().hex}",
            expires=expires,
            id_token=id_token,
        )

    def refresh(name: str, access_token: AccessToken | None, revoked: Any = None) -> RefreshToken:
        return RefreshTokenFactory(
            user=customer,
            application=client,
            token=f"rt-{name}-{uuid.uuid4().hex}",
            access_token=access_token,
            revoked=revoked,
        )

    def grant(name: str, expires: Any) -> Grant:
        return GrantFactory(
            user=customer,
            application=client,
            code=f"code-{name}-{uuid.uuid4().hex}",
            expires=expires,
        )

    def id_token(expires: Any) -> IDToken:
        return IDTokenFactory(user=customer, application=client, expires=expires)

    expired_id_token = id_token(now - timedelta(minutes=5))
    return {
        "expired access": access("expired", now - timedelta(minutes=1), expired_id_token),
        "live access": access("live", now + timedelta(minutes=5)),
        # Expired, but a refresh token that may still be used holds it.
        "held access": access("held", now - timedelta(hours=1)),
        "expired id token": expired_id_token,
        "orphan id token": id_token(now - timedelta(minutes=1)),
        "live id token": id_token(now + timedelta(minutes=5)),
        "expired grant": grant("expired", now - timedelta(seconds=1)),
        "live grant": grant("live", now + timedelta(seconds=60)),
        "idle refresh": refresh(
            "idle", access("idle", now - idle - timedelta(minutes=1))
        ),  # unused longer than its idle life: goes with its access token
        "recently rotated": refresh("rotated", None, revoked=now - timedelta(days=1)),
        "long rotated": refresh("long", None, revoked=now - idle - timedelta(minutes=1)),
    }


def test_token_purge_removes_expired_tokens_and_grants_and_keeps_what_can_still_be_used(
    customer: User, web_client: Application
):
    rows = _tokens(customer, web_client)
    rows["held refresh"] = RefreshTokenFactory(
        user=customer,
        application=web_client,
        token="rt-held",
        access_token=rows["held access"],
    )

    counts = oauth_tokens_purge()

    def left(model: Any) -> set[int]:
        return set(model.objects.values_list("pk", flat=True))

    def pks(*names: str) -> set[int]:
        return {rows[name].pk for name in names}

    assert left(AccessToken) == pks("live access", "held access")
    assert left(RefreshToken) == pks("held refresh", "recently rotated")
    assert left(IDToken) == pks("live id token")
    assert left(Grant) == pks("live grant")
    assert counts == TokenCounts(access_tokens=2, refresh_tokens=2, id_tokens=2, grants=1)


def test_token_purge_with_nothing_expired_deletes_nothing(customer: User, web_client: Application):
    now = timezone.now()
    AccessTokenFactory(
        user=customer, application=web_client, token="at", expires=now + timedelta(minutes=5)
    )
    GrantFactory(
        user=customer, application=web_client, code="c", expires=now + timedelta(seconds=60)
    )

    counts = oauth_tokens_purge()

    assert counts == TokenCounts(access_tokens=0, refresh_tokens=0, id_tokens=0, grants=0)
    assert (AccessToken.objects.count(), Grant.objects.count()) == (1, 1)


def test_session_purge_deletes_expired_sessions_only():
    expired, live = SessionStore(), SessionStore()
    expired["k"] = live["k"] = "v"
    expired.set_expiry(-60)
    expired.save()
    live.save()

    deleted = session_purge_expired()

    assert deleted == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_beat_schedule_runs_every_purge_task_and_each_is_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == PURGE_TASKS
    app.loader.import_default_modules()
    assert scheduled <= set(app.tasks)
    assert {entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} == {
        settings.HOUSEKEEPING_EVERY_SECONDS
    }
