"""Analytics and resource usage, computed from the run history by aggregate queries.

Every figure is measured (StepRun and Execution rows); test runs (``is_test``)
are left out. Definitions, so the numbers can be recomputed by hand:

- a run is *finished* when its status is terminal; ``success_rate`` is the percent
  of finished runs that completed;
- durations (average, p50, p95) are ``completed_at - started_at`` of *completed*
  runs (a failure that stops early would make a workflow look fast);
- ``avg_cost`` is the average ``total_cost`` of finished runs (a failed run was
  paid for too);
- per step (top-level step runs of those executions): the duration is the
  completed runs' average ``completed_at - started_at``; ``failure_rate`` is the
  percent of finished (completed or failed) runs that failed (a conditional or
  loop counts as failed when one of its branches or iterations failed);
  ``retry_rate`` the percent of finished runs that needed more than one attempt
  (a retry or a fallback model); ``avg_cost`` is the cost of the step's runs (loop iterations
  and branches included) divided by its finished runs;
- days are UTC calendar days of ``created_at``.

Percentiles use PostgreSQL's ``percentile_cont``; elsewhere the same linear
interpolation is done with two ordered ``LIMIT/OFFSET`` reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from executions.models import EXECUTION_TERMINAL, Execution, ExecutionStatus, StepRun, StepStatus
from workflows.instants import WindowInvalid, parse_instant
from workflows.models import Workflow

TIMEFRAMES: dict[str, timedelta] = {
    "last_24_hours": timedelta(hours=24),
    "last_7_days": timedelta(days=7),
    "last_30_days": timedelta(days=30),
    "last_90_days": timedelta(days=90),
    # the seed's SDK example says "last_week"; plain-English aliases
    "last_day": timedelta(hours=24),
    "last_week": timedelta(days=7),
    "last_month": timedelta(days=30),
}
DEFAULT_TIMEFRAME = "last_30_days"
GROUP_BY = ("workflow_id", "user", "team", "model")
NO_TEAM = "(no team)"
NO_MODEL = "(no model)"
FINISHED = [str(s) for s in EXECUTION_TERMINAL]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    timeframe: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"timeframe": self.timeframe, "start": self.start, "end": self.end}


def window_resolve(
    *,
    timeframe: str | None = None,
    start: str | None = None,
    end: str | None = None,
    now: datetime | None = None,
) -> Window:
    """The time window of a request: a named ``timeframe`` or explicit ``start``/``end``.

    Raises ``WindowInvalid`` naming the parameter at fault.
    """
    now = now or timezone.now()
    if start or end:
        if timeframe:
            raise WindowInvalid("timeframe", "Give either timeframe or start/end, not both.")
        if not start:
            raise WindowInvalid("start", "Required with end.")
        begin = parse_instant(start, "start", end=False)
        finish = parse_instant(end, "end", end=True) if end else now
        if finish <= begin:
            raise WindowInvalid("end", "Must be after start.")
        return Window(begin, finish, None)
    name = timeframe or DEFAULT_TIMEFRAME
    if name not in TIMEFRAMES:
        raise WindowInvalid(
            "timeframe", f"One of {', '.join(TIMEFRAMES)}; or give start and end dates."
        )
    return Window(now - TIMEFRAMES[name], now, name)


class ElapsedSeconds(Func):
    """``end - start`` in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(F(end), F(start))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::float8",
            arg_joiner=" - ",
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
        )


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def _percentiles(durations: QuerySet[Any], fractions: tuple[float, ...]) -> list[float | None]:
    """Linear-interpolated percentiles of the ``d`` column of ``durations``."""
    if connection.vendor == "postgresql":
        row = durations.aggregate(
            **{f"p{i}": PercentileCont("d", f) for i, f in enumerate(fractions)}
        )
        return [row[f"p{i}"] for i in range(len(fractions))]
    n = durations.count()
    if n == 0:
        return [None for _ in fractions]
    ordered = durations.order_by("d").values_list("d", flat=True)
    out: list[float | None] = []
    for fraction in fractions:
        rank = (n - 1) * fraction
        low = math.floor(rank)
        pair = list(ordered[low : low + 2])
        high_value = pair[1] if len(pair) > 1 else pair[0]
        out.append(pair[0] + (high_value - pair[0]) * (rank - low))
    return out


