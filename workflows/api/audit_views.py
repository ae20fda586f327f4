"""Audit log API: ``GET /audit`` for owners (their workflows) and staff (everything)."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import audit
from workflows.api.schema import DATE_OR_DATETIME, LIMIT, OFFSET, paged
from workflows.api.views import Pagination
from workflows.instants import WindowInvalid, parse_instant
from workflows.models import AuditEntry


def _when(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_instant(raw, name, end=name == "until")
    except WindowInvalid as exc:
        raise ValidationError({name: [str(exc)]}) from None


class AuditEntrySerializer(serializers.Serializer):
    """One audit entry (``audit.audit_entry_dict``)."""

    id = serializers.IntegerField()
    time = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True, help_text="Username; null once deleted.")
    action = serializers.ChoiceField(choices=AuditEntry.Action.choices)
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    workflow_id = serializers.CharField(allow_null=True)
    client_address = serializers.CharField(allow_null=True)
    summary = serializers.JSONField()


class AuditListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("object", str, description="A workflow or execution id."),
            OpenApiParameter("actor", str, description="A username."),
            OpenApiParameter("action", str, enum=list(AuditEntry.Action.values)),
            OpenApiParameter("since", DATE_OR_DATETIME, description="ISO 8601 date or date-time"),
            OpenApiParameter(
                "until", DATE_OR_DATETIME, description="ISO 8601 date or date-time (exclusive)"
            ),
            LIMIT,
            OFFSET,
        ],
        responses=paged(AuditEntrySerializer),
        description="Who created, changed, shared, deleted, ran, cancelled a workflow or read "
        "an audited execution's results: staff see all entries, others those on the "
        "workflows they own and their own actions.",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        action = params.get("action") or None
        if action and action not in AuditEntry.Action.values:
            raise ValidationError({"action": [f"One of {', '.join(AuditEntry.Action.values)}."]})
        qs = audit.audit_entries_for_user(
            request.user,
            object_id=params.get("object") or None,
            actor=params.get("actor") or None,
            action=action,
            since=_when(request, "since"),
            until=_when(request, "until"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([audit.audit_entry_dict(e) for e in page])
