"""Advancing an execution: which steps are ready, skipped, done; what to dispatch.

Readiness is recomputed from step states each time (never from counters a
duplicate message could decrement twice). Every function here expects the
caller's ``Tx`` to hold the execution row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from executions.core import reasons
from executions.core.plan import BRANCHES, QueueSpec, RunPlan, final_result, queue_for
from executions.core.resolve import Scope
from executions.models import (
    EXECUTION_TERMINAL,
    SLOT_HOLDING,
    STEP_TERMINAL,
    Execution,
    ExecutionStatus,
    StepRun,
    StepStatus,
)
from executions.services import statements, transitions
from executions.services.statements import Load
from executions.services.transitions import step_move
from executions.services.tx import Dispatch, Tx
from workflows.definition.conditions import ConditionError, evaluate_condition
from workflows.definition.references import ReferenceResolutionError

#: Broker priorities (Kombu on Redis: 0 is taken first). Each level leaves the one
#: before it free for its recovered work (``RECOVERED_AHEAD``).
PRIORITIES = {"high": 1, "normal": 5, "low": 9}
#: A step queued again after its worker vanished, or republished after its message
#: was lost, goes this many priority steps ahead of new work of its execution's
#: priority (and still behind the next level's new work).
RECOVERED_AHEAD = 1
DEFAULT_MAX_PARALLEL = 10
NOT_RAN = (StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.FAILED)


def _queues() -> list[QueueSpec]:
    from workflows.catalog import worker_queues

    return [QueueSpec(q.name, q.cpu_cores, q.ram_gb, q.gpu) for q in worker_queues()]


def dispatch_for(
    execution: Execution,
    run: StepRun,
    *,
    countdown: float = 0.0,
    fresh_id: bool = True,
    recovered: bool = False,
) -> Dispatch:
    priority = PRIORITIES.get(execution.config.get("priority", "normal"), 5)
    return Dispatch(
        run_id=run.pk,
        queue=run.queue,
        priority=priority - RECOVERED_AHEAD if recovered else priority,
        time_limit=step_time_limit(_plan(execution), run),
        countdown=countdown,
        task_id=f"step-{run.pk}-{uuid.uuid4().hex[:12]}" if fresh_id else run.task_id,
        task_id_is_new=fresh_id,
        execution_pk=execution.pk,
        run=run,
    )


def step_time_limit(plan: RunPlan, run: StepRun) -> int:
    """Seconds a run may take: its step's ``timeout`` (``PRSM_DEFAULT_STEP_SECONDS`` when
    it sets none), capped by ``PRSM_MAX_STEP_SECONDS``."""
    from django.conf import settings

    timeout = getattr(step_spec(plan, run), "timeout", None) or plan.step(run.step_id).timeout
    return min(timeout or settings.PRSM_DEFAULT_STEP_SECONDS, settings.PRSM_MAX_STEP_SECONDS)


def _plan(execution: Execution) -> RunPlan:
    from executions.services.tx import plan_for

    return plan_for(execution)


def step_spec(plan: RunPlan, run: StepRun) -> Any:
    """The spec a run executes: the step, a conditional's branch, or a loop's body."""
    step = plan.step(run.step_id)
    if run.key == run.step_id:
        return step
    if run.iteration is not None:
        return step.step
    return getattr(step, run.key.rsplit(".", 1)[1])


def runs_create(tx: Tx, *, reuse: dict[str, StepRun] | None = None) -> None:
    """Create the step runs of a new execution: one per step, plus a conditional's branches."""
    plan = tx.plan
    queues = _queues()
    default_req = plan.definition.resource_requirements
    rows: list[StepRun] = []
    for step_id in plan.order:
        step = plan.step(step_id)
        queue = queue_for(step.resource_requirements or default_req, queues)
        old = (reuse or {}).get(step_id)
        reused = set(reuse or ()) & plan.deps[step_id]
        row = StepRun(
            execution=tx.execution,
            key=step_id,
            step_id=step_id,
            queue=queue,
            model_used=step.model or "",
            # a resumed execution starts with the results it reuses completed
            status=StepStatus.COMPLETED if old is not None else StepStatus.PENDING,
            deps_open=len(plan.deps[step_id] - reused) if step_id in plan.counted else 0,
        )
        if old is not None:
            row.result = old.result
            row.model_used = old.model_used
            row.started_at, row.completed_at = old.started_at, old.completed_at
            row.attempts_log = [{"reused_from": old.execution.public_id}]
        rows.append(row)
    StepRun.objects.bulk_create(rows)
    parents = {row.key: row for row in rows}
    children = []
    for step_id in plan.order:
        step = plan.step(step_id)
        if step.type != "conditional" or parents[step_id].status == StepStatus.COMPLETED:
            continue
        for branch in BRANCHES:
            spec = getattr(step, branch)
            if spec is not None:
                children.append(
                    StepRun(
                        execution=tx.execution,
                        key=plan.branch_key(step_id, branch),
                        step_id=step_id,
                        parent=parents[step_id],
                        queue=parents[step_id].queue,
                        model_used=spec.model or "",
                    )
                )
    StepRun.objects.bulk_create(children)


