"""The periodic backstop: nothing is left running or queued forever.

One function per concern, each run by ``reap`` in turn:

- ``_requeue_lost_workers``: running steps whose heartbeat went stale (their worker
  vanished) are queued again, ahead of new work of their priority — a lost
  worker is not the step's fault — up to ``MAX_WORKER_LOSSES`` times, after which
  the loss counts as a ``temporary_failure`` of the step;
- ``_fail_queue_timeouts``: a step waiting for a worker longer than its
  ``queue_timeout`` (or the execution's) fails with error type ``queue_timeout``;
- ``_republish_lost_messages``: queued or due retrying steps not claimed for a
  while are published again (their message was lost: a crash between commit and
  publish, a Redis restart), **once per queuing**, ahead of new work of their
  priority (``advance.RECOVERED_AHEAD``), and only to a queue some live
  worker consumes; a step whose message could not be published at all (the broker
  was down, ``dispatch.dispatch_deferred``) at the next pass. A duplicate is
  harmless, since claiming is a conditional update;
- ``_time_out_executions``: executions past their deadline are timed out;
- ``_advance_idle``: running executions with nothing active are advanced
  (dispatch what is ready);
- ``_republish_webhooks``: webhook deliveries whose retry message was lost are
  published again.

The beat publishes ``reap`` every ``PRSM_REAPER_INTERVAL_SECONDS``; ``reap_once`` is
what that task runs. Two beats (a second one started by mistake, or one per host
for safety) are safe: a pass runs only if it takes the interval's turn in Redis
(``counters.reaper_turn_claim``), so the work is done once per interval however
many beats publish, and only while it holds a PostgreSQL advisory lock, so two
passes never overlap (a slow pass, a Redis that is away). A worker that dies
mid-pass drops its connection, and the lock with it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from executions.models import STEP_ACTIVE, Execution, ExecutionStatus, StepRun, StepStatus
from executions.operations import counters
from executions.operations.counters import reaper_record
from executions.services import advance, lifecycle, step_runs
from executions.services.tx import Tx, plan_for

logger = logging.getLogger(__name__)

#: The end of the task id of a message the reaper published again: a run whose
#: task id ends so has had its one republish for this queuing (each new queuing —
#: a retry, a lost worker — gives the run a new task id).
REPUBLISHED = "-r"

QUEUE_TIMEOUT = "queue_timeout"

#: The PostgreSQL advisory lock a reaper pass holds ("prsmreap" in ASCII).
REAPER_LOCK = 0x7072736D72656170


def reap_once(interval: float | None = None) -> dict[str, int] | None:
    """The beat's pass: ``reap()``, unless this interval's pass was taken or another
    pass is running (None then, and the skip is counted for ``/readyz``).

    ``interval``: the beat's schedule (it sends it), else this process's
    ``PRSM_REAPER_INTERVAL_SECONDS``."""
    try:
        turn = counters.reaper_turn_claim(interval or settings.PRSM_REAPER_INTERVAL_SECONDS)
    except redis.RedisError as exc:  # the reaper is most needed then: run, under the lock
        logger.warning("reaper: the interval's turn could not be taken in Redis: %s", exc)
        turn = True
    if not turn:
        counters.reaper_skip_record()
        return None
    with _exclusive() as held:
        if not held:
            counters.reaper_skip_record()
            return None
        return reap()


@contextmanager
def _exclusive() -> Iterator[bool]:
    """Hold the reaper's advisory lock (session level: the pass runs many
    transactions) if no one else does; True if held. SQLite (one machine, the
    embedded default) has no such lock: the turn alone keeps passes apart."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REAPER_LOCK])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REAPER_LOCK])


def reap() -> dict[str, int]:
    now = timezone.now()
    counts = {
        "lost_workers": _requeue_lost_workers(now),
        "queue_timeouts": _fail_queue_timeouts(now),
        "republished": _republish_lost_messages(now),
        "timed_out": _time_out_executions(now),
    }
    counts["advanced"], counts["stalled"] = _advance_idle()
    counts["webhooks"] = _republish_webhooks(now)
    # For /readyz (the beat is alive) and /metrics, in Redis for every process.
    reaper_record(counts)
    return counts


def _requeue_lost_workers(now: datetime) -> int:
    stale = now - timedelta(seconds=settings.PRSM_STALE_HEARTBEAT_SECONDS)
    lost = 0
    for run_id, attempt in (
        StepRun.objects.filter(status=StepStatus.RUNNING, children__isnull=True)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale))
        .values_list("pk", "attempt")
    ):
        lost += step_runs.step_run_worker_lost(step_run_id=run_id, attempt=attempt)
    return lost


def _consumers(queues: set[str]) -> dict[str, int | None]:
    """Live workers per queue (None: the registry could not be read)."""
    from executions.workers import queue_consumers

    try:
        return dict(queue_consumers(queues))
    except redis.RedisError as exc:
        logger.warning("reaper: the worker registry could not be read: %s", exc)
        return dict.fromkeys(queues)


# --------------------------------------------------------------------------- lost messages


def _lost(now: datetime) -> Q:
    """Runs whose message may be lost and has not been published again yet."""
    lost_before = now - timedelta(seconds=settings.PRSM_REPUBLISH_AFTER_SECONDS)
    queued = Q(status=StepStatus.QUEUED) & (Q(queued_at__lt=lost_before) | Q(task_id=""))
    retrying = Q(status=StepStatus.RETRYING) & (
        Q(next_attempt_at__lt=lost_before) | Q(task_id="", next_attempt_at__lte=now)
    )
    return (queued | retrying) & ~Q(task_id__endswith=REPUBLISHED)


