"""The unit of work every engine change runs in.

``Tx.lock(pk)`` takes the execution row lock (``SELECT … FOR UPDATE``) — always
first, before any step-run row, so locks are taken in one order everywhere.
Events are numbered under that lock and written in one batch; dispatches and
websocket pushes happen only after the transaction commits.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from executions import live
from executions.engine.plan import RunPlan, build_plan
from executions.models import Execution, ExecutionEvent, StepRun, StepStatus
from workflows.definition.schema import WorkflowDefinition

_PLANS: dict[str, RunPlan] = {}


def plan_for(execution: Execution) -> RunPlan:
    """The compiled plan of an execution. Definitions of executions never change,
    so the plan is cached per process by public id (row ids can be handed out again)."""
    plan = _PLANS.get(execution.public_id)
    if plan is None:
        if len(_PLANS) > 512:
            _PLANS.clear()
        plan = build_plan(WorkflowDefinition.model_validate(execution.definition))
        _PLANS[execution.public_id] = plan
    return plan


@dataclass
class Dispatch:
    run_id: int
    queue: str
    priority: int
    time_limit: int  # the step's own, in seconds
    countdown: float = 0.0
    task_id: str = ""
    task_id_is_new: bool = False
    execution_pk: int | None = None
    run: StepRun | None = None  # the run being dispatched, as this transaction knows it


@dataclass(frozen=True)
class Continuation:
    """A worker that may run, in the task it is in, one step this change makes ready.

    A chain's next step then starts without a trip through the broker: it is
    claimed in the same transaction that finished its predecessor (the same
    guarded pending → running transition a message's claim makes, under the same
    lock), and its task id is that of the task running it, so cancelling revokes
    the right task. Only a step on the queue the worker took its message from
    qualifies, only without a countdown, only until ``window_ends`` (fairness to
    other runs' messages), and only if its time limit, plus the grace before its
    worker is ended, ends before the task's own hard limit (``deadline``).
    Times are ``time.monotonic()``.
    """

    queue: str
    task_id: str
    worker_host: str
    window_ends: float
    deadline: float = float("inf")


@dataclass
class Tx:
    execution: Execution
    events: list[ExecutionEvent] = field(default_factory=list)
    dispatches: list[Dispatch] = field(default_factory=list)
    after_commit: list[Any] = field(default_factory=list)
    # PostgreSQL: runs to mark queued, written with the events by ``flush``.
    queued: tuple[list[int], datetime, str] | None = None
    # Set by a worker that can run one more step in its task; ``flush`` then claims
    # one dispatch for it instead of publishing it, and leaves it in ``continued``.
    continuation: Continuation | None = None
    continued: StepRun | None = None

    @classmethod
    def lock(cls, execution_pk: int) -> Tx:
        """Lock the execution row. Must be called inside ``transaction.atomic``."""
        return cls(
            Execution.objects.select_for_update(of=("self",))
            .select_related("workflow")
            .get(pk=execution_pk)
        )

    @property
    def plan(self) -> RunPlan:
        return plan_for(self.execution)

    def emit(self, type_: str, step_key: str = "", **payload: Any) -> None:
        self.execution.event_seq += 1
        self.events.append(
            ExecutionEvent(
                execution=self.execution,
                seq=self.execution.event_seq,
                type=type_,
                step_key=step_key,
                payload=payload,
                created_at=timezone.now(),
            )
        )

    def dispatch(self, run: StepRun, *, countdown: float = 0.0, fresh_id: bool = True) -> None:
        """Publish ``run_step`` for ``run`` after commit (a new task id unless already set)."""
        from executions.services.engine import dispatch_for

        self.dispatches.append(
            dispatch_for(self.execution, run, countdown=countdown, fresh_id=fresh_id)
        )

    def mark_queued(self, run_ids: list[int], at: datetime, token: str) -> None:
        """Set runs ``queued`` with task ids ``step-<id>-<token>``. On PostgreSQL the
        update waits for ``flush`` and rides in its statement, so nothing may read
        these rows in between: the dispatch decision is the last step of a change."""
        if connection.vendor == "postgresql" and self.queued is None:
            self.queued = (list(run_ids), at, token)
        else:
            _update_queued(run_ids, at, token)

    def flush(self) -> None:
        """Write the events and register what happens after commit."""
        claimed = self._continue() if self.continuation else None
        if self.dispatches:
            from executions.tasks import publish_step_runs

            fresh = [d for d in self.dispatches if d.task_id_is_new]
            if fresh:  # re-dispatches (retries, fallbacks, lost messages) get a new id
                StepRun.objects.bulk_update(
                    [StepRun(pk=d.run_id, task_id=d.task_id) for d in fresh], ["task_id"]
                )
            batch = list(self.dispatches)
            transaction.on_commit(lambda: publish_step_runs(batch))
        if self.queued is not None and not self.events:  # (never so: each has an event)
            _update_queued(*self.queued)
            self.queued = None
        if self.events:  # after the dispatches: the next step starts before the push
            if connection.vendor == "postgresql":
                _write_events_postgresql(self.execution, self.events, self.queued, claimed)
                self.queued = None
            else:
                if claimed is not None:
                    _update_claimed(claimed)
                ExecutionEvent.objects.bulk_create(self.events)
                Execution.objects.filter(pk=self.execution.pk).update(
                    event_seq=self.execution.event_seq
                )
            live.events_publish_on_commit(self.events)
        for callback in self.after_commit:
            transaction.on_commit(callback)
        self.events, self.dispatches, self.after_commit = [], [], []

    def _continue(self) -> StepRun | None:
        """Take one dispatch for the worker's own task: the run goes to ``running``
        (attempt + 1, this worker's heartbeat) in this transaction, with the
        ``step.running`` event after its ``step.queued``; nothing is published."""
        cont = self.continuation
        assert cont is not None
        now = time.monotonic()
        if now >= cont.window_ends:
            return None
        grace = settings.PRSM_STEP_KILL_GRACE_SECONDS
        for d in self.dispatches:
            if (
                d.run is not None
                and d.queue == cont.queue
                and not d.countdown
                and now + d.time_limit + grace <= cont.deadline
            ):
                break
        else:
            return None
        run = d.run
        self.dispatches.remove(d)
        if self.queued is not None and run.pk in self.queued[0]:
            self.queued[0].remove(run.pk)
        now = timezone.now()
        run.status, run.attempt = StepStatus.RUNNING, run.attempt + 1
        run.started_at = run.heartbeat_at = now
        run.queued_at = run.queued_at or now
        run.worker_host, run.task_id, run.next_attempt_at = cont.worker_host, cont.task_id, None
        run.execution = self.execution
        self.emit("step.running", run.key, **running_payload(run))
        self.continued = run
        return run


def running_payload(run: StepRun) -> dict[str, Any]:
    """The payload of a ``step.running`` event, for every claim (the PostgreSQL claim
    statement builds the same object in SQL)."""
    return {
        "status": StepStatus.RUNNING,
        "attempt": run.attempt,
        "model_used": run.model_used,
        "worker": run.worker_host,
    }


_CLAIMED_FIELDS = (
    "status", "attempt", "started_at", "heartbeat_at", "queued_at", "worker_host", "task_id",
    "next_attempt_at",
)  # fmt: skip


def _update_claimed(run: StepRun) -> None:
    StepRun.objects.filter(pk=run.pk).update(**{f: getattr(run, f) for f in _CLAIMED_FIELDS})


def _update_queued(run_ids: list[int], at: datetime, token: str) -> None:
    StepRun.objects.filter(pk__in=run_ids).update(
        status=StepStatus.QUEUED,
        queued_at=at,
        task_id=Concat(Value("step-"), Cast("id", CharField()), Value(f"-{token}")),
    )


# PostgreSQL: the runs marked queued, a transaction's events and the execution's new
# sequence number in one statement (round trips fewer on every transition). A
# data-modifying WITH always runs to completion, read or not.
_WRITE_EVENTS = f"""
WITH queued AS (
    UPDATE {StepRun._meta.db_table}
    SET status = '{StepStatus.QUEUED}', queued_at = %(queued_at)s,
        task_id = 'step-' || id || '-' || %(token)s
    WHERE id = ANY(%(queued_ids)s::bigint[])
), claimed AS (
    UPDATE {StepRun._meta.db_table}
    SET {", ".join(f"{c} = %(claimed_{c})s" for c in _CLAIMED_FIELDS)}
    WHERE id = %(claimed_id)s::bigint
), written AS (
    INSERT INTO {ExecutionEvent._meta.db_table}
        (execution_id, seq, type, step_key, payload, created_at)
    SELECT %(execution)s, seq, type, step_key, payload, created_at
    FROM unnest(%(seqs)s::integer[], %(types)s::text[], %(keys)s::text[],
                %(payloads)s::jsonb[], %(times)s::timestamptz[])
        AS e(seq, type, step_key, payload, created_at)
)
UPDATE {Execution._meta.db_table} SET event_seq = %(last)s
WHERE id = %(execution)s
"""  # noqa: S608 - table names are constants


def _write_events_postgresql(
    execution: Execution,
    events: list[ExecutionEvent],
    queued: tuple[list[int], datetime, str] | None,
    claimed: StepRun | None,
) -> None:
    encoder = ExecutionEvent._meta.get_field("payload").encoder  # type: ignore[attr-defined]
    params = {
        "execution": execution.pk,
        "seqs": [e.seq for e in events],
        "types": [e.type for e in events],
        "keys": [e.step_key for e in events],
        "payloads": [json.dumps(e.payload, cls=encoder) for e in events],
        "times": [e.created_at for e in events],
        "last": execution.event_seq,
        "queued_ids": queued[0] if queued else [],
        "queued_at": queued[1] if queued else None,
        "token": queued[2] if queued else "",
        "claimed_id": claimed.pk if claimed else None,
    }
    for name in _CLAIMED_FIELDS:
        value = getattr(claimed, name) if claimed else None
        field = StepRun._meta.get_field(name)
        params[f"claimed_{name}"] = field.get_db_prep_save(value, connection) if claimed else None
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_EVENTS, params)
