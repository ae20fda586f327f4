"""Telling people an execution ended: webhooks (Standard Webhooks) and email.

Flow
    1. At execute time the API calls :func:`validate_notification_config` (errors
       → 400) and stores the normalized config on the execution.
    2. Inside the transaction that finalizes the execution, the engine calls
       :func:`notifications_enqueue`. It creates a :class:`WebhookDelivery` row and
       schedules the Celery tasks with ``transaction.on_commit`` — a rolled-back
       finalization sends nothing.
    3. ``executions.deliver_webhook`` makes one attempt (:func:`webhook_attempt`)
       and, on failure, publishes itself again with a countdown (exponential
       backoff); ``executions.send_email_notification`` sends the email.

Which status notifies which list
    ``completed`` → ``on_completion``; ``failed``, ``timed_out`` and ``cancelled``
    → ``on_failure`` (a cancelled run did not produce its result, and the seed
    has no third list). The event ``type`` says which it was:
    ``execution.completed | execution.failed | execution.timed_out |
    execution.cancelled``.

Webhooks (https://www.standardwebhooks.com)
    Headers ``webhook-id`` (the delivery's ``msg_…`` id, the same on every
    attempt, so receivers can drop duplicates), ``webhook-timestamp`` (Unix
    seconds of the attempt) and ``webhook-signature`` (``v1,`` + base64
    HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``). The body is
    ``{"type", "timestamp", "data": {...}}`` — ids, status, final result, cost,
    error, completion time; never secrets (values are passed through the
    execution's :class:`~executions.security.Redactor` as a last line of defence).

    The signing secret is per workflow and derived, not stored:
    ``whsec_`` + base64(HMAC-SHA256(key derived from ``PRSM_WEBHOOK_SIGNING_KEY``,
    falling back to ``SECRET_KEY``, message = the workflow's public id)). The
    workflow's owner reads it from ``GET /workflows/{id}/webhook-secret`` and
    gives it to the receiver. Consequences: no table and nothing to back up,
    but it cannot be rotated per workflow; changing the key rotates every
    workflow's secret at once.

Delivery guarantees
    At least once. Each attempt is claimed with a conditional update on
    ``(pk, attempts=n)``, so duplicate task messages never double-send an attempt
    and the total number of attempts never exceeds the maximum; a worker that
    dies mid-request leaves the row pending, and :func:`webhook_deliveries_republish`
    (for the periodic reaper) publishes it again. Redirects are not followed (a
    301/302 would turn the POST into a GET): a 3xx counts as a failure. A URL the
    outbound guard refuses fails the delivery at once; a name that does not
    resolve is retried. Email is at least once as well (a worker lost after
    ``send_mail`` sends it again on redelivery).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from executions.crypto import DecryptionFailed
from executions.models import Execution, ExecutionStatus, WebhookDelivery
from executions.outbound import OutboundBlocked, OutboundUnresolvable, check_url, safe_client
from executions.security import Redactor, decrypt_secrets
from workflows.models import Workflow

logger = logging.getLogger(__name__)

__all__ = [
    "CHANNELS",
    "EVENT_FOR_STATUS",
    "NotificationConfigError",
    "NotificationEmail",
    "WebhookAttempt",
    "deliver_webhook",
    "notification_email",
    "notification_payload",
    "notifications_enqueue",
    "send_email_notification",
    "sign",
    "validate_notification_config",
    "verify",
    "webhook_attempt",
    "webhook_backoff_seconds",
    "webhook_deliveries_republish",
    "webhook_secret_for",
]

CHANNELS: tuple[str, ...] = ("email", "webhook")
CHANNEL_LISTS: tuple[str, ...] = ("on_completion", "on_failure")
CONFIG_KEYS: tuple[str, ...] = (*CHANNEL_LISTS, "webhook_url", "email")
MAX_URL_LENGTH = 2000  # WebhookDelivery.url

EVENT_FOR_STATUS: dict[str, str] = {
    ExecutionStatus.COMPLETED: "execution.completed",
    ExecutionStatus.FAILED: "execution.failed",
    ExecutionStatus.TIMED_OUT: "execution.timed_out",
    ExecutionStatus.CANCELLED: "execution.cancelled",
}

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
USER_AGENT = "PRSM-Webhooks/1"
#: How long a claimed attempt may take before the reaper may publish it again.
ATTEMPT_LEASE_SECONDS = 120
#: A message arriving this much before the row's ``next_attempt_at`` is a
#: premature duplicate (the retry that is due is already queued) and is dropped.
#: Small, so workers with slightly skewed clocks still run their retries.
EARLY_SLACK_SECONDS = 2
MAX_BACKOFF_SECONDS = 3600
ERROR_SNIPPET_BYTES = 512


# --------------------------------------------------------------------------- config


class NotificationConfigError(ValueError):
    """``notification_config`` is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def validate_notification_config(cfg: Any, *, user: Any = None) -> dict[str, Any]:
    """The normalized config, or :class:`NotificationConfigError`.

    Shape: ``{"on_completion": [...], "on_failure": [...], "webhook_url": "...",
    "email": "..."}``, all optional; the lists hold ``"email"`` and/or
    ``"webhook"`` (duplicates dropped). The result always has both lists.

    The webhook URL must be http(s) and pass the outbound guard now (a name that
    does not resolve *now* is accepted: DNS may be briefly down, and every
    delivery attempt checks again). ``email`` defaults to the address of the user
    who starts the execution; pass that ``user`` to have a missing address
    reported here rather than skipped at send time.
    """
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise NotificationConfigError("notification_config", "must be an object")
    for key in cfg:
        if key not in CONFIG_KEYS:
            raise NotificationConfigError(
                f"notification_config.{key}",
                f"unknown setting; expected one of: {', '.join(CONFIG_KEYS)}",
            )
    result: dict[str, Any] = {}
    for key in CHANNEL_LISTS:
        result[key] = _channel_list(key, cfg.get(key))
    used = {channel for key in CHANNEL_LISTS for channel in result[key]}

    url = cfg.get("webhook_url")
    if url is not None:
        result["webhook_url"] = _checked_webhook_url(url)
    elif "webhook" in used:
        raise NotificationConfigError(
            "notification_config.webhook_url", "is required when a list includes 'webhook'"
        )

    email = cfg.get("email")
    if email is not None:
        if not isinstance(email, str):
            raise NotificationConfigError("notification_config.email", "must be a string")
        try:
            validate_email(email)
        except ValidationError:
            raise NotificationConfigError(
                "notification_config.email", f"{email!r} is not an email address"
            ) from None
        result["email"] = email
    elif "email" in used and user is not None and not getattr(user, "email", ""):
        raise NotificationConfigError(
            "notification_config.email",
            "is required: the account has no email address to default to",
        )
    return result