def results_of(execution: Execution, step_ids: Iterable[str]) -> dict[str, Any]:
    from executions.security import open_result

    step_ids = list(step_ids)
    if not step_ids:
        return {}
    rows = StepRun.objects.filter(
        execution=execution, key__in=step_ids, status=StepStatus.COMPLETED
    ).values_list("key", "result")
    return {key: open_result(result) for key, result in rows}


def _scope(tx: Tx, step_ids: Iterable[str]) -> Scope:
    from executions.services.runner import execution_inputs

    inputs, secrets = execution_inputs(tx.execution)
    return Scope(inputs=inputs, results=results_of(tx.execution, step_ids), secrets=secrets)


def queue_reason(queue: str) -> dict[str, Any]:
    """Why a queued run waits: its queue, and how many live workers consume it."""
    return reasons.queue(name=queue, consumers=_consumers([queue]).get(queue))


def _consumers(queues: Iterable[str]) -> dict[str, int | None]:
    """Live workers per queue, as the worker registry knows them (None: unknown)."""
    try:
        from executions.workers import queue_consumers
    except ImportError:  # no registry in this build
        return dict.fromkeys(queues)
    try:
        found: dict[str, int | None] = dict(queue_consumers(queues))
    except Exception:  # the registry is advice: never a reason for a change to fail
        return dict.fromkeys(queues)
    return found


def advance(tx: Tx, changed: Iterable[StepRun] = ()) -> None:
    """Move the execution forward after ``changed`` runs changed state (or from scratch)."""
    execution = tx.execution
    if execution.status in EXECUTION_TERMINAL:
        return
    plan = tx.plan
    changed = list(changed)
    if changed:
        parents = {run.parent_id for run in changed if run.parent_id}
        candidates = _dependents_to_decide(tx, changed)
    else:
        candidates = set(plan.order)
        parents = set(
            StepRun.objects.filter(execution=execution, status=StepStatus.WAITING).values_list(
                "pk", flat=True
            )
        )
    ready: list[StepRun] = []
    # What ``_dispatch`` needs to know of the runs, from the last query that read it,
    # while nothing has changed it since (a query less on most completions).
    load: Load | None = None
    while candidates or parents:
        if parents:
            finished, load = _settle_parents(tx, parents)
        else:
            finished = []
        parents = set()
        newly: list[StepRun] = list(finished)
        settled, counted = _settle_candidates(tx, candidates, ready)
        newly += settled
        load = counted or load
        if any(run.status != StepStatus.SKIPPED for run in settled):
            load = None  # a composite started: its children are new runs
        candidates = _dependents_to_decide(tx, newly)
        for run in newly:
            if run.status == StepStatus.WAITING:  # a composite that just started
                parents.add(run.pk)
        if execution.status in EXECUTION_TERMINAL:
            return
    if not _dispatch(tx, ready, load):
        _finalize_if_done(tx)


