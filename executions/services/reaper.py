"""The periodic backstop: nothing is left running or queued forever.

- running steps whose heartbeat went stale (their worker vanished) are queued
  again — a lost worker is not the step's fault — up to ``MAX_WORKER_LOSSES``
  times, after which the loss counts as a ``temporary_failure`` of the step;
- queued or due retrying steps not claimed for a while are published again (their
  message was lost: a crash between commit and publish, a Redis restart) — a
  duplicate is harmless, since claiming is a conditional update;
- executions past their deadline are timed out;
- running executions with nothing active are advanced (dispatch what is ready);
- webhook deliveries whose retry message was lost are published again.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from executions.models import STEP_ACTIVE, Execution, ExecutionStatus, StepRun, StepStatus
from executions.services import engine, lifecycle, steps
from executions.services.tx import Tx


def reap() -> dict[str, int]:
    now = timezone.now()
    counts = {"lost_workers": 0, "republished": 0, "timed_out": 0, "advanced": 0, "webhooks": 0}
    stale = now - timedelta(seconds=settings.PRSM_STALE_HEARTBEAT_SECONDS)
    for run_id, attempt in (
        StepRun.objects.filter(status=StepStatus.RUNNING, children__isnull=True)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale))
        .values_list("pk", "attempt")
    ):
        counts["lost_workers"] += steps.step_run_worker_lost(step_run_id=run_id, attempt=attempt)

    lost_before = now - timedelta(seconds=settings.PRSM_REPUBLISH_AFTER_SECONDS)
    lost = (
        StepRun.objects.filter(
            Q(status=StepStatus.QUEUED, queued_at__lt=lost_before)
            | Q(status=StepStatus.RETRYING, next_attempt_at__lt=lost_before)
        )
        .values_list("execution_id", flat=True)
        .distinct()
    )
    for execution_pk in list(lost):
        with transaction.atomic():
            tx = Tx.lock(execution_pk)
            for run in StepRun.objects.filter(execution_id=execution_pk).filter(
                Q(status=StepStatus.QUEUED, queued_at__lt=lost_before)
                | Q(status=StepStatus.RETRYING, next_attempt_at__lt=lost_before)
            ):
                StepRun.objects.filter(pk=run.pk).update(queued_at=now)
                tx.dispatch(run)
                counts["republished"] += 1
            tx.flush()

    for pk in Execution.objects.filter(
        status=ExecutionStatus.RUNNING, deadline_at__lt=now
    ).values_list("pk", flat=True):
        counts["timed_out"] += lifecycle.execution_time_out(execution_pk=pk)

    idle = (
        Execution.objects.filter(status=ExecutionStatus.RUNNING)
        .exclude(step_runs__status__in=STEP_ACTIVE)
        .values_list("pk", flat=True)
    )
    for pk in list(idle):
        with transaction.atomic():
            tx = Tx.lock(pk)
            before = tx.execution.event_seq
            engine.advance(tx)
            counts["advanced"] += tx.execution.event_seq != before
            tx.flush()
    from executions.notifications import webhook_deliveries_republish

    counts["webhooks"] = webhook_deliveries_republish(now=now)
    return counts
