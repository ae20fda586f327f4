"""What the workflows layer shows of a workflow's runs (``workflows.registry.RunHistory``).

The latest run of each workflow (the list's status column), the estimate informed by
run history and the cost behind a monthly budget. ``ExecutionsConfig.ready``
registers it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

from executions.analytics import HistoricalEstimate, workflow_estimate
from executions.budgets import workflow_cost_since
from executions.models import Execution
from workflows.definition.schema import WorkflowDefinition
from workflows.models import Workflow
from workflows.registry import LatestRunField

# What RunHistory.latest_run reads → the run's column.
_COLUMNS = {"id": "public_id", "status": "status", "at": "created_at"}


class EngineRunHistory:
    def latest_run(self, *, field: LatestRunField, include_test: bool) -> Subquery:
        latest = Execution.objects.filter(workflow=OuterRef("pk"))
        if not include_test:
            latest = latest.filter(is_test=False)
        return Subquery(latest.order_by("-created_at", "-id").values(_COLUMNS[field])[:1])

    def estimate(
        self, *, workflow: Workflow, definition: WorkflowDefinition, user: Any
    ) -> HistoricalEstimate:
        return workflow_estimate(workflow=workflow, definition=definition, user=user)

    def cost_since(self, *, workflow: Workflow, since: datetime) -> Decimal:
        return workflow_cost_since(workflow=workflow, since=since)