def _dependents_to_decide(tx: Tx, changed: Iterable[StepRun]) -> set[str]:
    """The steps that may be decided now that the top-level runs among ``changed``
    that finished did: each dependent of theirs, except a wide join (``plan.counted``)
    whose count of open dependencies has not reached zero."""
    plan = tx.plan
    narrow: set[str] = set()
    counted: dict[str, int] = {}
    for run in changed:
        if run.parent_id or run.status not in STEP_TERMINAL:
            continue
        for dependent in plan.dependents.get(run.step_id, ()):
            if dependent in plan.counted:
                counted[dependent] = counted.get(dependent, 0) + 1
            else:
                narrow.add(dependent)
    if counted:
        narrow |= statements.deps_count_down(tx.execution, counted)
    return narrow


def _probe_load(outer: str) -> dict[str, Exists]:
    """Whether any run of the execution ``outer`` names is active, and any waits:
    two index probes, as annotations."""
    runs = StepRun.objects.filter(execution=OuterRef(outer))
    return {
        "any_active": Exists(runs.filter(status__in=sorted(SLOT_HOLDING))),
        "any_waiting": Exists(runs.filter(status=StepStatus.READY)),
    }


def _settle_candidates(
    tx: Tx, step_ids: set[str], ready: list[StepRun]
) -> tuple[list[StepRun], Load | None]:
    """Decide pending steps whose dependencies are all done: skip them, start a
    composite, or add a leaf to ``ready``. Returns the runs whose state changed,
    and the active and waiting counts as the query found them, if it read them."""
    if not step_ids:
        return [], None
    plan = tx.plan
    ex = tx.execution
    dep_keys = set().union(*(plan.deps[step_id] for step_id in step_ids))
    pending: dict[str, StepRun] = {}
    open_status: dict[str, str] = {}
    rows, load = statements.readiness_rows(ex, step_ids, dep_keys)
    for row in rows:
        if row.key in step_ids and row.status == StepStatus.PENDING:
            pending[row.key] = row
        if row.key in dep_keys:
            open_status[row.key] = row.status
    changed: list[StepRun] = []
    for step_id in plan.order:
        if ex.status in EXECUTION_TERMINAL:
            break  # a composite before this one failed the run, and it stopped every step
        run = pending.get(step_id)
        if run is None:
            continue
        open_deps = [(key, open_status[key]) for key in plan.deps[step_id] if key in open_status]
        if any(status not in STEP_TERMINAL for _, status in open_deps):
            continue
        data = plan.data_deps[step_id]
        if any(key in data for key, _ in open_deps):
            why = "An upstream step whose result it needs did not run."
            if step_move(tx, run, StepStatus.SKIPPED, "step.skipped", error_message=why):
                # A conditional's branches exist from the start: they are skipped with it.
                for child in StepRun.objects.filter(parent=run, status=StepStatus.PENDING):
                    step_move(tx, child, StepStatus.SKIPPED, "step.skipped", error_message=why)
            changed.append(run)
            continue
        step = plan.step(step_id)
        if step.type == "loop":
            changed.append(_start_loop(tx, run))
        elif step.type == "conditional":
            changed.append(_start_conditional(tx, run))
        else:
            ready.append(run)
    return changed, load


def fail_step(tx: Tx, run: StepRun, error_type: str, message: str) -> StepRun:
    """Fail ``run`` (a composite that cannot start, a step no worker took) and with it
    the execution."""
    step_move(
        tx, run, StepStatus.FAILED, "step.failed", error_type=error_type, error_message=message
    )
    execution_fail(tx, error_type=error_type, message=message, step=run.key)
    return run