def _channel_list(key: str, value: Any) -> list[str]:
    where = f"notification_config.{key}"
    if value is None:
        return []
    if not isinstance(value, list):
        raise NotificationConfigError(where, "must be a list of channels")
    channels: list[str] = []
    for i, channel in enumerate(value):
        if channel not in CHANNELS:
            raise NotificationConfigError(
                f"{where}[{i}]",
                f"unknown channel {channel!r}; expected one of: {', '.join(CHANNELS)}",
            )
        if channel not in channels:
            channels.append(channel)
    return channels


def _checked_webhook_url(url: Any) -> str:
    where = "notification_config.webhook_url"
    if not isinstance(url, str) or not url.strip():
        raise NotificationConfigError(where, "must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise NotificationConfigError(where, f"is longer than {MAX_URL_LENGTH} characters")
    if url != url.strip() or any(c.isspace() for c in url):
        raise NotificationConfigError(where, "must not contain whitespace")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise NotificationConfigError(where, f"is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NotificationConfigError(where, "must be an http:// or https:// URL with a host")
    try:
        check_url(parsed)
    except OutboundUnresolvable:
        pass  # see the docstring: checked again on every attempt
    except OutboundBlocked as exc:
        raise NotificationConfigError(where, str(exc)) from None
    return url


# --------------------------------------------------------------------------- enqueue


def _on_commit_delay(task: Any, *args: Any) -> None:
    """Publish ``task`` after the current transaction commits (never for a rollback).

    ``robust``: a broker outage must not fail the request that already committed;
    the delivery row stays pending and the reaper publishes it again.
    """
    transaction.on_commit(lambda: task.delay(*args), robust=True)


def notifications_enqueue(execution: Execution) -> list[WebhookDelivery]:
    """Create the webhook deliveries and schedule the notifications of a finished run.

    Call it inside the transaction that finalizes ``execution`` (holding its row
    lock), once per finalization; the tasks are published on commit. Returns the
    created deliveries. Idempotent for webhooks: an execution that already has a
    delivery for this event gets no second one. Raises ``ValueError`` if the
    execution is not terminal.
    """
    event = EVENT_FOR_STATUS.get(execution.status)
    if event is None:
        raise ValueError(f"{execution.public_id} is {execution.status}: nothing to notify yet")
    cfg = execution.notification_config or {}
    wanted = cfg.get("on_completion" if event == "execution.completed" else "on_failure")
    channels = [c for c in wanted if c in CHANNELS] if isinstance(wanted, list) else []
    deliveries: list[WebhookDelivery] = []
    url = cfg.get("webhook_url")
    if (
        "webhook" in channels
        and isinstance(url, str)
        and url
        and not WebhookDelivery.objects.filter(execution=execution, event=event).exists()
    ):
        now = timezone.now()
        delivery = WebhookDelivery.objects.create(
            execution=execution,
            event=event,
            url=url,
            payload=notification_payload(execution, event, now=now),
            next_attempt_at=now,
        )
        _on_commit_delay(deliver_webhook, delivery.pk)
        deliveries.append(delivery)
    if "email" in channels:
        _on_commit_delay(send_email_notification, execution.pk, event)
    return deliveries


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _execution_redactor(execution: Execution) -> Redactor | None:
    """The redactor for the execution's secrets; None if they cannot be decrypted."""
    try:
        return Redactor(decrypt_secrets(execution.secrets_encrypted).values())
    except (DecryptionFailed, ValueError):
        logger.warning(
            "Secrets of %s cannot be decrypted; its notification leaves out the result "
            "and error, which could not be checked for secrets.",
            execution.public_id,
        )
        return None


def notification_payload(
    execution: Execution, event: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The Standard Webhooks payload of ``event`` (secrets redacted)."""
    redactor = _execution_redactor(execution)
    final_result = redactor.redact(execution.final_result) if redactor is not None else None
    error = redactor.redact(execution.error) if redactor is not None else None
    return {
        "type": event,
        "timestamp": _iso(now or timezone.now()),
        "data": {
            "execution_id": execution.public_id,
            "workflow_id": execution.workflow.public_id,
            "status": execution.status,
            "final_result": final_result,
            "total_cost": float(execution.total_cost),
            "error": error,
            "completed_at": _iso(execution.completed_at),
        },
    }


# --------------------------------------------------------------------------- signing


def webhook_secret_for(workflow: Workflow | str) -> str:
    """The Standard Webhooks signing secret (``whsec_…``) of a workflow (or public id).

    Derived, so nothing is stored; see the module docstring for the trade-off.
    Set ``PRSM_WEBHOOK_SIGNING_KEY`` to keep the secrets when ``SECRET_KEY`` rotates.
    """
    public_id = workflow if isinstance(workflow, str) else workflow.public_id
    key = getattr(settings, "PRSM_WEBHOOK_SIGNING_KEY", None) or settings.SECRET_KEY
    digest = salted_hmac(
        "executions.notifications.webhook_secret", public_id, secret=key, algorithm="sha256"
    ).digest()
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


# --------------------------------------------------------------------------- delivery


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
        return data["workflow_id"]
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
            _on_commit_delay(deliver_webhook, pk)
            published += 1
    return published


@shared_task(name="executions.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """One attempt; on failure, publish the next one with the backoff countdown."""
    outcome = webhook_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        deliver_webhook.apply_async(args=[delivery_id], countdown=outcome.retry_in)


# --------------------------------------------------------------------------- email


@dataclass(frozen=True)
class NotificationEmail:
    recipient: str
    subject: str
    body: str


def notification_email(execution: Execution, event: str) -> NotificationEmail | None:
    """The email for ``event``, or None when there is no address to send it to.

    It says what ended and how, with no result data (results can be large and
    belong in the app); ``PRSM_PUBLIC_URL``, when set, adds a link to the run.
    """
    cfg = execution.notification_config or {}
    recipient = cfg.get("email") or getattr(execution.created_by, "email", "")
    if not recipient:
        logger.warning("No email address for the notification of %s", execution.public_id)
        return None
    workflow = execution.workflow
    outcome = {
        "execution.completed": "completed",
        "execution.failed": "failed",
        "execution.timed_out": "timed out",
        "execution.cancelled": "was cancelled",
    }.get(event, execution.status)
    lines = [
        f"Workflow: {workflow.name} ({workflow.public_id})",
        f"Execution: {execution.public_id}",
        f"Status: {execution.status}",
        f"Started: {_iso(execution.started_at) or '-'}",
        f"Finished: {_iso(execution.completed_at) or '-'}",
        f"Total cost: {float(execution.total_cost):.6f}",
    ]
    error = _error_text(execution)
    if error:
        lines.append(f"Error: {error}")
    base_url = str(getattr(settings, "PRSM_PUBLIC_URL", "") or "").rstrip("/")
    if base_url:
        lines.append(f"Details: {base_url}/executions/{execution.public_id}")
    return NotificationEmail(
        recipient=recipient,
        subject=f"[PRSM] {workflow.name}: execution {outcome}",
        body="\n".join(lines) + "\n",
    )


def _error_text(execution: Execution) -> str:
    if not execution.error:
        return ""
    redactor = _execution_redactor(execution)
    if redactor is None:
        return "(not shown: it could not be checked for secrets)"
    error = redactor.redact(execution.error)
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
    else:
        text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    return text if len(text) <= 1000 else text[:1000] + "…"


@shared_task(
    name="executions.send_email_notification",
    ignore_result=True,
    autoretry_for=(OSError,),  # SMTP errors are OSErrors
    retry_backoff=True,
    max_retries=5,
)
def send_email_notification(execution_id: int, event: str) -> None:
    """Send the notification email of ``event`` for the execution ``execution_id`` (pk)."""
    execution = (
        Execution.objects.select_related("workflow", "created_by").filter(pk=execution_id).first()
    )
    if execution is None:
        return
    email = notification_email(execution, event)
    if email is not None:
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient])
