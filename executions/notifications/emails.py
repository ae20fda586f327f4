"""The notification email of a finished run: what it says, and sending it.

At least once: a worker lost after ``send_mail`` sends it again on redelivery.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from executions.models import Execution
from executions.notifications.enqueue import execution_redactor, iso

logger = logging.getLogger(__name__)

_OUTCOME_FOR_EVENT = {
    "execution.completed": "completed",
    "execution.failed": "failed",
    "execution.timed_out": "timed out",
    "execution.cancelled": "was cancelled",
}


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
    outcome = _OUTCOME_FOR_EVENT.get(event, execution.status)
    lines = [
        f"Workflow: {workflow.name} ({workflow.public_id})",
        f"Execution: {execution.public_id}",
        f"Status: {execution.status}",
        f"Started: {iso(execution.started_at) or '-'}",
        f"Finished: {iso(execution.completed_at) or '-'}",
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
    redactor = execution_redactor(execution)
    if redactor is None:
        return "(not shown: it could not be checked for secrets)"
    error = redactor.redact(execution.error)
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
    else:
        text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    return text if len(text) <= 1000 else text[:1000] + "…"


def notification_email_send(*, execution_id: int, event: str) -> bool:
    """Send the notification email of ``event`` for the execution ``execution_id`` (pk).

    Returns whether one was sent (not for a deleted execution or a missing address).
    SMTP errors propagate (they are ``OSError``s; the task retries them).
    """
    execution = (
        Execution.objects.select_related("workflow", "created_by").filter(pk=execution_id).first()
    )
    if execution is None:
        return False
    email = notification_email(execution, event)
    if email is None:
        return False
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.recipient])
    return True
