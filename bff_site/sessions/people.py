"""What Identity's user events say about people, and which BFF sessions each person has.

Part `bff-live` consumes `coffeeshop.user-events` (`manage.py run_live_updates`) and
calls `user_event_apply`. A deactivated or deleted person's sessions are deleted at
once (through the index user → session keys kept at sign-in and sign-out); a role
change is kept as "news" that `services.session_user` applies on the session's next
request, so the roles the BFF forwards to Order (`X-Acting-Roles`) are never older
than Identity's last event. Both live in Redis, next to the sessions.

News carries a sequence number from one Redis counter. Sign-in reads the counter
before the code exchange, so news numbered higher may postdate the ID token and
overrides its claims; news numbered lower was already true when the token was issued.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection

from bff_site.gateway.live import BUS_CHANNEL
from shared.events import Envelope

logger = logging.getLogger("coffeeshop.bff.people")

SEQ_KEY = "people:news-seq"


def _news_key(user_id: str) -> str:
    return f"people:news:{user_id}"


def _index_key(user_id: str) -> str:
    return f"people:sessions:{user_id}"


def _ttl() -> int:
    # A session outlives neither its cookie nor this; a day more covers clock slack.
    return int(settings.SESSION_COOKIE_AGE) + 86400


def _redis() -> Any:
    return get_redis_connection("default")


@dataclass(frozen=True)
class PersonNews:
    active: bool
    roles: tuple[str, ...]
    seq: int


def news_seq() -> int:
    """The sequence number of the newest news so far (0 when there is none)."""
    return int(_redis().get(SEQ_KEY) or 0)


def person_news(*, user_id: str) -> PersonNews | None:
    """The newest news about this person, or None when there is none."""
    raw = _redis().get(_news_key(user_id))
    if raw is None:
        return None
    data = json.loads(raw)
    return PersonNews(bool(data["active"]), tuple(data["roles"]), int(data["seq"]))


def session_index_add(*, user_id: str, session_key: str) -> None:
    key = _index_key(user_id)
    with _redis().pipeline() as pipe:
        pipe.sadd(key, session_key)
        pipe.expire(key, _ttl())
        pipe.execute()


def session_index_remove(*, user_id: str, session_key: str) -> None:
    _redis().srem(_index_key(user_id), session_key)


def person_sessions(*, user_id: str) -> set[str]:
    return {
        k.decode() if isinstance(k, bytes) else str(k)
        for k in _redis().smembers(_index_key(user_id))
    }


def person_sessions_end(*, user_id: str) -> int:
    """Delete every BFF session of this person; answer how many there were."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = person_sessions(user_id=user_id)
    for session_key in keys:
        store(session_key=session_key).delete()
    _redis().delete(_index_key(user_id))
    return len(keys)


def person_news_record(*, user_id: str, active: bool, roles: list[str], occurred_at: str) -> bool:
    """Keep what Identity said about this person, unless newer news is already kept.

    Events of one person arrive in order (Kafka key = user id); `occurred_at` guards
    against a redelivered older event overwriting a newer one. Answers whether kept.
    """
    redis = _redis()
    key = _news_key(user_id)
    at = _timestamp(occurred_at)
    old = redis.get(key)
    if old is not None and float(json.loads(old).get("at", 0)) > at:
        return False
    seq = int(redis.incr(SEQ_KEY))
    news = {"active": active, "roles": list(roles), "seq": seq, "at": at}
    redis.set(key, json.dumps(news), ex=_ttl())
    return True


def _timestamp(occurred_at: str) -> float:
    return datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).timestamp()


def user_event_apply(envelope: Envelope) -> bool:
    """Apply one user event to the BFF's sessions; False when it is not about access.

    `user.updated` with `is_active` false and `user.deleted` end every session of the
    person; any `user.updated` records the person's roles for `session_user`.
    """
    payload = envelope.payload
    if envelope.event_type not in ("user.updated", "user.deleted") or not payload.get("user_id"):
        return False
    user_id = str(payload["user_id"])
    if envelope.event_type == "user.deleted":
        active, roles = False, []
    else:
        active = bool(payload.get("is_active", True))
        roles = [
            str(r)
            for r in payload.get("roles") or ([payload["role"]] if payload.get("role") else [])
        ]
    if not person_news_record(
        user_id=user_id, active=active, roles=roles, occurred_at=envelope.occurred_at
    ):
        return False
    ended = person_sessions_end(user_id=user_id) if not active else 0
    # Open event streams were authorised with the old roles: end them (the browser's
    # EventSource reconnects with the new ones, or is refused).
    _redis().publish(BUS_CHANNEL, json.dumps({"account": user_id, "event": envelope.event_type}))
    logger.info(
        "user event applied",
        extra={"event": envelope.event_type, "user_id": user_id, "active": active, "ended": ended},
    )
    return True