def _r(value: Any, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def real_executions(*, window: Window) -> QuerySet[Execution]:
    return Execution.objects.filter(
        is_test=False, created_at__gte=window.start, created_at__lt=window.end
    )


def workflow_analytics(*, workflow: Workflow, window: Window) -> dict[str, Any]:
    """Performance of ``workflow``'s real runs in ``window`` (see the module docstring).

    One scan groups the runs by (day, status); the totals, the rates and the daily
    buckets are summed from those few rows. The percentiles and the per-step
    figures take one query each.
    """
    runs = real_executions(window=window).filter(workflow=workflow)
    timed = Q(
        status=ExecutionStatus.COMPLETED, started_at__isnull=False, completed_at__isnull=False
    )
    elapsed = ElapsedSeconds("started_at", "completed_at")
    cells: list[dict[str, Any]] = list(
        runs.annotate(day=TruncDate("created_at"))  # type: ignore[arg-type]
        .order_by()
        .values("day", "status")
        .annotate(
            n=Count("id"),
            cost=Sum("total_cost"),
            seconds=Sum(elapsed, filter=timed),
            timed=Count("id", filter=timed),
        )
    )
    p50, p95 = _percentiles(runs.filter(timed).annotate(d=elapsed).values("d"), (0.5, 0.95))

    def summed(rows: list[dict[str, Any]]) -> dict[str, Any]:
        finished = [r for r in rows if r["status"] in FINISHED]
        n_finished = sum(r["n"] for r in finished)
        n_timed = sum(r["timed"] for r in rows)
        finished_cost = sum((r["cost"] or Decimal(0) for r in finished), Decimal(0))
        return {
            "runs": sum(r["n"] for r in rows),
            "success_rate": _pct(
                sum(r["n"] for r in rows if r["status"] == ExecutionStatus.COMPLETED), n_finished
            ),
            "avg_duration_seconds": _r(sum(r["seconds"] or 0.0 for r in rows) / n_timed)
            if n_timed
            else None,
            "avg_cost": _r(finished_cost / n_finished, 6) if n_finished else None,
            "total_cost": _r(sum((r["cost"] or Decimal(0) for r in rows), Decimal(0)), 6),
        }

    overall = summed(cells)
    by_status = {s: 0 for s in ExecutionStatus.values()}
    days: dict[Any, list[dict[str, Any]]] = {}
    for cell in cells:
        by_status[cell["status"]] = by_status.get(cell["status"], 0) + cell["n"]
        days.setdefault(cell["day"], []).append(cell)
    daily = []
    for day in sorted(days):
        bucket = summed(days[day])
        daily.append(
            {
                "date": _day(day),
                "runs": bucket["runs"],
                "success_rate": bucket["success_rate"],
                "avg_duration_seconds": bucket["avg_duration_seconds"],
                "total_cost": bucket["total_cost"],
            }
        )
    return {
        "workflow_id": workflow.public_id,
        **window.to_dict(),
        "total_executions": overall["runs"],
        "executions_by_status": by_status,
        "success_rate": overall["success_rate"],
        "avg_duration_seconds": overall["avg_duration_seconds"],
        "p50_duration_seconds": _r(p50),
        "p95_duration_seconds": _r(p95),
        "avg_cost": overall["avg_cost"],
        "total_cost": overall["total_cost"],
        "steps": step_statistics(executions=runs),
        "daily": daily,
    }


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def step_statistics(*, executions: QuerySet[Execution]) -> list[dict[str, Any]]:
    """Per step id over ``executions``: runs, durations, failure/retry rates, cost.

    A composite step (conditional, loop) whose branch or iteration failed counts as
    failed (the engine marks the step itself cancelled when the run stops), and as
    retried when one of them needed another attempt.
    """
    elapsed = ElapsedSeconds("started_at", "completed_at")
    ids = executions.order_by().values("pk")
    is_top = Q(parent__isnull=True)
    done = is_top & Q(status__in=[StepStatus.COMPLETED, StepStatus.FAILED])
    # one scan of the step runs: top-level figures, and the cost of all (branches too)
    top = (
        StepRun.objects.filter(execution__in=ids)
        .order_by()
        .values("step_id")
        .annotate(
            finished=Count("id", filter=done),
            failed=Count("id", filter=is_top & Q(status=StepStatus.FAILED)),
            retried=Count("id", filter=done & Q(attempt__gt=1)),
            skipped=Count("id", filter=is_top & Q(status=StepStatus.SKIPPED)),
            avg_duration=Avg(
                elapsed,
                filter=is_top
                & Q(
                    status=StepStatus.COMPLETED,
                    started_at__isnull=False,
                    completed_at__isnull=False,
                ),
            ),
            cost=Sum("cost"),
        )
    )
    # composites that did not fail themselves but whose branch/iteration did (or retried)
    inner = (
        StepRun.objects.filter(execution__in=ids, parent__isnull=False)
        .exclude(parent__status=StepStatus.FAILED)
        .order_by()
        .values("step_id")
        .annotate(
            failed_done=Count(
                "parent",
                distinct=True,
                filter=Q(status=StepStatus.FAILED) & ~Q(parent__status=StepStatus.COMPLETED),
            ),
            retried=Count(
                "parent",
                distinct=True,
                filter=Q(attempt__gt=1)
                & Q(parent__status__in=[StepStatus.COMPLETED, StepStatus.FAILED]),
            ),
        )
    )
    child = {row["step_id"]: row for row in inner}
    out = []
    for row in sorted(top, key=lambda r: r["step_id"]):
        extra = child.get(row["step_id"], {"failed_done": 0, "retried": 0})
        # a failed child of a completed parent was retried or fell back: not a failure
        row["failed"] += extra["failed_done"]
        row["retried"] += extra["retried"]
        n = row["finished"] + extra["failed_done"]
        cost = row["cost"] or Decimal(0)
        out.append(
            {
                "step_id": row["step_id"],
                "runs": n,
                "skipped": row["skipped"],
                "avg_duration_seconds": _r(row["avg_duration"]),
                "failure_rate": _pct(row["failed"], n),
                "retry_rate": _pct(row["retried"], n),
                "avg_cost": _r(cost / n, 6) if n else None,
                "total_cost": _r(cost, 6),
            }
        )
    return out


def _hours(seconds: Any) -> float:
    return round(float(seconds or 0) / 3600, 6)


def resource_usage(
    *, user: Any, window: Window, group_by: str, include_tests: bool = False
) -> dict[str, Any]:
    """CPU, RAM, GPU hours and cost per group over the runs of workflows ``user`` may read.

    ``team`` attributes a run to every team of the user who started it, in full (a
    member of two teams counts in both; runs of users in no team go to "(no team)"),
    so team rows can add up to more than the total. ``model`` groups step runs by the
    model that answered (steps without a model under "(no model)").
    """
    if group_by not in GROUP_BY:
        raise WindowInvalid("group_by", f"One of {', '.join(GROUP_BY)}.")
    from workflows.selectors import workflows_for_user

    readable = workflows_for_user(user).order_by().values("pk")
    runs = Execution.objects.filter(
        workflow__in=readable, created_at__gte=window.start, created_at__lt=window.end
    )
    if not include_tests:
        runs = runs.filter(is_test=False)
    rows: Any
    if group_by == "model":
        rows = (
            StepRun.objects.filter(execution__in=runs.order_by().values("pk"))
            .order_by()
            .values(group_key=F("model_used"))
            .annotate(
                cpu=Sum("cpu_seconds"),
                ram=Sum(F("memory_mb") / 1024.0 * F("wall_seconds"), output_field=FloatField()),
                gpu=Sum("gpu_seconds"),
                cost=Sum("cost"),
                executions=Count("execution", distinct=True),
            )
        )
    else:
        field = {
            "workflow_id": "workflow__public_id",
            "user": "created_by__username",
            "team": "created_by__groups__name",
        }[group_by]
        rows = (
            runs.order_by()
            .values(group_key=F(field))
            .annotate(
                cpu=Sum("cpu_seconds"),
                ram=Sum("ram_gb_seconds"),
                gpu=Sum("gpu_seconds"),
                cost=Sum("total_cost"),
                executions=Count("id", distinct=True),
            )
        )
    names: Mapping[str, str] = {}
    if group_by == "workflow_id":
        names = dict(
            Workflow.objects.filter(public_id__in=[r["group_key"] for r in rows]).values_list(
                "public_id", "name"
            )
        )
    empty = NO_MODEL if group_by == "model" else NO_TEAM
    groups = [
        {
            "key": row["group_key"] or empty,
            **({"name": names.get(row["group_key"], "")} if group_by == "workflow_id" else {}),
            "cpu_hours": _hours(row["cpu"]),
            "ram_gb_hours": _hours(row["ram"]),
            "gpu_hours": _hours(row["gpu"]),
            "total_cost": _r(row["cost"] or 0, 6),
            "executions": row["executions"],
        }
        for row in rows
    ]
    groups.sort(key=lambda g: (-g["total_cost"], -g["cpu_hours"], g["key"]))
    return {**window.to_dict(), "group_by": group_by, "groups": groups}


#: Estimates read at most this many recent runs, so a busy workflow's detail stays fast.
HISTORY_RUNS = 200


def workflow_history(*, workflow: Workflow, days: int = 30) -> dict[str, Any]:
    """What past real runs say about one run of ``workflow``: per-step average duration
    and cost, and the run average, over its latest ``HISTORY_RUNS`` finished real runs
    of the last ``days`` days. Used for estimates once history exists."""
    window = Window(timezone.now() - timedelta(days=days), timezone.now(), None)
    latest = (
        real_executions(window=window)
        .filter(workflow=workflow, status__in=FINISHED)
        .order_by("-created_at")
        .values("pk")[:HISTORY_RUNS]
    )
    runs = Execution.objects.filter(pk__in=latest)
    agg = runs.aggregate(
        n=Count("id"),
        cost=Avg("total_cost"),
        duration=Avg(
            ElapsedSeconds("started_at", "completed_at"),
            filter=Q(status=ExecutionStatus.COMPLETED, started_at__isnull=False),
        ),
    )
    return {
        "runs": agg["n"],
        "avg_cost": agg["cost"],
        "avg_duration_seconds": agg["duration"],
        "steps": {s["step_id"]: s for s in step_statistics(executions=runs)},
    }


@dataclass(frozen=True)
class HistoricalEstimate:
    """An estimate and where it came from: ``history`` once real runs exist."""

    estimate: Any  # workflows.definition.estimate.Estimate
    source: str
    runs: int


def workflow_estimate(*, workflow: Workflow, definition: Any, user: Any) -> HistoricalEstimate:
    """Cost and duration of one run of ``definition`` (the workflow's, or a new draft of it).

    Steps that ran in the last 30 days take their measured average duration and cost;
    the others keep the pure estimator's (``workflows.definition.estimate``) figures.
    The duration is the critical path over those step durations.
    """
    import dataclasses

    from workflows.catalog import model_prices
    from workflows.definition.estimate import estimate_definition

    history = workflow_history(workflow=workflow)
    steps = {
        step_id: s
        for step_id, s in history["steps"].items()
        if s["runs"] and s["avg_duration_seconds"] is not None
    }
    base = estimate_definition(
        definition,
        prices=model_prices(user),
        step_durations={k: s["avg_duration_seconds"] for k, s in steps.items()},
    )
    if not steps:
        return HistoricalEstimate(base, "definition", history["runs"])
    step_estimates = {
        step_id: dataclasses.replace(est, cost=Decimal(str(steps[step_id]["avg_cost"])))
        if step_id in steps
        else est
        for step_id, est in base.steps.items()
    }
    cost = sum((e.cost for e in step_estimates.values()), Decimal(0)).quantize(Decimal("0.0001"))
    estimate = dataclasses.replace(base, cost=cost, steps=step_estimates)
    return HistoricalEstimate(estimate, "history", history["runs"])
