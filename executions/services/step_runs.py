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

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from executions import live
from executions.core import attempts, emptiness, reasons
from executions.core.policy import decide
from executions.models import Execution, StepRun, StepStatus
from executions.services import advance, transitions
from executions.services.tx import Continuation, Tx


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
    lost worker may claim a run whose latest message had another id). The hottest
    path of the engine: one statement on PostgreSQL (``statements.claim``).
    """
    execution_pk = execution_pk or _execution_pk(step_run_id)
    if execution_pk is None:
        return None
    claimed = transitions.step_claim(
        step_run_id=step_run_id, execution_pk=execution_pk, worker_host=worker_host, task_id=task_id
    )
    if claimed is None:  # finished or cancelled, or a duplicate or late message
        return None
    run = claimed.run
    run.execution = claimed.event.execution = _execution_cached(
        execution_pk, claimed.execution_public_id
    )
    live.event_publish_on_commit(claimed.event)  # at once in autocommit: it is committed
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
        execution, updated = transitions.step_complete(
            execution_pk=execution_pk, step_run_id=step_run_id, attempt=attempt, fields=fields
        )
        if not updated:
            return None
        # The workflow a worker's cached execution points to: its public id never changes.
        execution.workflow = _execution_cached(execution_pk, execution.public_id).workflow
        tx = Tx(execution)
        tx.continuation = continuation
        run = claimed or StepRun.objects.get(pk=step_run_id)
        run.result = result
        transitions.completed_event(
            tx,
            run,
            attempt=attempt,
            model_used=model_used,
            cost=float(usage.cost),
            duration_seconds=round(usage.wall_seconds, 3),
            **_empty_note(
                _execution_cached(execution_pk, execution.public_id).definition, run, result, input
            ),
        )
        if not _stop_if_over_budget(tx, step=run.key):
            advance.advance(tx, [run])
        tx.flush()
    return tx.continued


def _empty_note(definition: Any, run: StepRun, result: Any, input: Any) -> dict[str, Any]:
    """``empty_reason`` for the completed event of a step whose result is empty (the
    run page flags its node at once); nothing otherwise, which is the usual case and
    costs one check."""
    if not emptiness.is_empty(result):
        return {}
    steps = (definition or {}).get("steps", [])
    function = next(
        (s.get("function") for s in steps if isinstance(s, dict) and s.get("id") == run.step_id),
        None,
    )
    resolved = input if isinstance(input, dict) else {}
    reason = emptiness.empty_reason(
        result,
        function=function,
        input=resolved.get("input"),
        parameters=resolved.get("parameters"),
    )
    return {"empty_reason": reason}


def _stop_if_over_budget(tx: Tx, *, step: str) -> bool:
    """End the run when its cost has passed ``execution_config.max_cost``. Costs are
    summed only for runs that set a cap; a step that ran is paid for either way."""
    cap = tx.execution.config.get("max_cost")
    if cap is None:
        return False
    spent = StepRun.objects.filter(execution=tx.execution).aggregate(total=Sum("cost"))["total"]
    if spent is None or spent <= Decimal(str(cap)):
        return False
    advance.execution_fail(
        tx,
        error_type="budget_exceeded",
        message=f"Stopped: the run has cost ${spent:.6f}, more than its max_cost of ${cap}.",
        step=step,
    )
    return True


def attempt_entry(
    run: StepRun, *, attempt: int, error_type: str, message: str, usage: Usage | None = None
) -> dict[str, Any]:
    """The record of one failed attempt of ``run``, as ``attempts_log`` keeps it.

    ``message`` is stored as given: callers pass it through the execution's redactor
    (the runner does), and providers mask their own API keys. ``at`` is when it
    ended (kept for the entries written before ``finished_at`` existed);
    ``started_at`` is the claim of this attempt. The caller adds what followed it
    (``outcome``, ``wait_seconds``, ``next_model``).
    """
    now = timezone.now()
    started = run.started_at
    duration = usage.wall_seconds if usage and usage.wall_seconds else None
    if duration is None and started is not None:
        duration = max((now - started).total_seconds(), 0.0)
    return {
        "attempt": attempt,
        "model": run.model_used or None,
        "error_type": error_type,
        "message": message[:2000],
        "started_at": started.isoformat() if started else None,
        "finished_at": now.isoformat(),
        "duration_seconds": round(duration, 3) if duration is not None else None,
        "at": now.isoformat(),
    }


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
        entry = attempt_entry(
            run, attempt=attempt, error_type=error_type, message=message, usage=usage
        )
        log = [*run.attempts_log, entry]
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
        # What came after this attempt: a wait (retry), another model at once (fallback)
        # or nothing (the step ended).
        entry["outcome"] = attempts.OUTCOMES.get(decision.action, "failed")
        entry["wait_seconds"] = {"retry": decision.delay_seconds, "fallback": 0}.get(
            decision.action
        )
        if decision.action == "fallback":
            entry["next_model"] = decision.model
        ended = {"failed_attempt": attempts.logged(entry)}  # each event says which attempt failed
        if decision.action == "retry":
            due = timezone.now() + timedelta(seconds=decision.delay_seconds)
            why = reasons.retry(
                at=due,
                attempt=attempt + 1,
                max_attempts=decision.max_attempts,
                last_error=f"{error_type}: {message[:200]}",
            )
            transitions.step_move(
                tx,
                run,
                StepStatus.RETRYING,
                "step.retrying",
                note={"retry_in_seconds": decision.delay_seconds, "waiting": why, **ended},
                next_attempt_at=due,
                attempt=attempt,
                **common,
            )
            tx.dispatch(run, countdown=decision.delay_seconds)
        elif decision.action == "fallback":
            transitions.step_move(
                tx,
                run,
                StepStatus.QUEUED,
                "step.fallback",
                note={
                    "from_model": model,
                    "to_model": decision.model,
                    "waiting": advance.queue_reason(run.queue),
                    **ended,
                },
                model_used=decision.model,
                queued_at=timezone.now(),
                **common,
            )
            tx.dispatch(run)
        elif decision.action == "skip":
            transitions.step_move(tx, run, StepStatus.SKIPPED, "step.skipped", note=ended, **common)
            if not _stop_if_over_budget(tx, step=run.key):
                advance.advance(tx, [run])
        else:
            transitions.step_move(
                tx,
                run,
                StepStatus.FAILED,
                "step.failed",
                note={"reason": decision.reason, **ended},
                **common,
            )
            advance.execution_fail(tx, error_type=error_type, message=message, step=run.key)
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
            entry = attempt_entry(
                run,
                attempt=attempt,
                error_type="worker_lost",
                message="The worker running this step stopped responding.",
            )
            entry.update(outcome="requeued", wait_seconds=0)
            log = [*run.attempts_log, entry]
            transitions.step_move(
                tx,
                run,
                StepStatus.QUEUED,
                "step.queued",
                note={
                    "reason": "worker lost",
                    "waiting": advance.queue_reason(run.queue),
                    "failed_attempt": attempts.logged(entry),
                },
                attempts_log=log,
                queued_at=timezone.now(),
                heartbeat_at=None,
            )
            tx.dispatch(run, recovered=True)  # ahead of new work: it waited already
            tx.flush()
            return True
    # Lost too often: the step itself is probably what kills its workers.
    return step_run_fail(
        step_run_id=step_run_id,
        attempt=attempt,
        error_type="temporary_failure",
        message=f"The worker running this step was lost {losses} times.",
    )
