"""Monthly budgets, enforced: a workflow with ``monthly_budget`` refuses new runs once
the cost of this calendar month's (UTC) real runs reaches it.

The month's cost is the ``total_cost`` of its finished runs plus what the steps of
unfinished runs have cost so far (an execution's total is written when it ends).
The check is made when a run is asked for; runs started at the same moment may
both pass it, so a budget can be overrun by what those runs cost. Stopping a run
that is already going is ``execution_config.max_cost``'s job, not this one.

The budget itself is a workflow setting (``workflows.budgets``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from executions.models import EXECUTION_TERMINAL, Execution, StepRun
from workflows.budgets import month_bounds
from workflows.errors import DomainError
from workflows.models import Workflow


class BudgetExceeded(DomainError):
    """The workflow's monthly budget is spent; no new run until ``resets_at`` (→ 402)."""

    http_status = 402
    code = "budget_exceeded"

    def __init__(self, *, budget: Decimal, spent: Decimal, resets_at: datetime):
        super().__init__(
            f"This workflow's monthly budget of ${budget:.2f} is spent "
            f"(${spent:.6f} so far this month); new runs are refused until "
            f"{resets_at:%Y-%m-%d} (UTC). Raise or remove the budget to run it now."
        )
        self.budget, self.spent, self.resets_at = budget, spent, resets_at


def workflow_cost_since(*, workflow: Workflow, since: datetime) -> Decimal:
    """The cost of the workflow's real (non-test) runs created since ``since``,
    unfinished ones included."""
    runs = Execution.objects.filter(workflow=workflow, is_test=False, created_at__gte=since)
    finished = runs.filter(status__in=list(EXECUTION_TERMINAL)).aggregate(s=Sum("total_cost"))["s"]
    running = StepRun.objects.filter(
        execution__in=runs.exclude(status__in=list(EXECUTION_TERMINAL)).values("pk")
    ).aggregate(s=Sum("cost"))["s"]
    return (finished or Decimal(0)) + (running or Decimal(0))


def budget_check(*, workflow: Workflow, now: datetime | None = None) -> None:
    """Raise ``BudgetExceeded`` if the workflow has a monthly budget and it is spent."""
    if workflow.monthly_budget is None:
        return
    start, resets_at = month_bounds(now)
    spent = workflow_cost_since(workflow=workflow, since=start)
    if spent >= workflow.monthly_budget:
        raise BudgetExceeded(budget=workflow.monthly_budget, spent=spent, resets_at=resets_at)
