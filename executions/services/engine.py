"""Advancing an execution: which steps are ready, skipped, done; what to dispatch.

Readiness is recomputed from step states each time (never from counters a
duplicate message could decrement twice). Every function here expects the
caller's ``Tx`` to hold the execution row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from executions.engine.plan import BRANCHES, QueueSpec, RunPlan, final_result, queue_for
from executions.engine.resolve import Scope
from executions.models import (
    EXECUTION_TERMINAL,
    STEP_ACTIVE,
    STEP_TERMINAL,
    Execution,
    ExecutionStatus,
    StepRun,
    StepStatus,
)
from executions.services.tx import Dispatch, Tx
from workflows.definition.conditions import ConditionError, evaluate_condition
from workflows.definition.references import ReferenceResolutionError

PRIORITIES = {"high": 0, "normal": 5, "low": 9}
DEFAULT_MAX_PARALLEL = 10
NOT_RAN = (StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.FAILED)


def _queues() -> list[QueueSpec]:
    from workflows.catalog import worker_queues

    return [QueueSpec(q.name, q.cpu_cores, q.ram_gb, q.gpu) for q in worker_queues()]


def dispatch_for(
    execution: Execution, run: StepRun, *, countdown: float = 0.0, fresh_id: bool = True
) -> Dispatch:
    return Dispatch(
        run_id=run.pk,
        queue=run.queue,
        priority=PRIORITIES.get(execution.config.get("priority", "normal"), 5),
        time_limit=step_time_limit(_plan(execution), run),
        countdown=countdown,
        task_id=f"step-{run.pk}-{uuid.uuid4().hex[:12]}" if fresh_id else run.task_id,
        task_id_is_new=fresh_id,
        execution_pk=execution.pk,
        run=run,
    )


def step_time_limit(plan: RunPlan, run: StepRun) -> int:
    """Seconds a run may take: its step's ``timeout``, capped by ``PRSM_MAX_STEP_SECONDS``."""
    from django.conf import settings

    timeout = getattr(step_spec(plan, run), "timeout", None) or plan.step(run.step_id).timeout
    return min(timeout or settings.PRSM_MAX_STEP_SECONDS, settings.PRSM_MAX_STEP_SECONDS)


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
        row = StepRun(
            execution=tx.execution,
            key=step_id,
            step_id=step_id,
            queue=queue,
            model_used=step.model or "",
        )
        old = (reuse or {}).get(step_id)
        if old is not None:
            row.status = StepStatus.COMPLETED
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


def _set(tx: Tx, run: StepRun, status: str, event: str, **fields: Any) -> None:
    """Apply a transition to a run this transaction already knows the state of."""
    now = timezone.now()
    if status in STEP_TERMINAL:
        fields.setdefault("completed_at", now)
    if status == StepStatus.RUNNING:
        fields.setdefault("started_at", now)
    for name, value in fields.items():
        setattr(run, name, value)
    run.status = status
    StepRun.objects.filter(pk=run.pk).update(status=status, **fields)
    payload = {"status": status}
    for name in ("error_type", "error_message", "model_used", "attempt"):
        if name in fields and fields[name] not in ("", None):
            payload[name] = fields[name]
    tx.emit(event, run.key, **payload)


def advance(tx: Tx, changed: Iterable[StepRun] = ()) -> None:
    """Move the execution forward after ``changed`` runs changed state (or from scratch)."""
    execution = tx.execution
    if execution.status in EXECUTION_TERMINAL:
        return
    plan = tx.plan
    changed = list(changed)
    if changed:
        candidates = set()
        parents = set()
        for run in changed:
            if run.parent_id:
                parents.add(run.parent_id)
            else:
                candidates |= plan.dependents.get(run.step_id, set())
    else:
        candidates = set(plan.order)
        parents = set(
            StepRun.objects.filter(
                execution=execution, status=StepStatus.RUNNING, children__isnull=False
            ).values_list("pk", flat=True)
        )
    ready: list[StepRun] = []
    # What ``_dispatch`` needs to know of the runs, from the last query that read it,
    # while nothing has changed it since (a query less on most completions).
    load: _Load | None = None
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
        candidates = set()
        for run in newly:
            if run.status in STEP_TERMINAL:
                candidates |= plan.dependents.get(run.step_id, set())
            if run.status == StepStatus.RUNNING:  # a composite that just started
                parents.add(run.pk)
        if execution.status in EXECUTION_TERMINAL:
            return
    if not _dispatch(tx, ready, load):
        _finalize_if_done(tx)


@dataclass(frozen=True)
class _Load:
    """How many runs are active and how many wait for room. ``exact`` if counted;
    otherwise each is only 0 or 1 (whether there is any), from index probes."""

    active: int
    waiting: int
    exact: bool