def _start_loop(tx: Tx, run: StepRun) -> StepRun:
    plan = tx.plan
    step = plan.step(run.step_id)
    try:
        items = _scope(tx, plan.data_deps[run.step_id]).render(step.iterate_over)
    except ReferenceResolutionError as exc:
        return fail_step(tx, run, "invalid_input", str(exc))
    if not isinstance(items, list):
        return fail_step(
            tx,
            run,
            "invalid_input",
            f"iterate_over must give a list; it gave {type(items).__name__}.",
        )
    if len(items) > step.max_iterations:
        return fail_step(
            tx,
            run,
            "invalid_input",
            f"The loop has {len(items)} items, more than max_iterations ({step.max_iterations}).",
        )
    if not items:
        step_move(tx, run, StepStatus.COMPLETED, "step.completed", result=[])
        return run
    keys = [plan.iteration_key(run.step_id, i) for i in range(len(items))]
    why = reasons.children(keys=keys, done=0, kind="loop")
    if not step_move(tx, run, StepStatus.WAITING, "step.waiting", note={"waiting": why}, attempt=1):
        return run  # it moved meanwhile (cancelled): no iterations for it
    body = step.step
    StepRun.objects.bulk_create(
        [
            StepRun(
                execution=tx.execution,
                key=plan.iteration_key(run.step_id, i),
                step_id=run.step_id,
                iteration=i,
                parent=run,
                queue=run.queue,
                model_used=(body.model if body else "") or "",
                loop_item=item,
                status=StepStatus.READY if (step.parallel or i == 0) else StepStatus.PENDING,
            )
            for i, item in enumerate(items)
        ]
    )
    return run


def _start_conditional(tx: Tx, run: StepRun) -> StepRun:
    plan = tx.plan
    step = plan.step(run.step_id)
    scope = _scope(tx, plan.data_deps[run.step_id])
    try:
        taken = "if_true" if evaluate_condition(step.condition or "", scope.lookup) else "if_false"
    except (ConditionError, ReferenceResolutionError) as exc:
        return fail_step(tx, run, "invalid_input", f"The condition could not be evaluated: {exc}")
    why = reasons.children(keys=[plan.branch_key(run.step_id, taken)], done=0, kind="conditional")
    if not step_move(
        tx,
        run,
        StepStatus.WAITING,
        "step.waiting",
        note={"waiting": why, "branch": taken},
        attempt=1,
        input={"branch": taken},
    ):
        return run  # it moved meanwhile (cancelled), and so did its branches
    for child in StepRun.objects.filter(parent=run, status=StepStatus.PENDING):
        if child.key.endswith("." + taken):
            step_move(tx, child, StepStatus.READY, "step.ready")
        else:
            step_move(
                tx,
                child,
                StepStatus.SKIPPED,
                "step.skipped",
                error_message="The branch was not taken.",
            )
    return run


def _settle_parents(tx: Tx, parent_ids: set[int]) -> tuple[list[StepRun], Load | None]:
    """Complete composites whose children are all done; start a sequential loop's next
    item. Also returns whether any run is active or waiting, if nothing changed."""
    done: list[StepRun] = []
    # Probes, in the same query, on the index of open children: a 1000-iteration
    # loop must not count (or load) its children on each completion.
    open_children = StepRun.objects.filter(parent=OuterRef("pk")).exclude(
        status__in=sorted(STEP_TERMINAL)
    )
    parents = list(
        StepRun.objects.filter(pk__in=list(parent_ids), status=StepStatus.WAITING).annotate(
            has_open=Exists(open_children),
            has_started=Exists(open_children.exclude(status=StepStatus.PENDING)),
            **_probe_load("execution"),
        )
    )
    changed = False
    for parent in parents:
        if parent.has_open:
            if not parent.has_started:  # a sequential loop, between items
                following = parent.children.filter(status=StepStatus.PENDING).order_by("iteration")
                step_move(tx, following[0], StepStatus.READY, "step.ready")
                changed = True
            continue
        children = list(parent.children.order_by("iteration", "id"))
        step = tx.plan.step(parent.step_id)
        from executions.security import open_result

        if step.type == "loop":
            result: Any = [
                open_result(c.result) if c.status == StepStatus.COMPLETED else None
                for c in children
            ]
        else:
            ran = [c for c in children if c.status == StepStatus.COMPLETED]
            result = open_result(ran[0].result) if ran else None
        step_move(tx, parent, StepStatus.COMPLETED, "step.completed", result=result)
        done.append(parent)
        changed = True
    if changed or not parents:
        return done, None
    first: Any = parents[0]  # annotated by ``_probe_load``
    return done, Load(active=int(first.any_active), waiting=int(first.any_waiting), exact=False)