def _republish_lost_messages(now: datetime) -> int:
    """Publish again, once, the message of each run that has waited too long on a
    queue some live worker consumes. On a queue nobody consumes the message is not
    lost but unread: the run waits there (its ``waiting`` says so) for a worker or
    its ``queue_timeout``."""
    candidates = list(StepRun.objects.filter(_lost(now)).values_list("execution_id", "queue"))
    if not candidates:
        return 0
    consumers = _consumers({queue for _, queue in candidates})
    live = {queue for queue, count in consumers.items() if count != 0}  # None: unknown
    republished = 0
    for execution_pk in sorted({pk for pk, queue in candidates if queue in live}):
        with transaction.atomic():
            tx = Tx.lock(execution_pk)
            lost = StepRun.objects.filter(_lost(now), execution_id=execution_pk, queue__in=live)
            for run in lost:
                run.task_id = f"step-{run.pk}-{uuid.uuid4().hex[:12]}{REPUBLISHED}"
                StepRun.objects.filter(pk=run.pk).update(task_id=run.task_id)
                tx.dispatch(run, fresh_id=False, recovered=True)
                republished += 1
            tx.flush()
    return republished


# --------------------------------------------------------------------------- queue timeouts


def _queue_timeout(execution: Execution, run: StepRun) -> int | None:
    """The run's ``queue_timeout``: its spec's (a branch, a loop body), its step's, or
    the execution's ``execution_config``."""
    plan = plan_for(execution)
    spec = advance.step_spec(plan, run)
    seconds = getattr(spec, "queue_timeout", None) or getattr(
        plan.step(run.step_id), "queue_timeout", None
    )
    return seconds or execution.config.get("queue_timeout") or None


def _waiting_since(run: StepRun) -> datetime | None:
    return run.queued_at if run.status == StepStatus.QUEUED else run.next_attempt_at


def _fail_queue_timeouts(now: datetime) -> int:
    """Fail each run that has waited for a worker longer than its ``queue_timeout``
    (and with it the execution), saying which queue and whether anyone consumes it."""
    waiting = Q(status=StepStatus.QUEUED, queued_at__isnull=False) | Q(
        status=StepStatus.RETRYING, next_attempt_at__lt=now
    )
    runs = list(
        StepRun.objects.filter(waiting)
        .only(
            *("pk", "execution_id", "key", "step_id", "iteration", "status", "queue"),
            *("queued_at", "next_attempt_at"),
        )
        .order_by("execution_id", "pk")
    )
    if not runs:
        return 0
    executions = {
        e.pk: e
        for e in Execution.objects.filter(
            pk__in={r.execution_id for r in runs}, status=ExecutionStatus.RUNNING
        ).only("pk", "public_id", "config", "definition")
    }
    due: dict[int, tuple[StepRun, int]] = {}
    for run in runs:
        execution = executions.get(run.execution_id)
        since = _waiting_since(run)
        if execution is None or since is None or run.execution_id in due:
            continue
        limit = _queue_timeout(execution, run)
        if limit and (now - since).total_seconds() > limit:
            due[run.execution_id] = (run, limit)
    if not due:
        return 0
    consumers = _consumers({run.queue for run, _ in due.values()})
    failed = 0
    for execution_pk, (late, limit) in sorted(due.items()):
        with transaction.atomic():
            tx = Tx.lock(execution_pk)
            still = StepRun.objects.filter(
                pk=late.pk, status=late.status, queued_at=late.queued_at
            ).first()
            if still is None or tx.execution.status != ExecutionStatus.RUNNING:
                continue  # claimed, or the execution ended, meanwhile
            message = _queue_timeout_message(still, limit, consumers[still.queue])
            advance.fail_step(tx, still, QUEUE_TIMEOUT, message)
            tx.flush()
            failed += 1
    return failed


def _queue_timeout_message(run: StepRun, limit: int, consumers: int | None) -> str:
    if consumers is None:
        who = "whether any live worker consumes it is unknown (the worker registry is unreadable)"
    elif consumers == 0:
        who = "no live worker consumes it"
    else:
        who = (
            "1 live worker consumes it, busy"
            if consumers == 1
            else f"{consumers} live workers consume it, all busy"
        )
    return (
        f"Step '{run.key}' waited more than its queue_timeout ({limit} s) on queue "
        f"'{run.queue}' without a worker taking it: {who}."
    )


# --------------------------------------------------------------------------- executions


def _time_out_executions(now: datetime) -> int:
    return sum(
        lifecycle.execution_time_out(execution_pk=pk)
        for pk in Execution.objects.filter(
            status=ExecutionStatus.RUNNING, deadline_at__lt=now
        ).values_list("pk", flat=True)
    )


def _advance_idle() -> tuple[int, int]:
    """(executions advanced, executions failed as stalled)."""
    idle = (
        Execution.objects.filter(status=ExecutionStatus.RUNNING)
        .exclude(step_runs__status__in=STEP_ACTIVE)
        .values_list("pk", flat=True)
    )
    advanced = stalled = 0
    for pk in list(idle):
        with transaction.atomic():
            tx = Tx.lock(pk)
            before = tx.execution.event_seq
            advance.advance(tx)
            if tx.execution.event_seq != before:
                advanced += 1
            else:  # advancing moved nothing: is anything able to?
                stalled += advance.execution_fail_if_stalled(tx)
            tx.flush()
    return advanced, stalled


def _republish_webhooks(now: datetime) -> int:
    from executions.notifications import webhook_deliveries_republish

    return webhook_deliveries_republish(now=now)
