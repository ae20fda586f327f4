"""Workflows API: parse, authorize, call a service, shape the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ParseError, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import budgets, selectors, services, tokens
from workflows.api import serializers as s
from workflows.api.parsers import (
    LimitedJSONParser,
    XYAMLParser,
    YAMLParser,
    YAMLTextParser,
    parse_document,
)
from workflows.api.query import query_bool, query_choice, query_int
from workflows.api.renderers import StrictFormatNegotiation, YAMLRenderer
from workflows.api.schema import LIMIT, OFFSET, paged
from workflows.audit import audit_context
from workflows.definition.schema import WorkflowDefinition, definition_json_schema
from workflows.definition_checks import (
    definition_check,
    definition_estimate,
    definition_require_valid,
    workflow_estimate,
)
from workflows.errors import ActionForbidden
from workflows.models import ApiToken, Workflow
from workflows.permissions import Action

DOCUMENT_PARSERS = [LimitedJSONParser, YAMLParser, YAMLTextParser, XYAMLParser]


def _signed_in(request: Request) -> User:
    """The caller, who the views' permission classes have already required to sign in."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


class Pagination(LimitOffsetPagination):
    """``limit`` (1..500, default 50) and ``offset`` (0..); anything else is a 400.

    DRF's own falls back to the default on a bad value, so a client that sent
    ``limit=-1`` would silently get a page it did not ask for.
    """

    default_limit = 50
    max_limit = 500

    def get_limit(self, request: Any) -> int | None:
        if self.limit_query_param not in request.query_params:
            return self.default_limit
        value = query_int(request, self.limit_query_param, minimum=1)
        return min(value, self.max_limit) if value is not None else self.default_limit

    def get_offset(self, request: Any) -> int:
        return query_int(request, self.offset_query_param, minimum=0) or 0


def _with_estimate(workflow: Workflow, user: Any) -> Workflow:
    definition = WorkflowDefinition.model_validate(workflow.published_version().definition)
    estimate, source = workflow_estimate(workflow=workflow, definition=definition, user=user)
    workflow.estimated_cost = float(estimate.cost)  # type: ignore[attr-defined]
    workflow.estimated_duration = estimate.duration_seconds  # type: ignore[attr-defined]
    workflow.estimate_source = source  # type: ignore[attr-defined]
    return workflow


def _created_response(workflow: Workflow, user: Any, warnings: list[Any]) -> Response:
    workflow = selectors.workflow_get(user=user, public_id=workflow.public_id)
    _with_estimate(workflow, user)
    workflow.warnings = [w.to_dict() for w in warnings]  # type: ignore[attr-defined]
    return Response(s.WorkflowCreatedSerializer(workflow).data, status=status.HTTP_201_CREATED)


def _split_change_note(data: Any) -> tuple[Any, str]:
    if isinstance(data, dict) and "change_note" in data:
        data = dict(data)
        note = data.pop("change_note")
        if not isinstance(note, str) or len(note) > 500:
            raise ValidationError({"change_note": ["A text of at most 500 characters."]})
        return data, note
    return data, ""


class WorkflowViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_url_kwarg = "workflow_id"
    lookup_value_regex = "[A-Za-z0-9_]+"
    parser_classes = DOCUMENT_PARSERS

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=list(selectors.WORKFLOW_STATUSES),
                description="'created' (never run) or the status of the latest run.",
            ),
            OpenApiParameter(
                "sort",
                str,
                enum=[f"{p}{f}" for f in sorted(selectors.WORKFLOW_SORTS) for p in ("", "-")],
                description="created_at, name, status, updated_at; '-' reverses",
            ),
            OpenApiParameter("search", str, description="Matches name or description."),
            OpenApiParameter("shared", bool, description="Only workflows others shared with me."),
            LIMIT,
            OFFSET,
        ],
        responses=paged(s.WorkflowSummarySerializer),
    )
    def list(self, request: Request) -> Response:
        params = request.query_params
        try:
            qs = selectors.workflow_list(
                user=request.user,
                status=query_choice(request, "status", selectors.WORKFLOW_STATUSES),
                search=params.get("search") or None,
                sort=params.get("sort") or "-created_at",
                shared_with_me=bool(query_bool(request, "shared")),
            )
        except ValueError as exc:
            raise ValidationError({"sort": [str(exc)]}) from None
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.WorkflowSummarySerializer(page, many=True).data)

    @extend_schema(request=WorkflowDefinition, responses={201: s.WorkflowCreatedSerializer})
    def create(self, request: Request) -> Response:
        return self._create_from(request, request.data, default_note="Created")

    @extend_schema(responses=s.WorkflowDetailSerializer)
    def retrieve(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(user=request.user, public_id=workflow_id)
        _with_estimate(workflow, request.user)
        workflow.your_permissions = selectors.user_actions(request.user, workflow)  # type: ignore[attr-defined]
        workflow.budget = budgets.budget_status(workflow=workflow).to_dict()  # type: ignore[attr-defined]
        return Response(s.WorkflowDetailSerializer(workflow).data)

    @extend_schema(
        request=s.BudgetSerializer,
        responses=s.WorkflowDetailSerializer,
        description="Set or remove (null) the workflow's monthly budget; needs modify.",
    )
    def partial_update(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.MODIFY
        )
        body = s.BudgetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        budgets.workflow_budget_set(
            workflow=workflow,
            monthly_budget=body.validated_data["monthly_budget"],
            audit=audit_context(request),
        )
        return self.retrieve(request, workflow_id)

    @extend_schema(
        request=WorkflowDefinition,
        responses=s.WorkflowDetailSerializer,
        description="Save the definition as a new immutable version. "
        "An optional `change_note` may accompany the definition.",
    )
    def update(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.MODIFY
        )
        data, note = _split_change_note(request.data)
        checked = definition_require_valid(data, user=request.user)
        services.workflow_version_publish(
            workflow=workflow,
            author=request.user,
            definition=checked.definition,
            document=checked.document,
            change_note=note,
            audit=audit_context(request),
        )
        return self.retrieve(request, workflow_id)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(
            user=request.user, public_id=workflow_id, action=Action.DELETE
        )
        services.workflow_delete(workflow=workflow, audit=audit_context(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ValidateRequestSerializer, responses=s.VALIDATE_RESPONSE)
    @action(detail=False, methods=["post"], parser_classes=[LimitedJSONParser])
    def validate(self, request: Request) -> Response:
        body = s.ValidateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        checks = body.validated_data.get("checks") or list(s.CHECKS)
        report = definition_check(
            body.validated_data["workflow_definition"], user=request.user, checks=checks
        )
        estimate, source = None, None
        if "cost_estimation" in checks and report.definition is not None:
            # For a draft of an existing workflow, its run history informs the estimate.
            given = request.data.get("workflow_id") if isinstance(request.data, dict) else None
            existing = given or request.query_params.get("workflow_id")
            if existing:
                estimate, source = workflow_estimate(
                    workflow=selectors.workflow_get(user=request.user, public_id=str(existing)),
                    definition=report.definition,
                    user=request.user,
                )
            else:
                estimate = definition_estimate(report.definition, user=request.user)
                source = "definition"
        return Response(
            {
                "is_valid": report.is_valid,
                "errors": [i.to_dict() for i in report.errors],
                "warnings": [i.to_dict() for i in report.warnings],
                "checks": checks,
                "estimated_cost": float(estimate.cost) if estimate else None,
                "estimated_duration": estimate.duration_seconds if estimate else None,
                "cost_breakdown": estimate.to_dict() if estimate else None,
                "estimate_source": source,
            }
        )

    @extend_schema(
        request={
            "application/json": WorkflowDefinition,
            "application/yaml": OpenApiTypes.STR,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        responses={201: s.WorkflowCreatedSerializer},
        description="Create a workflow from a JSON or YAML definition (body or uploaded file).",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[*DOCUMENT_PARSERS, MultiPartParser],
    )
    def import_(self, request: Request) -> Response:
        data = request.data
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            data = parse_document(
                upload.read(), filename=upload.name or "", content_type=upload.content_type or ""
            )
        elif request.content_type.startswith("multipart/"):
            raise ParseError("Attach the definition as a form field named 'file'.")
        return self._create_from(request, data, default_note="Imported")

    def _create_from(self, request: Request, data: Any, *, default_note: str) -> Response:
        data, note = _split_change_note(data)
        checked = definition_require_valid(data, user=request.user)
        workflow = services.workflow_create(
            owner=request.user,
            definition=checked.definition,
            document=checked.document,
            change_note=note or default_note,
            audit=audit_context(request),
        )
        return _created_response(workflow, request.user, checked.report.warnings)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "yaml"]),
            OpenApiParameter("version", int, description="Version number; default the current."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="The definition document as a JSON or YAML file download.",
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, YAMLRenderer],
        content_negotiation_class=StrictFormatNegotiation,
    )
    def export(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(user=request.user, public_id=workflow_id)
        version = workflow.published_version()
        if "version" in request.query_params:
            version = get_object_or_404(
                workflow.versions, number=_positive_int(request.query_params["version"], "version")
            )
        extension = request.accepted_renderer.format
        filename = f"{workflow.public_id}-v{version.number}.{extension}"
        return Response(
            version.definition,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @extend_schema(responses=s.VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(user=request.user, public_id=workflow_id)
        return Response(
            s.VersionSerializer(selectors.workflow_versions(workflow=workflow), many=True).data
        )

    @extend_schema(responses=s.VersionDetailSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request: Request, workflow_id: str, number: str) -> Response:
        workflow = selectors.workflow_get(user=request.user, public_id=workflow_id)
        version = get_object_or_404(
            selectors.workflow_versions(workflow=workflow), number=int(number)
        )
        return Response(s.VersionDetailSerializer(version).data)

    @extend_schema(
        methods=["GET"],
        responses=s.PermissionsSerializer,
    )
    @extend_schema(
        methods=["POST"],
        request=s.PermissionsSerializer,
        responses=s.PermissionsSerializer,
        description="Replace the grants of each action given; actions left out are unchanged. "
        "Only the owner or staff may do this.",
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[LimitedJSONParser])
    def permissions(self, request: Request, workflow_id: str) -> Response:
        workflow = selectors.workflow_get(user=request.user, public_id=workflow_id)
        if request.method == "POST":
            if workflow.owner_id != request.user.pk and not request.user.is_staff:
                raise ActionForbidden("Only the owner or staff may change who has access.")
            body = s.PermissionsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            services.workflow_permissions_set(
                workflow=workflow, permissions=body.validated_data, audit=audit_context(request)
            )
        return Response(selectors.workflow_permissions(workflow=workflow))


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["A whole number."]}) from None
    if value < 1:
        raise ValidationError({name: ["At least 1."]})
    return value


class TemplateViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_url_kwarg = "template_id"
    lookup_value_regex = "[A-Za-z0-9_]+"
    parser_classes = [LimitedJSONParser]

    def _get(self, request: Request, template_id: str) -> Any:
        return get_object_or_404(selectors.templates_for_user(request.user), public_id=template_id)

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str),
            OpenApiParameter("search", str, description="Matches the name."),
            LIMIT,
            OFFSET,
        ],
        responses=paged(s.TemplateSerializer),
    )
    def list(self, request: Request) -> Response:
        qs = selectors.templates_for_user(request.user)
        if category := request.query_params.get("category"):
            qs = qs.filter(category=category)
        if search := request.query_params.get("search"):
            qs = qs.filter(name__icontains=search)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.TemplateSerializer(page, many=True).data)

    @extend_schema(request=s.TemplateCreateSerializer, responses={201: s.TemplateSerializer})
    def create(self, request: Request) -> Response:
        body = s.TemplateCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        extras = {
            key: data.pop(key)
            for key in (
                "error_handling",
                "resource_requirements",
                "input_schema",
                "final_result",
                "sample_inputs",
            )
            if key in data
        }
        with transaction.atomic():
            template = services.template_create(owner=request.user, extras=extras, **data)
            # A template must yield a valid workflow with its defaults, or say why not.
            services.template_check(template=template, user=request.user)
        return Response(s.TemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.TemplateSerializer)
    def retrieve(self, request: Request, template_id: str) -> Response:
        return Response(s.TemplateSerializer(self._get(request, template_id)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, template_id: str) -> Response:
        template = self._get(request, template_id)
        if template.owner_id != request.user.pk:
            raise ActionForbidden("Only the template's owner may delete it.")
        template.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.InstantiateSerializer, responses={201: s.WorkflowCreatedSerializer})
    @action(detail=True, methods=["post"])
    def instantiate(self, request: Request, template_id: str) -> Response:
        template = self._get(request, template_id)
        body = s.InstantiateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow = services.template_instantiate(
            template=template,
            user=request.user,
            values=body.validated_data["parameters"],
            name=body.validated_data.get("name"),
            audit=audit_context(request),
        )
        return _created_response(workflow, request.user, [])


class DefinitionSchemaView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, description="JSON Schema of a definition.")
    def get(self, request: Request) -> Response:
        return Response(definition_json_schema())


class ApiTokenViewSet(viewsets.ViewSet):
    parser_classes = [LimitedJSONParser]
    lookup_value_regex = "[0-9]+"

    @extend_schema(responses=s.ApiTokenSerializer(many=True))
    def list(self, request: Request) -> Response:
        qs = ApiToken.objects.filter(user=_signed_in(request), revoked_at__isnull=True)
        return Response(s.ApiTokenSerializer(qs, many=True).data)

    @extend_schema(request=s.ApiTokenCreateSerializer, responses={201: s.ApiTokenCreatedSerializer})
    def create(self, request: Request) -> Response:
        body = s.ApiTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        days = body.validated_data.get("expires_in_days")
        new = tokens.api_token_create(
            user=_signed_in(request),
            name=body.validated_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        new.token.key = new.key  # type: ignore[attr-defined]
        return Response(s.ApiTokenCreatedSerializer(new.token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        token = get_object_or_404(ApiToken, pk=pk, user=_signed_in(request))
        tokens.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
