"""Standard Webhooks signing (https://www.standardwebhooks.com).

Headers ``webhook-id`` (the delivery's ``msg_…`` id, the same on every attempt, so
receivers can drop duplicates), ``webhook-timestamp`` (Unix seconds of the
attempt) and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"``).

The signing secret is per workflow and derived, not stored: ``whsec_`` +
base64(HMAC-SHA256(key derived from ``PRSM_WEBHOOK_SIGNING_KEY``, falling back to
``SECRET_KEY``, message = the workflow's public id)). The workflow's owner reads it
from ``GET /workflows/{id}/webhook-secret`` and gives it to the receiver.
Consequences: no table and nothing to back up, but it cannot be rotated per
workflow; changing the key rotates every workflow's secret at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from django.conf import settings
from django.utils.crypto import salted_hmac

from workflows.models import Workflow

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
#: The salt of the secret's derivation: changing it changes every workflow's secret.
_SECRET_SALT = "executions.notifications.webhook_secret"


def webhook_secret_for(workflow: Workflow | str) -> str:
    """The Standard Webhooks signing secret (``whsec_…``) of a workflow (or public id).

    Derived, so nothing is stored; see the module docstring for the trade-off.
    Set ``PRSM_WEBHOOK_SIGNING_KEY`` to keep the secrets when ``SECRET_KEY`` rotates.
    """
    public_id = workflow if isinstance(workflow, str) else workflow.public_id
    key = getattr(settings, "PRSM_WEBHOOK_SIGNING_KEY", None) or settings.SECRET_KEY
    digest = salted_hmac(_SECRET_SALT, public_id, secret=key, algorithm="sha256").digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode("ascii")


def _secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">``."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = TIMESTAMP_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``body`` with these headers was signed with ``secret``, recently.

    For receivers and tests. Header names are case-insensitive; the signature
    header may list several space-separated signatures (key rotation), any of
    which may match. A timestamp more than ``tolerance_seconds`` away from now is
    refused (replay protection).
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_ts = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not raw_ts or not signatures:
        return False
    try:
        timestamp = int(raw_ts)
        expected = sign(secret, msg_id, timestamp, body)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures.split())
