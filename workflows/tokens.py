"""API tokens: create (the key is returned once), authenticate, revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from workflows.access import token_revoked_on_commit
from workflows.models import ApiToken

KEY_PREFIX = "prsm_"
# last_used_at is refreshed at most this often, so reads do not each write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> NewToken:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=_hash(key),
        expires_at=expires_at,
    )
    return NewToken(token=token, key=key)


def api_token_authenticate(*, key: str) -> ApiToken | None:
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(key)).first()
    now = timezone.now()
    if token is None or not token.is_active(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token; websockets opened with it close (4401) after commit."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        token_revoked_on_commit(token_id=token.pk)
    return token
