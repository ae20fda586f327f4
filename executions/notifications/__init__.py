"""Telling people an execution ended: webhooks (Standard Webhooks) and email.

Flow
    1. At execute time the API calls :func:`validate_notification_config` (errors
       → 400) and stores the normalized config on the execution (``config``).
    2. Inside the transaction that finalizes the execution, the engine calls
       :func:`notifications_enqueue` (``enqueue``). It creates a
       :class:`~executions.models.WebhookDelivery` row and publishes the Celery
       tasks by name with ``transaction.on_commit`` — a rolled-back finalization
       sends nothing.
    3. The ``executions.deliver_webhook`` task (in ``executions.tasks``) calls
       :func:`webhook_deliver` (``webhooks``): one signed attempt (``signing``)
       and, on failure, the next one published with a countdown (exponential
       backoff). ``executions.send_email_notification`` calls
       :func:`notification_email_send` (``emails``).

The event ``type`` is ``execution.completed | execution.failed |
execution.timed_out | execution.cancelled``; the payload holds ids, status, final
result, cost, error and completion time, never secrets. Delivery is at least
once, for webhooks and email alike.
"""

from executions.notifications.config import (
    CHANNELS,
    NotificationConfigError,
    validate_notification_config,
)
from executions.notifications.emails import (
    NotificationEmail,
    notification_email,
    notification_email_send,
)
from executions.notifications.enqueue import (
    DELIVER_WEBHOOK,
    EVENT_FOR_STATUS,
    SEND_EMAIL_NOTIFICATION,
    notification_payload,
    notifications_enqueue,
)
from executions.notifications.signing import sign, verify, webhook_secret_for
from executions.notifications.webhooks import (
    WebhookAttempt,
    webhook_attempt,
    webhook_backoff_seconds,
    webhook_deliver,
    webhook_deliveries_republish,
)

__all__ = [
    "CHANNELS",
    "DELIVER_WEBHOOK",
    "EVENT_FOR_STATUS",
    "SEND_EMAIL_NOTIFICATION",
    "NotificationConfigError",
    "NotificationEmail",
    "WebhookAttempt",
    "notification_email",
    "notification_email_send",
    "notification_payload",
    "notifications_enqueue",
    "sign",
    "validate_notification_config",
    "verify",
    "webhook_attempt",
    "webhook_backoff_seconds",
    "webhook_deliver",
    "webhook_deliveries_republish",
    "webhook_secret_for",
]