def _dispatch(tx: Tx, ready: list[StepRun], load: Load | None = None) -> bool:
    """Queue what is ready, up to ``max_parallel_steps`` at a time.

    ``ready`` are leaves that just became ready (still ``pending`` in the table);
    runs already ``ready`` in the table (waiting for room, loop iterations) go first.
    The rest wait as ``ready``. ``load``: the active and waiting runs, if the caller
    has it up to date. Returns whether anything is active or waiting.
    """
    ex = tx.execution
    limit = int(ex.config.get("max_parallel_steps") or DEFAULT_MAX_PARALLEL)
    if not ready:
        if load is None:  # only work if a run waits for room: probes, not a count
            flags: Any = Execution.objects.filter(pk=ex.pk).annotate(**_probe_load("pk"))
            active, waiting = flags.values_list("any_active", "any_waiting").get()
            load = Load(active=int(active), waiting=int(waiting), exact=False)
        if not load.waiting:
            return bool(load.active)
    if load is None or not load.exact:
        counted = StepRun.objects.filter(execution=ex).aggregate(
            active=Count("id", filter=Q(status__in=SLOT_HOLDING)),
            waiting=Count("id", filter=Q(status=StepStatus.READY)),
        )
        load = Load(active=counted["active"], waiting=counted["waiting"], exact=True)
    counts = {"active": load.active, "waiting": load.waiting}
    room = limit - counts["active"]
    chosen: list[StepRun] = []
    if counts["waiting"] and room > 0:
        chosen = list(
            StepRun.objects.filter(execution=ex, status=StepStatus.READY).order_by("id")[:room]
        )
    chosen += ready[: max(room - len(chosen), 0)]
    taken = {r.pk for r in chosen}
    left = [r for r in ready if r.pk not in taken]
    transitions.steps_ready(tx, left, in_use=counts["active"] + len(chosen), limit=limit)
    transitions.steps_queue(tx, chosen, consumers=_consumers({r.queue for r in chosen}))
    return bool(counts["active"] or counts["waiting"] or chosen or left)


def _finalize_if_done(tx: Tx) -> None:
    ex = tx.execution
    if (
        StepRun.objects.filter(execution=ex, parent__isnull=True)
        .exclude(status__in=STEP_TERMINAL)
        .exists()
    ):
        return
    plan = tx.plan
    top = StepRun.objects.filter(execution=ex, parent__isnull=True)
    skipped = set(top.exclude(status=StepStatus.COMPLETED).values_list("key", flat=True))
    results = results_of(ex, plan.order)
    try:
        ex.final_result = final_result(plan, results, skipped)
    except ReferenceResolutionError as exc:
        execution_fail(tx, error_type="invalid_input", message=f"final_result: {exc}")
        return
    _finish(tx, ExecutionStatus.COMPLETED, "execution.completed")


def _totals(ex: Execution) -> None:
    sums = StepRun.objects.filter(execution=ex).aggregate(
        cost=Sum("cost"),
        cpu=Sum("cpu_seconds"),
        gpu=Sum("gpu_seconds"),
    )
    ex.total_cost = sums["cost"] or Decimal(0)
    ex.cpu_seconds = sums["cpu"] or 0.0
    ex.gpu_seconds = sums["gpu"] or 0.0
    ram = 0.0
    for mem_mb, wall in StepRun.objects.filter(execution=ex).values_list(
        "memory_mb", "wall_seconds"
    ):
        ram += (mem_mb / 1024) * wall
    ex.ram_gb_seconds = ram


