"""Monthly budgets: a workflow with ``monthly_budget`` refuses new runs once the cost of
this calendar month's (UTC) real runs reaches it.

The month's cost is the ``total_cost`` of its finished runs plus what the steps of
unfinished runs have cost so far (an execution's total is written when it ends).
The check is made when a run is asked for; runs started at the same moment may
both pass it, so a budget can be overrun by what those runs cost. Stopping a run
that is already going is ``execution_config.max_cost``'s job, not this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from workflows.audit import AuditContext, audit_record
from workflows.models import Workflow


class BudgetExceeded(Exception):
    """The workflow's monthly budget is spent; no new run until ``resets_at``."""

    def __init__(self, *, budget: Decimal, spent: Decimal, resets_at: datetime):
        super().__init__(
            f"This workflow's monthly budget of ${budget:.2f} is spent "
            f"(${spent:.6f} so far this month); new runs are refused until "
            f"{resets_at:%Y-%m-%d} (UTC). Raise or remove the budget to run it now."
        )
        self.budget, self.spent, self.resets_at = budget, spent, resets_at


@dataclass(frozen=True)
class BudgetStatus:
    monthly_budget: Decimal | None
    spent: Decimal
    month_start: datetime
    resets_at: datetime

    @property
    def exhausted(self) -> bool:
        return self.monthly_budget is not None and self.spent >= self.monthly_budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "monthly_budget": float(self.monthly_budget)
            if self.monthly_budget is not None
            else None,
            "month_to_date_cost": float(self.spent),
            "resets_at": self.resets_at,
        }


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The current UTC calendar month: ``[first day 00:00, first day of next month)``."""
    now = (now or timezone.now()).astimezone(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else (start.replace(month=start.month + 1))
    )
    return start, following


def workflow_month_cost(*, workflow: Workflow, now: datetime | None = None) -> Decimal:
    """This month's cost of the workflow's real (non-test) runs, unfinished ones included."""
    Execution = apps.get_model("executions", "Execution")
    StepRun = apps.get_model("executions", "StepRun")
    from executions.models import EXECUTION_TERMINAL

    start, _ = month_bounds(now)
    runs = Execution.objects.filter(workflow=workflow, is_test=False, created_at__gte=start)
    finished = runs.filter(status__in=list(EXECUTION_TERMINAL)).aggregate(s=Sum("total_cost"))["s"]
    running = StepRun.objects.filter(
        execution__in=runs.exclude(status__in=list(EXECUTION_TERMINAL)).values("pk")
    ).aggregate(s=Sum("cost"))["s"]
    return (finished or Decimal(0)) + (running or Decimal(0))


def budget_status(*, workflow: Workflow, now: datetime | None = None) -> BudgetStatus:
    start, following = month_bounds(now)
    return BudgetStatus(
        monthly_budget=workflow.monthly_budget,
        spent=workflow_month_cost(workflow=workflow, now=now),
        month_start=start,
        resets_at=following,
    )


def budget_check(*, workflow: Workflow) -> None:
    """Raise ``BudgetExceeded`` if the workflow has a monthly budget and it is spent."""
    if workflow.monthly_budget is None:
        return
    status = budget_status(workflow=workflow)
    if status.exhausted:
        raise BudgetExceeded(
            budget=workflow.monthly_budget, spent=status.spent, resets_at=status.resets_at
        )


@transaction.atomic
def workflow_budget_set(
    *, workflow: Workflow, monthly_budget: Decimal | None, audit: AuditContext | None = None
) -> Workflow:
    """Set (or with None remove) the workflow's monthly budget."""
    old = workflow.monthly_budget
    Workflow.objects.filter(pk=workflow.pk).update(monthly_budget=monthly_budget)
    workflow.monthly_budget = monthly_budget
    audit_record(
        context=audit,
        action="budget_changed",
        workflow=workflow,
        summary={
            "from": None if old is None else str(old),
            "to": None if monthly_budget is None else str(monthly_budget),
        },
    )
    return workflow
