"""Observability API: a workflow's analytics, resource usage, optimization suggestions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions import analytics
from workflows import selectors as wf_selectors
from workflows.api.parsers import LimitedJSONParser
from workflows.api.query import query_bool
from workflows.api.schema import DATE_OR_DATETIME

WINDOW_PARAMETERS = [
    OpenApiParameter("timeframe", str, enum=list(analytics.TIMEFRAMES)),
    OpenApiParameter(
        "start", DATE_OR_DATETIME, description="ISO 8601 date or date-time (instead of timeframe)"
    ),
    OpenApiParameter(
        "end", DATE_OR_DATETIME, description="ISO 8601 date or date-time; default now"
    ),
]


def _window(request: Request) -> analytics.Window:
    params = request.query_params
    try:
        return analytics.window_resolve(
            timeframe=params.get("timeframe") or None,
            start=params.get("start") or None,
            end=params.get("end") or None,
        )
    except analytics.WindowInvalid as exc:
        raise ValidationError({exc.param: [str(exc)]}) from None


class AnalyticsView(APIView):
    @extend_schema(
        parameters=WINDOW_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
        description="Performance of the workflow's real (non-test) runs: durations (average, "
        "p50, p95), success rate (percent), average cost, counts by status, per-step "
        "duration/failure/retry/cost, and daily buckets.",
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = wf_selectors.workflow_get(user=request.user, public_id=workflow_id)
        window = _window(request)
        return Response(analytics.workflow_analytics(workflow=workflow, window=window))


class ResourceUsageView(APIView):
    @extend_schema(
        parameters=[
            *WINDOW_PARAMETERS,
            OpenApiParameter("group_by", str, enum=list(analytics.GROUP_BY)),
            OpenApiParameter("include_tests", bool, description="Count test runs too."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="CPU, RAM and GPU hours, cost and run count per group, over the runs of "
        "the workflows you may read.",
    )
    def get(self, request: Request) -> Response:
        window = _window(request)
        group_by = request.query_params.get("group_by") or "workflow_id"
        include_tests = bool(query_bool(request, "include_tests"))
        try:
            body = analytics.resource_usage(
                user=request.user, window=window, group_by=group_by, include_tests=include_tests
            )
        except analytics.WindowInvalid as exc:
            raise ValidationError({exc.param: [str(exc)]}) from None
        return Response(body)


class OptimizeView(APIView):
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "optimization_goals": {
                        "type": "array",
                        "items": {"enum": ["speed", "cost", "accuracy"]},
                    },
                    "constraints": {
                        "type": "object",
                        "properties": {
                            "max_cost": {"type": "number"},
                            "max_duration_seconds": {"type": "number"},
                        },
                    },
                },
            }
        },
        responses={200: OpenApiTypes.OBJECT},
        description="Concrete suggestions from the run history, each with its reason and "
        "estimated effect, and the optimized definition (save it with PUT to apply).",
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        from executions.optimization import workflow_optimize
        from workflows.definition.optimize import OptimizeRequestInvalid, parse_request

        workflow = wf_selectors.workflow_get(user=request.user, public_id=workflow_id)
        data: Any = request.data if request.data is not None else {}
        try:
            goals, constraints = parse_request(data)
        except OptimizeRequestInvalid as exc:
            raise ValidationError({exc.param: [str(exc)]}) from None
        return Response(
            workflow_optimize(
                workflow=workflow, user=request.user, goals=goals, constraints=constraints
            )
        )


class BudgetExceededError(APIException):
    """402 ``budget_exceeded``: the workflow's monthly budget is spent."""

    status_code = 402
    default_code = "budget_exceeded"
    default_detail = "The workflow's monthly budget is spent."


def require_budget(workflow: Any) -> None:
    """Refuse a new run of ``workflow`` once its monthly budget is spent (402)."""
    from executions.budgets import BudgetExceeded, budget_check

    try:
        budget_check(workflow=workflow)
    except BudgetExceeded as exc:
        raise BudgetExceededError(str(exc), code="budget_exceeded") from None


#: A page that polls an execution records one read per reader per minute, not one a poll.
RESULTS_READ_EVERY = timedelta(minutes=1)


def audit_results_read(request: Request, execution: Any) -> None:
    """Record that the caller read ``execution``'s results, if its security_config asks."""
    from executions.security import audit_logging_enabled
    from workflows.audit import audit_context, audit_record
    from workflows.models import AuditEntry

    if not audit_logging_enabled(execution.security_config):
        return
    recent = AuditEntry.objects.filter(
        object_type="execution",
        object_id=execution.public_id,
        action=AuditEntry.Action.RESULTS_READ,
        actor=request.user,  # type: ignore[misc]  # authenticated: the view requires it
        created_at__gte=timezone.now() - RESULTS_READ_EVERY,
    )
    if not recent.exists():
        audit_record(
            context=audit_context(request),
            action="results_read",
            workflow=execution.workflow,
            execution=execution,
            summary={"status": execution.status},
        )