def _probe_load(outer: str) -> dict[str, Exists]:
    """Whether any run of the execution ``outer`` names is active, and any waits:
    two index probes, as annotations."""
    runs = StepRun.objects.filter(execution=OuterRef(outer))
    return {
        "any_active": Exists(runs.filter(status__in=sorted(STEP_ACTIVE))),
        "any_waiting": Exists(runs.filter(status=StepStatus.READY)),
    }


# PostgreSQL: the candidates still pending, every dependency of a candidate that has
# not completed, and the counts ``_dispatch`` needs, in one query. The counts come
# on every row (and on a row of NULLs when nothing matches).
_READINESS = f"""
SELECT {", ".join(f"r.{f.column}" for f in StepRun._meta.concrete_fields)},
    c.active AS n_active, c.waiting AS n_waiting
FROM (
    SELECT count(*) FILTER (WHERE status IN ({", ".join(f"'{s}'" for s in sorted(STEP_ACTIVE))}))
               AS active,
           count(*) FILTER (WHERE status = '{StepStatus.READY}') AS waiting
    FROM {StepRun._meta.db_table} WHERE execution_id = %(execution)s
) c
LEFT JOIN {StepRun._meta.db_table} r ON r.execution_id = %(execution)s AND (
    (r.key = ANY(%(candidates)s::text[]) AND r.status = '{StepStatus.PENDING}')
    OR (r.key = ANY(%(deps)s::text[]) AND r.status <> '{StepStatus.COMPLETED}')
)
"""  # noqa: S608 - table and status names are constants


def _readiness_rows(
    ex: Execution, step_ids: set[str], dep_keys: set[str]
) -> tuple[list[StepRun], _Load | None]:
    if connection.vendor != "postgresql":
        rows = StepRun.objects.filter(execution=ex).filter(
            Q(key__in=list(step_ids), status=StepStatus.PENDING)
            | (Q(key__in=list(dep_keys)) & ~Q(status=StepStatus.COMPLETED))
        )
        return list(rows), None
    params = {"execution": ex.pk, "candidates": list(step_ids), "deps": list(dep_keys)}
    found = list(StepRun.objects.raw(_READINESS, params))
    load = _Load(active=found[0].n_active, waiting=found[0].n_waiting, exact=True)
    return [row for row in found if row.pk is not None], load


def _settle_candidates(
    tx: Tx, step_ids: set[str], ready: list[StepRun]
) -> tuple[list[StepRun], _Load | None]:
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
    rows, load = _readiness_rows(ex, step_ids, dep_keys)
    for row in rows:
        if row.key in step_ids and row.status == StepStatus.PENDING:
            pending[row.key] = row
        if row.key in dep_keys:
            open_status[row.key] = row.status
    changed: list[StepRun] = []
    for step_id in plan.order:
        run = pending.get(step_id)
        if run is None:
            continue
        open_deps = [(key, open_status[key]) for key in plan.deps[step_id] if key in open_status]
        if any(status not in STEP_TERMINAL for _, status in open_deps):
            continue
        data = plan.data_deps[step_id]
        if any(key in data for key, _ in open_deps):
            _set(
                tx,
                run,
                StepStatus.SKIPPED,
                "step.skipped",
                error_message="An upstream step whose result it needs did not run.",
            )
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


def _fail_step(tx: Tx, run: StepRun, error_type: str, message: str) -> StepRun:
    _set(tx, run, StepStatus.FAILED, "step.failed", error_type=error_type, error_message=message)
    execution_fail(tx, error_type=error_type, message=message, step=run.key)
    return run


def _start_loop(tx: Tx, run: StepRun) -> StepRun:
    plan = tx.plan
    step = plan.step(run.step_id)
    try:
        items = _scope(tx, plan.data_deps[run.step_id]).render(step.iterate_over)
    except ReferenceResolutionError as exc:
        return _fail_step(tx, run, "invalid_input", str(exc))
    if not isinstance(items, list):
        return _fail_step(
            tx,
            run,
            "invalid_input",
            f"iterate_over must give a list; it gave {type(items).__name__}.",
        )
    if len(items) > step.max_iterations:
        return _fail_step(
            tx,
            run,
            "invalid_input",
            f"The loop has {len(items)} items, more than max_iterations ({step.max_iterations}).",
        )
    if not items:
        _set(tx, run, StepStatus.COMPLETED, "step.completed", result=[])
        return run
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
    _set(tx, run, StepStatus.RUNNING, "step.running", attempt=1)
    return run