def _finish(tx: Tx, status: str, event: str, error: dict[str, Any] | None = None) -> None:
    ex = tx.execution
    _totals(ex)
    transitions.execution_move(
        tx,
        status,
        event,
        note={"total_cost": float(ex.total_cost), **({"error": error} if error else {})},
        error=error,
        final_result=ex.final_result,
        total_cost=ex.total_cost,
        cpu_seconds=ex.cpu_seconds,
        gpu_seconds=ex.gpu_seconds,
        ram_gb_seconds=ex.ram_gb_seconds,
    )
    from executions.notifications import notifications_enqueue

    notifications_enqueue(ex)
    if ex.security_config.get("secure_deletion"):
        from executions.security import secure_delete_execution_data

        tx.after_commit.append(
            lambda pk=ex.pk: secure_delete_execution_data(Execution.objects.get(pk=pk))
        )


def _stop_open_runs(tx: Tx, reason: str) -> None:
    open_runs = list(
        StepRun.objects.filter(execution=tx.execution).exclude(status__in=STEP_TERMINAL)
    )
    waiting = [
        r.task_id
        for r in open_runs
        if r.task_id and r.status in SLOT_HOLDING and r.status != StepStatus.RUNNING
    ]
    running = [r.task_id for r in open_runs if r.task_id and r.status == StepStatus.RUNNING]
    transitions.open_runs_cancel(tx, open_runs, reason=reason)
    if waiting or running:
        from executions.services.dispatch import revoke_tasks

        tx.after_commit.append(lambda: revoke_tasks(waiting, running))


def execution_fail(
    tx: Tx,
    *,
    error_type: str,
    message: str,
    step: str | None = None,
    status: str = ExecutionStatus.FAILED,
    **details: Any,
) -> None:
    """End the run as failed (or timed out): stop everything still open, then finalize.
    ``details`` join the recorded error."""
    if tx.execution.status in EXECUTION_TERMINAL:
        return
    _stop_open_runs(tx, f"Stopped: the execution {status.replace('_', ' ')}.")
    event = "execution.timed_out" if status == ExecutionStatus.TIMED_OUT else "execution.failed"
    _finish(tx, status, event, {"type": error_type, "message": message, "step": step, **details})


def execution_fail_if_stalled(tx: Tx) -> bool:
    """End a run that has open steps but nothing that could move them: nothing holds
    a slot (running, queued, retrying on a countdown) and advancing it changed
    nothing. Composites wait for their children, pending steps for steps that
    would have to run first, ready steps for a slot that nobody holds: none of
    them can ever move. Called by the reaper right after ``advance``. The error
    (``stalled``) names the steps and their statuses; True if it ended the run."""
    ex = tx.execution
    if ex.status in EXECUTION_TERMINAL or tx.dispatches or tx.queued or tx.events:
        return False  # this change moves something (and its rows are not all written)
    rows = list(
        StepRun.objects.filter(execution=ex)
        .exclude(status__in=sorted(STEP_TERMINAL))
        .order_by("id")
        .values_list("key", "status")
    )
    if not rows or any(status in SLOT_HOLDING for _, status in rows):
        return False
    stuck = [f"{key} ({status})" for key, status in rows]
    shown = ", ".join(stuck[:10]) + (f" and {len(stuck) - 10} more" if len(stuck) > 10 else "")
    execution_fail(
        tx,
        error_type="stalled",
        message=f"The execution stalled: nothing was running, queued or due to retry, "
        f"and these steps could never move: {shown}.",
        step=rows[0][0],
        steps=[key for key, _ in rows],
    )
    return True


def execution_stop(tx: Tx, *, reason: str) -> None:
    """Cancel: nothing open keeps running or gets dispatched afterwards."""
    if tx.execution.status in EXECUTION_TERMINAL:
        return
    _stop_open_runs(tx, reason)
    _finish(
        tx,
        ExecutionStatus.CANCELLED,
        "execution.cancelled",
        {"type": "cancelled", "message": reason, "step": None},
    )
