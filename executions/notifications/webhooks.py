"""Webhook delivery: signed POSTs with retries, at least once.

Each attempt is claimed with a conditional update on ``(pk, attempts=n)``, so
duplicate task messages never double-send an attempt and the total number of
attempts never exceeds the maximum; a worker that dies mid-request leaves the row
pending, and :func:`webhook_deliveries_republish` (for the periodic reaper)
publishes it again. Redirects are not followed (a 301/302 would turn the POST into
a GET): a 3xx counts as a failure. A URL the outbound guard refuses fails the
delivery at once; a name that does not resolve is retried.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from executions.models import WebhookDelivery
from executions.notifications.enqueue import DELIVER_WEBHOOK, task_publish, task_publish_on_commit
from executions.notifications.signing import sign, webhook_secret_for
from executions.outbound import OutboundBlocked, OutboundUnresolvable, safe_client
from workflows.models import Workflow

logger = logging.getLogger(__name__)

USER_AGENT = "PRSM-Webhooks/1"
#: How long a claimed attempt may take before the reaper may publish it again.
ATTEMPT_LEASE_SECONDS = 120
#: A message arriving this much before the row's ``next_attempt_at`` is a
#: premature duplicate (the retry that is due is already queued) and is dropped.
#: Small, so workers with slightly skewed clocks still run their retries.
EARLY_SLACK_SECONDS = 2
MAX_BACKOFF_SECONDS = 3600
ERROR_SNIPPET_BYTES = 512


@dataclass(frozen=True)
class WebhookAttempt:
    """What one call of :func:`webhook_attempt` did.

    ``attempted`` is False when nothing was sent (already finished, not due yet,
    a duplicate message lost the claim, the row is gone). ``retry_in`` is the
    countdown in seconds for the next attempt, or None.
    """

    status: str
    attempted: bool
    attempt: int = 0
    response_code: int | None = None
    retry_in: float | None = None


def webhook_max_attempts() -> int:
    return max(1, int(getattr(settings, "PRSM_WEBHOOK_MAX_ATTEMPTS", 6)))


def webhook_backoff_seconds(attempts_made: int) -> float:
    """Delay after the ``attempts_made``-th failed attempt: base * 2**(n-1), capped.

    With the default base of 5 s: 5, 10, 20, 40, 80 s. No jitter: deliveries are
    spread by when their executions end, and a fixed schedule is easy to reason
    about (and to test).
    """
    base = float(getattr(settings, "PRSM_WEBHOOK_BACKOFF_SECONDS", 5))
    return float(min(base * 2 ** max(0, attempts_made - 1), MAX_BACKOFF_SECONDS))


def _timeout_seconds() -> float:
    return float(getattr(settings, "PRSM_WEBHOOK_TIMEOUT_SECONDS", 10))


def _body_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _read_snippet(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= ERROR_SNIPPET_BYTES:
            break
    return b"".join(chunks)[:ERROR_SNIPPET_BYTES].decode("utf-8", "replace")


def webhook_deliver(*, delivery_id: int) -> WebhookAttempt:
    """One attempt (:func:`webhook_attempt`); on failure, publish the next one with
    the backoff countdown (the ``executions.deliver_webhook`` task)."""
    outcome = webhook_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        task_publish(DELIVER_WEBHOOK, args=[delivery_id], countdown=outcome.retry_in)
    return outcome


def webhook_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookAttempt:
    """Make one delivery attempt of a webhook, if one is due.

    Claims the attempt with ``filter(pk, attempts=n, status=pending).update(
    attempts=n + 1)``: zero rows means another message got it, and this returns
    quietly. Then POSTs the signed body through the outbound guard (no redirects)
    and records the outcome, fenced by the claimed attempt number:

    - 2xx → ``delivered``;
    - other status, network error, unresolvable name → ``next_attempt_at`` = now +
      backoff and ``retry_in`` set, or ``failed`` after the last attempt;
    - the guard refuses the URL → ``failed`` at once.

    ``now`` is when the caller considers it to be (tests pass the scheduled time);
    it gates premature duplicates and stamps the row. Holds no lock across the
    HTTP request.
    """
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return WebhookAttempt(status="missing", attempted=False)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return WebhookAttempt(status=delivery.status, attempted=False, attempt=delivery.attempts)
    if delivery.next_attempt_at and now < delivery.next_attempt_at - timedelta(
        seconds=EARLY_SLACK_SECONDS
    ):
        return WebhookAttempt(status=delivery.status, attempted=False, attempt=delivery.attempts)

    made = delivery.attempts
    max_attempts = webhook_max_attempts()
    pending = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING)
    if made >= max_attempts:  # e.g. the setting was lowered while it waited
        pending.filter(attempts=made).update(status=WebhookDelivery.Status.FAILED)
        return WebhookAttempt(status=WebhookDelivery.Status.FAILED, attempted=False, attempt=made)
    attempt = made + 1
    claimed = pending.filter(attempts=made).update(
        attempts=attempt, next_attempt_at=now + timedelta(seconds=ATTEMPT_LEASE_SECONDS)
    )
    if not claimed:
        return WebhookAttempt(status=delivery.status, attempted=False, attempt=made)

    code, error, permanent = _post(delivery)

    fields: dict[str, Any] = {"response_code": code}
    retry_in: float | None = None
    if code is not None and 200 <= code < 300:
        fields.update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=timezone.now(),
            next_attempt_at=None,
        )
    elif permanent or attempt >= max_attempts:
        fields.update(status=WebhookDelivery.Status.FAILED, last_error=error, next_attempt_at=None)
    else:
        retry_in = webhook_backoff_seconds(attempt)
        fields.update(last_error=error, next_attempt_at=now + timedelta(seconds=retry_in))
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=attempt).update(**fields)
    status = fields.get("status", WebhookDelivery.Status.PENDING)
    log = logger.info if status != WebhookDelivery.Status.FAILED else logger.warning
    log(
        "Webhook %s attempt %d/%d: %s%s",
        delivery.public_id,
        attempt,
        max_attempts,
        f"HTTP {code}" if code is not None else error,
        f", retry in {retry_in:g}s" if retry_in is not None else f", {status}",
    )
    return WebhookAttempt(
        status=status, attempted=True, attempt=attempt, response_code=code, retry_in=retry_in
    )


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, bool]:
    """POST the delivery once: (response code, error text, permanent failure?)."""
    body = _body_bytes(delivery.payload)
    timestamp = int(time.time())
    secret = webhook_secret_for(_workflow_public_id(delivery))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.public_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, delivery.public_id, timestamp, body),
    }
    try:
        with (
            safe_client(follow_redirects=False, timeout=_timeout_seconds()) as client,
            client.stream("POST", delivery.url, content=body, headers=headers) as response,
        ):
            code = response.status_code
            if 200 <= code < 300:
                return code, "", False
            return code, f"HTTP {code}: {_read_snippet(response)}".strip(), False
    except OutboundUnresolvable as exc:
        return None, str(exc), False
    except OutboundBlocked as exc:
        return None, f"refused by the outbound guard: {exc}", True
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, False
    except Exception as exc:  # a bug must not leave the row claimed and silent
        logger.exception("Webhook %s: unexpected error", delivery.public_id)
        return None, f"{type(exc).__name__}: {exc}", False


def _workflow_public_id(delivery: WebhookDelivery) -> str:
    data = delivery.payload.get("data") if isinstance(delivery.payload, dict) else None
    if isinstance(data, dict) and isinstance(data.get("workflow_id"), str):
        return str(data["workflow_id"])
    return Workflow.objects.only("public_id").get(executions__webhooks=delivery).public_id


def webhook_deliveries_republish(*, now: datetime | None = None, grace_seconds: int = 60) -> int:
    """Publish again pending deliveries whose message was lost (for the periodic reaper).

    A delivery is overdue when its ``next_attempt_at`` (the retry time, or the
    claim lease of an attempt in flight) passed more than ``grace_seconds`` ago.
    Each is moved forward to ``now`` with a conditional update first, so
    concurrent reapers publish it once and the next run waits another grace
    period. Returns how many were published.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    overdue = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).filter(
        Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at__isnull=True, created_at__lte=cutoff)
    )
    published = 0
    for pk, due in overdue.values_list("pk", "next_attempt_at")[:500]:
        if WebhookDelivery.objects.filter(pk=pk, next_attempt_at=due).update(next_attempt_at=now):
            task_publish_on_commit(DELIVER_WEBHOOK, args=[pk])
            published += 1
    return published
