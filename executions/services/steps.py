"""Claiming and recording step runs, fenced by the attempt number.

A Celery message only says "run step run N". Claiming is a conditional update
(``queued|retrying → running``, attempt + 1); zero rows means a duplicate or
late message, which returns quietly. Outcomes are recorded only for the attempt
that was claimed, so a stale worker can never overwrite a newer attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from executions import live
from executions.engine.policy import decide
from executions.models import Execution, ExecutionEvent, ExecutionStatus, StepRun, StepStatus
from executions.services import engine
from executions.services.tx import Continuation, Tx, running_payload


@dataclass
class Usage:
    """What a step used, measured in the worker."""

    cpu_seconds: float = 0.0
    memory_mb: float = 0.0
    wall_seconds: float = 0.0
    gpu_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)


def _usage_fields(usage: Usage) -> dict[str, Any]:
    return {
        "cpu_seconds": usage.cpu_seconds,
        "memory_mb": usage.memory_mb,
        "wall_seconds": usage.wall_seconds,
        "gpu_seconds": usage.gpu_seconds,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost": usage.cost,
    }


def _execution_pk(step_run_id: int) -> int | None:
    return StepRun.objects.filter(pk=step_run_id).values_list("execution_id", flat=True).first()


# The step-run columns, named: a prepared statement that said ``*`` would fail
# ("cached plan must not change result type") in a worker still running while a
# migration adds a column.
_RUN_COLUMNS = ", ".join(f.column for f in StepRun._meta.concrete_fields)
# UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35): the ORM has no update that returns rows.
_CLAIM_EXECUTION = (
    f"UPDATE {Execution._meta.db_table} SET event_seq = event_seq + 1 "  # noqa: S608 - constants
    f"WHERE id = %s AND status IN ('{ExecutionStatus.QUEUED}', '{ExecutionStatus.RUNNING}') "
    "RETURNING event_seq, public_id"
)
_CLAIM_RUN = (
    f"UPDATE {StepRun._meta.db_table} SET status = '{StepStatus.RUNNING}', "  # noqa: S608
    "attempt = attempt + 1, started_at = %s, heartbeat_at = %s, worker_host = %s, "
    "next_attempt_at = NULL, task_id = COALESCE(%s, task_id) "
    f"WHERE id = %s AND status IN ('{StepStatus.QUEUED}', '{StepStatus.RETRYING}') "
    f"AND (next_attempt_at IS NULL OR next_attempt_at <= %s) RETURNING {_RUN_COLUMNS}"
)
_EXECUTIONS: dict[int, Execution] = {}


def _execution_cached(execution_pk: int, public_id: str) -> Execution:
    """The execution as a worker needs it. What a step reads of it (definition, inputs,
    secrets, configs, ids) never changes after the start, so each worker process
    keeps it; status and counters are always read under the lock instead. Checked
    against the public id: a database may hand out a row id again (SQLite reuses
    the ids of rolled-back rows)."""
    execution = _EXECUTIONS.get(execution_pk)
    if execution is None or execution.public_id != public_id:
        if len(_EXECUTIONS) > 256:
            _EXECUTIONS.clear()
        execution = Execution.objects.select_related("workflow").get(pk=execution_pk)
        _EXECUTIONS[execution_pk] = execution
    return execution


# PostgreSQL: the whole claim in one statement, so one round trip in autocommit. The
# execution row is locked first (the uncorrelated EXISTS runs before the step-run
# update), the sequence number moves only if the run was claimed, and the
# ``step.running`` event is written beside it.
_CLAIM_ONE_STATEMENT = f"""
WITH ex AS (
    SELECT id FROM {Execution._meta.db_table}
    WHERE id = %(execution)s
      AND status IN ('{ExecutionStatus.QUEUED}', '{ExecutionStatus.RUNNING}')
    FOR UPDATE
), run AS (
    UPDATE {StepRun._meta.db_table} SET status = '{StepStatus.RUNNING}',
        attempt = attempt + 1, started_at = %(now)s, heartbeat_at = %(now)s,
        worker_host = %(host)s, next_attempt_at = NULL,
        task_id = COALESCE(%(task)s, task_id)
    WHERE id = %(run)s AND status IN ('{StepStatus.QUEUED}', '{StepStatus.RETRYING}')
      AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
      AND EXISTS (SELECT 1 FROM ex)
    RETURNING {_RUN_COLUMNS}
), seq AS (
    UPDATE {Execution._meta.db_table} SET event_seq = event_seq + 1
    WHERE id = %(execution)s AND EXISTS (SELECT 1 FROM run)
    RETURNING event_seq
), event AS (
    INSERT INTO {ExecutionEvent._meta.db_table}
        (execution_id, seq, type, step_key, payload, created_at)
    SELECT %(execution)s, seq.event_seq, 'step.running', run.key,
        jsonb_build_object('status', '{StepStatus.RUNNING}', 'attempt', run.attempt,
                           'model_used', run.model_used, 'worker', run.worker_host),
        %(now)s
    FROM run, seq
    RETURNING id
)
SELECT run.*, seq.event_seq AS claimed_seq, (SELECT id FROM event) AS claimed_event_id,
    (SELECT public_id FROM {Execution._meta.db_table} WHERE id = %(execution)s)
        AS claimed_execution_public_id
