"""What to notify and when: the event of a finished run, its payload, and the tasks
published after the finalizing transaction commits.

Which status notifies which list: ``completed`` → ``on_completion``; ``failed``,
``timed_out`` and ``cancelled`` → ``on_failure`` (a cancelled run did not produce
its result, and the seed has no third list). The event ``type`` says which it was.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions.crypto import DecryptionFailed
from executions.models import Execution, ExecutionStatus, WebhookDelivery
from executions.notifications.config import CHANNELS
from executions.security import Redactor, decrypt_secrets

logger = logging.getLogger(__name__)

#: The Celery tasks (in ``executions.tasks``), published by name: services never
#: import the task module. Queued messages carry these names: never rename them.
DELIVER_WEBHOOK = "executions.deliver_webhook"
SEND_EMAIL_NOTIFICATION = "executions.send_email_notification"

EVENT_FOR_STATUS: dict[str, str] = {
    ExecutionStatus.COMPLETED: "execution.completed",
    ExecutionStatus.FAILED: "execution.failed",
    ExecutionStatus.TIMED_OUT: "execution.timed_out",
    ExecutionStatus.CANCELLED: "execution.cancelled",
}


def task_publish(name: str, *, args: list[Any], countdown: float | None = None) -> None:
    """Publish the task called ``name`` now.

    Through a signature, so a task registered in this process runs as configured
    (eagerly in tests that ask for it); one that is not is sent by name, routed by
    ``CELERY_TASK_ROUTES`` either way.
    """
    from prsm_site.celery import app

    app.signature(name, args=args).apply_async(countdown=countdown)


def task_publish_on_commit(name: str, *, args: list[Any]) -> None:
    """Publish the task ``name`` after the current transaction commits (never for a
    rollback).

    ``robust``: a broker outage must not fail the request that already committed;
    the delivery row stays pending and the reaper publishes it again.
    """
    transaction.on_commit(lambda: task_publish(name, args=args), robust=True)


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
        task_publish_on_commit(DELIVER_WEBHOOK, args=[delivery.pk])
        deliveries.append(delivery)
    if "email" in channels:
        task_publish_on_commit(SEND_EMAIL_NOTIFICATION, args=[execution.pk, event])
    return deliveries


def iso(dt: datetime | None) -> str | None:
    """``dt`` in UTC as ISO 8601 with a ``Z``; None stays None."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def execution_redactor(execution: Execution) -> Redactor | None:
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
    """The Standard Webhooks payload of ``event``: ``{"type", "timestamp", "data"}``
    with ids, status, final result, cost, error and completion time, never secrets
    (values pass through the execution's redactor as a last line of defence)."""
    redactor = execution_redactor(execution)
    final_result = redactor.redact(execution.final_result) if redactor is not None else None
    error = redactor.redact(execution.error) if redactor is not None else None
    return {
        "type": event,
        "timestamp": iso(now or timezone.now()),
        "data": {
            "execution_id": execution.public_id,
            "workflow_id": execution.workflow.public_id,
            "status": execution.status,
            "final_result": final_result,
            "total_cost": float(execution.total_cost),
            "error": error,
            "completed_at": iso(execution.completed_at),
        },
    }