def _start_conditional(tx: Tx, run: StepRun) -> StepRun:
    plan = tx.plan
    step = plan.step(run.step_id)
    scope = _scope(tx, plan.data_deps[run.step_id])
    try:
        taken = "if_true" if evaluate_condition(step.condition or "", scope.lookup) else "if_false"
    except (ConditionError, ReferenceResolutionError) as exc:
        return _fail_step(tx, run, "invalid_input", f"The condition could not be evaluated: {exc}")
    _set(tx, run, StepStatus.RUNNING, "step.running", attempt=1, input={"branch": taken})
    for child in StepRun.objects.filter(parent=run, status=StepStatus.PENDING):
        if child.key.endswith("." + taken):
            _set(tx, child, StepStatus.READY, "step.ready")
        else:
            _set(
                tx,
                child,
                StepStatus.SKIPPED,
                "step.skipped",
                error_message="The branch was not taken.",
            )
    return run


def _settle_parents(tx: Tx, parent_ids: set[int]) -> tuple[list[StepRun], _Load | None]:
    """Complete composites whose children are all done; start a sequential loop's next
    item. Also returns whether any run is active or waiting, if nothing changed."""
    done: list[StepRun] = []
    # Probes, in the same query, on the index of open children: a 1000-iteration
    # loop must not count (or load) its children on each completion.
    open_children = StepRun.objects.filter(parent=OuterRef("pk")).exclude(
        status__in=sorted(STEP_TERMINAL)
    )
    parents = list(
        StepRun.objects.filter(pk__in=list(parent_ids), status=StepStatus.RUNNING).annotate(
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
                _set(tx, following[0], StepStatus.READY, "step.ready")
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
        _set(tx, parent, StepStatus.COMPLETED, "step.completed", result=result)
        done.append(parent)
        changed = True
    if changed or not parents:
        return done, None
    return done, _Load(
        active=int(parents[0].any_active), waiting=int(parents[0].any_waiting), exact=False
    )


def _dispatch(tx: Tx, ready: list[StepRun], load: _Load | None = None) -> bool:
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
            flags = Execution.objects.filter(pk=ex.pk).annotate(**_probe_load("pk"))
            active, waiting = flags.values_list("any_active", "any_waiting").get()
            load = _Load(active=int(active), waiting=int(waiting), exact=False)
        if not load.waiting:
            return bool(load.active)
    if load is None or not load.exact:
        counted = StepRun.objects.filter(execution=ex).aggregate(
            active=Count("id", filter=Q(status__in=STEP_ACTIVE)),
            waiting=Count("id", filter=Q(status=StepStatus.READY)),
        )
        load = _Load(active=counted["active"], waiting=counted["waiting"], exact=True)
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
    if left:
        StepRun.objects.filter(pk__in=[r.pk for r in left]).update(status=StepStatus.READY)
        for run in left:
            run.status = StepStatus.READY
            tx.emit("step.ready", run.key, status=StepStatus.READY)
    if chosen:
        now = timezone.now()
        token = uuid.uuid4().hex[:12]
        tx.mark_queued([r.pk for r in chosen], now, token)
        for run in chosen:
            run.status, run.queued_at, run.task_id = (
                StepStatus.QUEUED,
                now,
                f"step-{run.pk}-{token}",
            )
            tx.emit("step.queued", run.key, status=StepStatus.QUEUED)
            tx.dispatch(run, fresh_id=False)
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
    ex.status = status
    ex.completed_at = timezone.now()
    ex.error = error
    _totals(ex)
    ex.save(
        update_fields=[
            "status",
            "completed_at",
            "error",
            "final_result",
            "total_cost",
            "cpu_seconds",
            "gpu_seconds",
            "ram_gb_seconds",
        ]
    )
    tx.emit(
        event, status=status, total_cost=float(ex.total_cost), **({"error": error} if error else {})
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
        if r.task_id and r.status in STEP_ACTIVE and r.status != StepStatus.RUNNING
    ]
    running = [r.task_id for r in open_runs if r.task_id and r.status == StepStatus.RUNNING]
    for run in open_runs:
        _set(tx, run, StepStatus.CANCELLED, "step.cancelled", error_message=reason)
    if waiting or running:
        from executions.tasks import revoke_tasks

        tx.after_commit.append(lambda: revoke_tasks(waiting, running))


def execution_fail(
    tx: Tx,
    *,
    error_type: str,
    message: str,
    step: str | None = None,
    status: str = ExecutionStatus.FAILED,
) -> None:
    """End the run as failed (or timed out): stop everything still open, then finalize."""
    if tx.execution.status in EXECUTION_TERMINAL:
        return
    _stop_open_runs(tx, f"Stopped: the execution {status.replace('_', ' ')}.")
    event = "execution.timed_out" if status == ExecutionStatus.TIMED_OUT else "execution.failed"
    _finish(tx, status, event, {"type": error_type, "message": message, "step": step})


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
