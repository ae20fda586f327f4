"""The one place that writes the status of an execution or a step run.

Each move is checked against the table (``executions.core.states``: a move not in
it is a bug and raises ``IllegalTransition``), written with a conditional update
guarded by the status the caller read under the execution row lock (a stale or
duplicate caller changes nothing and gets False), and records its event exactly
once, with its whole payload (nothing patches an event afterwards).

The worker's hot paths (claim, a fenced completion, the runs a change queues and
the one a worker continues with) use the statements of ``.statements``, whose
guards come from the same table. Every function expects the caller's ``Tx`` to
hold the execution row lock, except ``step_claim``, which takes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from executions.core import reasons, states
from executions.core.states import STEP_TERMINAL
from executions.models import Execution, StepRun, StepStatus
from executions.services import statements

if TYPE_CHECKING:
    from executions.services.tx import Tx

# Fields an event repeats from the row, when a move sets them.
_ECHOED = ("error_type", "error_message", "model_used", "attempt")
# Statuses in which a step waits (and its events say why).
_WAITS = frozenset(
    {
        StepStatus.PENDING,
        StepStatus.READY,
        StepStatus.QUEUED,
        StepStatus.RETRYING,
        StepStatus.WAITING,
    }
)


def step_move(
    tx: Tx,
    run: StepRun,
    target: str,
    event: str,
    *,
    note: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move ``run`` from the status this transaction read to ``target``, recording
    ``event`` (its payload: the status, the echoed fields, ``waiting`` and ``note``).

    A terminal move stamps ``completed_at`` and clears the heartbeat; a move to
    running or waiting stamps ``started_at``. False (nothing written) if the row had moved on.
    """
    source = run.status
    states.step_move(source, target, event)
    now = timezone.now()
    if target in STEP_TERMINAL:
        fields.setdefault("completed_at", now)
        fields.setdefault("heartbeat_at", None)
    if target in (StepStatus.RUNNING, StepStatus.WAITING):  # a composite starts waiting
        fields.setdefault("started_at", now)
    if not StepRun.objects.filter(pk=run.pk, status=source).update(status=target, **fields):
        return False
    for name, value in fields.items():
        setattr(run, name, value)
    run.status = target
    payload: dict[str, Any] = {"status": target}
    for name in _ECHOED:
        if name in fields and fields[name] not in ("", None):
            payload[name] = fields[name]
    payload.update(note or {})
    payload.setdefault("waiting", None)
    if target not in _WAITS:
        payload["waiting"] = None
    tx.emit(event, run.key, **payload)
    return True


def steps_ready(tx: Tx, runs: list[StepRun], *, in_use: int, limit: int) -> None:
    """Pending leaves whose dependencies finished, but every parallel slot is taken:
    ``pending → ready``, one statement for all of them."""
    if not runs:
        return
    for run in runs:
        states.step_move(run.status, StepStatus.READY, "step.ready")
    StepRun.objects.filter(pk__in=[r.pk for r in runs], status=StepStatus.PENDING).update(
        status=StepStatus.READY
    )
    why = reasons.slot(in_use=in_use, limit=limit)
    for run in runs:
        run.status = StepStatus.READY
        tx.emit("step.ready", run.key, status=StepStatus.READY, waiting=why)


def steps_queue(tx: Tx, runs: list[StepRun], *, consumers: dict[str, int | None]) -> None:
    """Dispatch runs (pending or ready): ``→ queued`` with task ids
    ``step-<id>-<token>``, one message each after commit. On PostgreSQL the update
    rides in the statement that writes the change's events (``Tx.flush``), so
    nothing may read these rows in between: queuing is the last step of a change."""
    if not runs:
        return
    now = timezone.now()
    token = tx.new_token()
    for run in runs:
        states.step_move(run.status, StepStatus.QUEUED, "step.queued")
    tx.mark_queued(statements.Queued([r.pk for r in runs], now, token))
    for run in runs:
        run.status, run.queued_at, run.task_id = StepStatus.QUEUED, now, f"step-{run.pk}-{token}"
        why = reasons.queue(name=run.queue, consumers=consumers.get(run.queue))
        tx.emit("step.queued", run.key, status=StepStatus.QUEUED, waiting=why)
        tx.dispatch(run, fresh_id=False)


def step_continue(tx: Tx, run: StepRun, *, worker_host: str, task_id: str) -> None:
    """A run this change queued, taken by the worker that made it ready, to run in the
    same task: ``queued → running`` (attempt + 1), written by ``Tx.flush`` in place of
    the queuing, with the ``step.running`` event after its ``step.queued``."""
    states.step_move(StepStatus.QUEUED, StepStatus.RUNNING, "step.running")
    now = timezone.now()
    run.status, run.attempt = StepStatus.RUNNING, run.attempt + 1
    run.started_at = run.heartbeat_at = now
    run.queued_at = run.queued_at or now
    run.worker_host, run.task_id, run.next_attempt_at = worker_host, task_id, None
    tx.emit("step.running", run.key, **statements.running_payload(run))


def step_claim(
    *, step_run_id: int, execution_pk: int, worker_host: str, task_id: str | None
) -> statements.Claimed | None:
    """A worker takes a run: ``queued | retrying (due) → running``, attempt + 1, with
    its event, under the execution row lock (taken here). None if stale."""
    return statements.claim(
        step_run_id=step_run_id,
        execution_pk=execution_pk,
        worker_host=worker_host[:200],
        now=timezone.now(),
        task_id=task_id,
    )


def step_complete(
    *, execution_pk: int, step_run_id: int, attempt: int, fields: dict[str, Any]
) -> tuple[Execution, bool]:
    """Lock the execution and record a worker's success for ``attempt``:
    ``running → completed``. The caller emits ``step.completed`` (via
    ``completed_event``) once it knows the run was completed."""
    states.step_move(StepStatus.RUNNING, StepStatus.COMPLETED, "step.completed")
    fields = {**fields, "status": StepStatus.COMPLETED}
    return statements.lock_and_complete(
        execution_pk=execution_pk, step_run_id=step_run_id, attempt=attempt, fields=fields
    )


def completed_event(tx: Tx, run: StepRun, **payload: Any) -> None:
    """The event of ``step_complete``'s move."""
    run.status = StepStatus.COMPLETED
    tx.emit("step.completed", run.key, status=StepStatus.COMPLETED, waiting=None, **payload)


def execution_move(
    tx: Tx, target: str, event: str, *, note: dict[str, Any] | None = None, **fields: Any
) -> bool:
    """Move the locked execution to ``target``, recording ``event``. A terminal move
    stamps ``completed_at``. False if it had already moved on."""
    ex = tx.execution
    source = ex.status
    states.execution_move(source, target, event)
    if target in states.EXECUTION_TERMINAL:
        fields.setdefault("completed_at", timezone.now())
    if not Execution.objects.filter(pk=ex.pk, status=source).update(status=target, **fields):
        return False
    for name, value in fields.items():
        setattr(ex, name, value)
    ex.status = target
    tx.emit(event, status=target, **(note or {}))
    return True


def open_runs_cancel(tx: Tx, runs: Iterable[StepRun], *, reason: str) -> None:
    """Cancel every run given (each open): ``→ cancelled``, heartbeat cleared."""
    for run in runs:
        step_move(tx, run, StepStatus.CANCELLED, "step.cancelled", error_message=reason)
