"""The unit of work every engine change runs in.

``Tx.lock(pk)`` takes the execution row lock (``SELECT … FOR UPDATE``) — always
first, before any step-run row, so locks are taken in one order everywhere.
Events are numbered under that lock and written in one batch; dispatches and
websocket pushes happen only after the transaction commits.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from executions import live
from executions.core.plan import RunPlan, build_plan
from executions.models import Execution, ExecutionEvent, StepRun
from executions.services import statements, transitions
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
    # Runs to mark queued, written with the events by ``flush``.
    queued: statements.Queued | None = None
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

    def dispatch(
        self,
        run: StepRun,
        *,
        countdown: float = 0.0,
        fresh_id: bool = True,
        recovered: bool = False,
    ) -> None:
        """Publish ``run_step`` for ``run`` after commit (a new task id unless already
        set); ``recovered`` work (a lost worker's, a lost message's) goes ahead of new."""
        from executions.services.advance import dispatch_for

        self.dispatches.append(
            dispatch_for(
                self.execution, run, countdown=countdown, fresh_id=fresh_id, recovered=recovered
            )
        )

    def new_token(self) -> str:
        """The suffix of the task ids of one dispatch batch."""
        return uuid.uuid4().hex[:12]

    def mark_queued(self, queued: statements.Queued) -> None:
        """Runs to move to ``queued`` (``transitions.steps_queue``). On PostgreSQL the
        update waits for ``flush`` and rides in its statement, so nothing may read
        these rows in between: the dispatch decision is the last step of a change."""
        if connection.vendor == "postgresql" and self.queued is None:
            self.queued = queued
        else:
            statements.update_queued(queued)

    def flush(self) -> None:
        """Write the events and register what happens after commit."""
        claimed = self._continue() if self.continuation else None
        if self.dispatches:
            from executions.services.dispatch import publish_step_runs

            fresh = [d for d in self.dispatches if d.task_id_is_new]
            if fresh:  # re-dispatches (retries, fallbacks, lost messages) get a new id
                StepRun.objects.bulk_update(
                    [StepRun(pk=d.run_id, task_id=d.task_id) for d in fresh], ["task_id"]
                )
            batch = list(self.dispatches)
            transaction.on_commit(lambda: publish_step_runs(batch))
        if self.events:  # after the dispatches: the next step starts before the push
            statements.write_changes(self.execution, self.events, self.queued, claimed)
            live.events_publish_on_commit(self.events)
        elif self.queued is not None:  # (never so: each queued run has its event)
            statements.update_queued(self.queued)
        self.queued = None
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
        if self.queued is not None and run.pk in self.queued.run_ids:
            self.queued.run_ids.remove(run.pk)
        run.execution = self.execution
        transitions.step_continue(self, run, worker_host=cont.worker_host, task_id=cont.task_id)
        self.continued = run
        return run