FROM run, seq
"""  # noqa: S608 - table names and statuses are constants


def step_run_claim(
    *,
    step_run_id: int,
    worker_host: str,
    execution_pk: int | None = None,
    task_id: str | None = None,
) -> StepRun | None:
    """Take a queued (or due retrying) run for this worker; None if someone else has it.

    ``task_id`` is the Celery task that claims it, recorded so that a cancel
    revokes the task really running the step (a message delivered again after a
    lost worker may claim a run whose latest message had another id).

    The hottest path of the engine. On PostgreSQL it is one statement; elsewhere three:
    lock the execution row while taking the next event number (only if the run is
    still open), claim the step run, write the ``step.running`` event. A claim that
    finds nothing changes nothing, so no event number is ever skipped.
    """
    execution_pk = execution_pk or _execution_pk(step_run_id)
    if execution_pk is None:
        return None
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _claim_postgresql(step_run_id, execution_pk, worker_host[:200], now, task_id)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_EXECUTION, [execution_pk])
            row = cursor.fetchone()
        if row is None:  # finished or cancelled: nothing runs any more
            return None
        claimed = list(
            StepRun.objects.raw(
                _CLAIM_RUN, [stamp, stamp, worker_host[:200], task_id, step_run_id, stamp]
            )
        )
        if not claimed:  # a duplicate or late message
            transaction.set_rollback(True)
            return None
        run = claimed[0]
        execution = _execution_cached(execution_pk, row[1])
        run.execution = execution
        event = ExecutionEvent.objects.create(
            execution=execution,
            seq=row[0],
            type="step.running",
            step_key=run.key,
            payload=running_payload(run),
            created_at=now,
        )
        live.event_publish_on_commit(event)
    return run


def _claim_postgresql(
    step_run_id: int, execution_pk: int, worker_host: str, now: Any, task_id: str | None
) -> StepRun | None:
    params = {
        "execution": execution_pk,
        "run": step_run_id,
        "host": worker_host,
        "now": now,
        "task": task_id,
    }
    # One statement is its own transaction in autocommit: one round trip, no BEGIN or
    # COMMIT. Inside a caller's transaction it simply joins it.
    claimed = list(StepRun.objects.raw(_CLAIM_ONE_STATEMENT, params))
    if not claimed:  # finished or cancelled, or a duplicate or late message
        return None
    run = claimed[0]
    run.execution = _execution_cached(execution_pk, run.claimed_execution_public_id)
    event = ExecutionEvent(
        pk=run.claimed_event_id,
        execution=run.execution,
        seq=run.claimed_seq,
        type="step.running",
        step_key=run.key,
        payload=running_payload(run),
        created_at=now,
    )
    live.event_publish_on_commit(event)  # at once in autocommit: the claim is committed
    return run


def step_run_complete(
    *,
    step_run_id: int,
    attempt: int,
    result: Any,
    model_used: str,
    input: Any,
    usage: Usage,
    claimed: StepRun | None = None,
    continuation: Continuation | None = None,
) -> StepRun | None:
    """Record a success for ``attempt`` and advance the execution (nothing if stale).

    ``claimed`` is the run as this worker claimed it, which saves two look-ups.
    With a ``continuation``, returns the run of a step this made ready that the
    worker claimed for itself in the same transaction, to run next.
    """
    execution_pk = claimed.execution_id if claimed else _execution_pk(step_run_id)
    if execution_pk is None:
        return None
    fields = {
        "status": StepStatus.COMPLETED,
        "result": result,
        "model_used": model_used,
        "input": input,
        "completed_at": timezone.now(),
        "heartbeat_at": None,
        "error_type": "",
        "error_message": "",
        **_usage_fields(usage),
    }
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tx, updated = _lock_and_complete_postgresql(execution_pk, step_run_id, attempt, fields)
        else:
            tx = Tx.lock(execution_pk)
            updated = StepRun.objects.filter(
                pk=step_run_id, status=StepStatus.RUNNING, attempt=attempt
            ).update(**fields)
        if not updated:
            return None
        tx.continuation = continuation
        run = claimed or StepRun.objects.get(pk=step_run_id)
        run.status, run.result = StepStatus.COMPLETED, result
        tx.emit(
            "step.completed",
            run.key,
            status=StepStatus.COMPLETED,
            attempt=attempt,
            model_used=model_used,
            cost=float(usage.cost),
            duration_seconds=round(usage.wall_seconds, 3),
        )
        if not _stop_if_over_budget(tx, step=run.key):
            engine.advance(tx, [run])
        tx.flush()
    return tx.continued


def _stop_if_over_budget(tx: Tx, *, step: str) -> bool:
    """End the run when its cost has passed ``execution_config.max_cost``. Costs are
    summed only for runs that set a cap; a step that ran is paid for either way."""
    cap = tx.execution.config.get("max_cost")
    if cap is None:
        return False
    spent = StepRun.objects.filter(execution=tx.execution).aggregate(total=Sum("cost"))["total"]
    if spent is None or spent <= Decimal(str(cap)):
        return False
    engine.execution_fail(
        tx,
        error_type="budget_exceeded",
        message=f"Stopped: the run has cost ${spent:.6f}, more than its max_cost of ${cap}.",
        step=step,
    )
    return True


_COMPLETE_COLUMNS = (
    "status", "result", "model_used", "input", "completed_at", "heartbeat_at", "error_type",
    "error_message", "cpu_seconds", "memory_mb", "wall_seconds", "gpu_seconds",
    "input_tokens", "output_tokens", "cost",
)  # fmt: skip
# Every column of the execution but its definition: a big workflow's document would
# be read and parsed on every step, and the plan compiled from it is cached anyway.
_EXECUTION_COLUMNS = ", ".join(
    f.column for f in Execution._meta.concrete_fields if f.name != "definition"
)
# PostgreSQL: lock the execution row and record the fenced outcome in one statement.
_LOCK_AND_COMPLETE = f"""
WITH ex AS (
    SELECT {_EXECUTION_COLUMNS} FROM {Execution._meta.db_table}
    WHERE id = %(execution)s FOR UPDATE
), done AS (
    UPDATE {StepRun._meta.db_table}
    SET {", ".join(f"{c} = %({c})s" for c in _COMPLETE_COLUMNS)}
    WHERE id = %(run)s AND status = '{StepStatus.RUNNING}' AND attempt = %(attempt)s
      AND EXISTS (SELECT 1 FROM ex)
    RETURNING id
)
SELECT ex.*, (SELECT count(*) FROM done) AS completed_now FROM ex
"""  # noqa: S608 - table, column and status names are constants


def _lock_and_complete_postgresql(
    execution_pk: int, step_run_id: int, attempt: int, fields: dict[str, Any]
) -> tuple[Tx, bool]:
    params: dict[str, Any] = {"execution": execution_pk, "run": step_run_id, "attempt": attempt}
    for name in _COMPLETE_COLUMNS:
        params[name] = StepRun._meta.get_field(name).get_db_prep_save(fields[name], connection)
    execution = next(iter(Execution.objects.raw(_LOCK_AND_COMPLETE, params)))
    # The workflow a worker's cached execution points to: its public id never changes.
    execution.workflow = _execution_cached(execution_pk, execution.public_id).workflow
    return Tx(execution), bool(execution.completed_now)


def step_run_fail(
    *,
    step_run_id: int,
    attempt: int,
    error_type: str,
    message: str,
    input: Any = None,
    usage: Usage | None = None,
) -> bool:
    """Record a failed attempt and apply the workflow's error handling. False if stale."""
    execution_pk = _execution_pk(step_run_id)
    if execution_pk is None:
        return False
    usage = usage or Usage()
    with transaction.atomic():
        tx = Tx.lock(execution_pk)
        run = StepRun.objects.filter(
            pk=step_run_id, status=StepStatus.RUNNING, attempt=attempt
        ).first()
        if run is None:
            return False
        model = run.model_used or None
        log = [
            *run.attempts_log,
            {
                "attempt": attempt,
                "model": model,
                "error_type": error_type,
                "message": message[:2000],
                "at": timezone.now().isoformat(),
            },
        ]
        failures = [e for e in log if e.get("error_type") != "worker_lost"]
        on_model = sum(1 for entry in failures if entry.get("model") == model)
        tried = tuple(
            dict.fromkeys(e["model"] for e in log if e.get("model") and e["model"] != model)
        )
        handling = tx.plan.definition.error_handling
        decision = decide(
            handling,
            step_id=run.step_id,
            error_type=error_type,
            model=model,
            attempts_on_model=on_model,
            models_tried=tried,
        )
        common = {
            "attempts_log": log,
            "error_type": error_type,
            "error_message": message[:10000],
            "heartbeat_at": None,
            "input": input,
            # usage accumulates over attempts: each one was really spent
            "cost": run.cost + usage.cost,
            "cpu_seconds": run.cpu_seconds + usage.cpu_seconds,
            "wall_seconds": run.wall_seconds + usage.wall_seconds,
            "memory_mb": max(run.memory_mb, usage.memory_mb),
            "input_tokens": run.input_tokens + usage.input_tokens,
            "output_tokens": run.output_tokens + usage.output_tokens,
        }
        if decision.action == "retry":
            due = timezone.now() + timedelta(seconds=decision.delay_seconds)
            engine._set(
                tx,
                run,
                StepStatus.RETRYING,
                "step.retrying",
                next_attempt_at=due,
                attempt=attempt,
                **common,
            )
            tx.events[-1].payload["retry_in_seconds"] = decision.delay_seconds
            tx.dispatch(run, countdown=decision.delay_seconds)
        elif decision.action == "fallback":
            engine._set(
                tx,
                run,
                StepStatus.QUEUED,
                "step.fallback",
                model_used=decision.model,
                queued_at=timezone.now(),
                **common,
            )
            tx.events[-1].payload.update({"from_model": model, "to_model": decision.model})
            tx.dispatch(run)
        elif decision.action == "skip":
            engine._set(tx, run, StepStatus.SKIPPED, "step.skipped", **common)
            if not _stop_if_over_budget(tx, step=run.key):
                engine.advance(tx, [run])
        else:
            engine._set(tx, run, StepStatus.FAILED, "step.failed", **common)
            tx.events[-1].payload["reason"] = decision.reason
            engine.execution_fail(tx, error_type=error_type, message=message, step=run.key)
        if decision.action in ("retry", "fallback"):  # a failed attempt is paid for too
            _stop_if_over_budget(tx, step=run.key)
        tx.flush()
    return True


