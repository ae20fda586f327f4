"""Executions API: run a workflow, read its runs, cancel and resume them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions import selectors
from executions.api import serializers as s
from executions.api.analytics_views import audit_results_read, require_budget
from executions.models import ExecutionStatus
from executions.services import lifecycle
from workflows import selectors as wf_selectors
from workflows.api.parsers import LimitedJSONParser
from workflows.api.schema import LIMIT, OFFSET, paged
from workflows.api.views import Pagination
from workflows.audit import audit_context, audit_record
from workflows.definition.schema import WorkflowDefinition
from workflows.definition_checks import definition_estimate
from workflows.errors import ActionForbidden
from workflows.permissions import Action


def _started_response(execution: Any) -> Response:
    progress, current = lifecycle.execution_progress(execution)
    estimate = definition_estimate(WorkflowDefinition.model_validate(execution.definition))
    eta = (
        execution.started_at + timedelta(seconds=estimate.duration_seconds)
        if execution.started_at and execution.status == ExecutionStatus.RUNNING
        else execution.completed_at
    )
    body = {
        "execution_id": execution.public_id,
        "workflow_id": execution.workflow.public_id,
        "status": execution.status,
        "started_at": execution.started_at,
        "current_step": current,
        "progress": progress,
        "estimated_completion": eta,
    }
    return Response(s.ExecuteResponseSerializer(body).data, status=status.HTTP_201_CREATED)


def _configs(data: dict[str, Any], user: Any) -> dict[str, Any]:
    """Check the notification and security configs (a 400 naming the field)."""
    from executions.notifications import NotificationConfigError, validate_notification_config
    from executions.security import SecurityConfigError, validate_security_config

    out: dict[str, Any] = {}
    try:
        if "notification_config" in data:
            out["notification_config"] = validate_notification_config(
                data["notification_config"], user=user
            )
    except NotificationConfigError as exc:
        raise ValidationError({"notification_config": [str(exc)]}) from None
    try:
        if "security_config" in data:
            out["security_config"] = validate_security_config(data["security_config"])
    except SecurityConfigError as exc:
        raise ValidationError({"security_config": [str(exc)]}) from None
    return out


def _execution_config(data: dict[str, Any]) -> dict[str, Any]:
    """The validated ``execution_config``, or its defaults when none was sent."""
    given = data.get("execution_config")
    return dict(given if given else s.ExecutionConfigSerializer().to_internal_value({}))


class ExecuteView(APIView):
    parser_classes = [LimitedJSONParser]
    error_statuses = (402,)  # the workflow's monthly budget is spent

    @extend_schema(request=s.ExecuteRequestSerializer, responses={201: s.ExecuteResponseSerializer})
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = wf_selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.EXECUTE
        )
        body = s.ExecuteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        require_budget(workflow)
        execution = lifecycle.execution_start(
            workflow=workflow,
            user=request.user,
            inputs=data["inputs"],
            config=_execution_config(data),
            resource_config=dict(data.get("resource_config") or {}),
            **_configs(data, request.user),
        )
        audit_record(
            context=audit_context(request),
            action="executed",
            workflow=workflow,
            execution=execution,
            summary={"inputs": sorted(execution.inputs), "version": execution.version.number},
        )
        return _started_response(execution)


class TestRunView(APIView):
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        request=s.TestRequestSerializer,
        responses={201: s.ExecuteResponseSerializer},
        description="Run the workflow with mocked models; the run is flagged as a test.",
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = wf_selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.EXECUTE
        )
        body = s.TestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        execution = lifecycle.execution_start(
            workflow=workflow,
            user=request.user,
            inputs=data["test_inputs"],
            config=_execution_config(data),
            mock_models=data["mock_models"],
            is_test=True,
        )
        audit_record(
            context=audit_context(request),
            action="executed",
            workflow=workflow,
            execution=execution,
            summary={"test": True, "inputs": sorted(execution.inputs)},
        )
        return _started_response(execution)


class ExecutionListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[c.value for c in ExecutionStatus]),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO 8601 date-time"),
            LIMIT,
            OFFSET,
        ],
        responses=paged(s.ExecutionSummarySerializer),
        operation_id="v1_workflows_executions_list",
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = wf_selectors.workflow_get(user=request.user, public_id=workflow_id)
        params = request.query_params
        if params.get("status") and params["status"] not in ExecutionStatus.values():
            raise ValidationError({"status": [f"One of {', '.join(ExecutionStatus.values())}."]})
        qs = selectors.executions_for_workflow(
            workflow=workflow,
            status=params.get("status") or None,
            since=_when(params, "since"),
            until=_when(params, "until"),
        )
        paginator = Pagination()
        # None only for a paginator without a default limit, which ours has.
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([selectors.execution_summary(e) for e in page])


def _when(params: Any, name: str) -> Any:
    raw = params.get(name)
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationError({name: ["An ISO 8601 date-time, e.g. 2024-01-15T10:30:00Z."]})
    return value


class ExecutionDetailView(APIView):
    @extend_schema(responses=s.ExecutionDetailSerializer)
    def get(self, request: Request, workflow_id: str, execution_id: str) -> Response:
        workflow = wf_selectors.workflow_get(user=request.user, public_id=workflow_id)
        execution = selectors.execution_get(workflow=workflow, public_id=execution_id)
        audit_results_read(request, execution)
        return Response(s.ExecutionDetailSerializer(selectors.execution_detail(execution)).data)


class ExecutionCancelView(APIView):
    @extend_schema(request=None, responses=s.ExecutionDetailSerializer)
    def post(self, request: Request, workflow_id: str, execution_id: str) -> Response:
        workflow = wf_selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.EXECUTE
        )
        execution = selectors.execution_get(workflow=workflow, public_id=execution_id)
        execution = lifecycle.execution_cancel(execution=execution)
        audit_record(
            context=audit_context(request),
            action="cancelled",
            workflow=workflow,
            execution=execution,
            summary={"status": execution.status},
        )
        return Response(s.ExecutionDetailSerializer(selectors.execution_detail(execution)).data)


class ExecutionResumeView(APIView):
    error_statuses = (402,)  # the workflow's monthly budget is spent

    @extend_schema(request=None, responses={201: s.ExecuteResponseSerializer})
    def post(self, request: Request, workflow_id: str, execution_id: str) -> Response:
        workflow = wf_selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.EXECUTE
        )
        execution = selectors.execution_get(workflow=workflow, public_id=execution_id)
        if not execution.is_test:
            require_budget(workflow)
        resumed = lifecycle.execution_resume(execution=execution, user=request.user)
        audit_record(
            context=audit_context(request),
            action="executed",
            workflow=workflow,
            execution=resumed,
            summary={"resumed_from": execution.public_id},
        )
        return _started_response(resumed)


class WebhookSecretView(APIView):
    @extend_schema(
        responses={200: {"type": "object", "properties": {"secret": {"type": "string"}}}},
        description="The Standard Webhooks signing secret of this workflow's notifications "
        "(owner or staff only). Give it to the receiver so it can verify signatures.",
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        from executions.notifications import webhook_secret_for

        workflow = wf_selectors.workflow_get(user=request.user, public_id=workflow_id)
        if workflow.owner_id != request.user.pk and not request.user.is_staff:
            raise ActionForbidden("Only the owner or staff may read the webhook secret.")
        return Response({"secret": webhook_secret_for(workflow)})


class ExecutionByIdView(APIView):
    @extend_schema(
        responses=s.ExecutionDetailSerializer,
        description="An execution by its id alone (access comes from its workflow).",
    )
    def get(self, request: Request, execution_id: str) -> Response:
        execution = selectors.execution_for_user(user=request.user, public_id=execution_id)
        audit_results_read(request, execution)
        return Response(s.ExecutionDetailSerializer(selectors.execution_detail(execution)).data)
