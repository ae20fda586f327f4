"""Monthly budgets, the setting: a workflow's ``monthly_budget`` and where it stands.

What this month's (UTC) runs cost comes from the engine (``workflows.registry``);
refusing a run once the budget is spent is the engine's job too
(``executions.budgets.budget_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from workflows import registry
from workflows.audit import AuditContext, audit_record
from workflows.models import Workflow


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


def budget_status(*, workflow: Workflow, now: datetime | None = None) -> BudgetStatus:
    start, following = month_bounds(now)
    return BudgetStatus(
        monthly_budget=workflow.monthly_budget,
        spent=registry.run_history().cost_since(workflow=workflow, since=start),
        month_start=start,
        resets_at=following,
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