def step_run_heartbeat(*, step_run_id: int, attempt: int) -> bool:
    """Say the worker is alive. Not a transition: no lock, no event."""
    return bool(
        StepRun.objects.filter(pk=step_run_id, status=StepStatus.RUNNING, attempt=attempt).update(
            heartbeat_at=timezone.now()
        )
    )


MAX_WORKER_LOSSES = 3


def step_run_worker_lost(*, step_run_id: int, attempt: int) -> bool:
    """Queue a running step again whose worker stopped answering. False if stale."""
    execution_pk = _execution_pk(step_run_id)
    if execution_pk is None:
        return False
    with transaction.atomic():
        tx = Tx.lock(execution_pk)
        run = StepRun.objects.filter(
            pk=step_run_id, status=StepStatus.RUNNING, attempt=attempt
        ).first()
        if run is None:
            return False
        losses = sum(1 for e in run.attempts_log if e.get("error_type") == "worker_lost") + 1
        if losses < MAX_WORKER_LOSSES:
            log = [
                *run.attempts_log,
                {
                    "attempt": attempt,
                    "model": run.model_used or None,
                    "error_type": "worker_lost",
                    "message": "The worker running this step stopped responding.",
                    "at": timezone.now().isoformat(),
                },
            ]
            engine._set(
                tx,
                run,
                StepStatus.QUEUED,
                "step.queued",
                attempts_log=log,
                queued_at=timezone.now(),
                heartbeat_at=None,
            )
            tx.events[-1].payload["reason"] = "worker lost"
            tx.dispatch(run)
            tx.flush()
            return True
    # Lost too often: the step itself is probably what kills its workers.
    return step_run_fail(
        step_run_id=step_run_id,
        attempt=attempt,
        error_type="temporary_failure",
        message=f"The worker running this step was lost {losses} times.",
    )
