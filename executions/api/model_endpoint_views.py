"""``/model-endpoints``: the Models page's form for OpenAI-compatible endpoints.

Thin over :mod:`executions.services.model_endpoints` (who may see and change what).
The API key is write-only: requests may set (``api_key``: text), keep (omit it) or
remove (``""``) it; responses say only ``api_key_set``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from executions.api.serializers import _forbid_unknown
from executions.services import model_endpoints as service
from workflows.api.parsers import LimitedJSONParser
from workflows.errors import ActionForbidden
from workflows.models import ModelEndpoint


def _price(**extra: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=6, min_value=Decimal(0), **extra)


class ModelEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The model name steps use (unique).")
    provider = serializers.CharField()
    base_url = serializers.CharField()
    remote_model = serializers.CharField(help_text="Model id sent to the server; '' = the name.")
    api_key_set = serializers.BooleanField(help_text="Whether an API key is stored (never shown).")
    input_price_per_1k = _price()
    output_price_per_1k = _price()
    enabled = serializers.BooleanField()
    team = serializers.IntegerField(allow_null=True, help_text="Team id; null = shared.")
    team_name = serializers.CharField(allow_null=True)
    can_manage = serializers.BooleanField(help_text="Whether the caller may change it.")
    created_at = serializers.DateTimeField()


class ModelEndpointWriteSerializer(serializers.Serializer):
    """The fields a caller sets. On update every field is optional."""

    name = serializers.CharField(max_length=200)
    base_url = serializers.CharField(
        max_length=200, help_text="With the API prefix, e.g. http://gpu-box:8000/v1."
    )
    remote_model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    api_key = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=True,
        max_length=service.API_KEY_MAX,
        help_text="Stored encrypted, never returned. Omit to keep the stored key; '' removes it.",
    )
    input_price_per_1k = _price(required=False)
    output_price_per_1k = _price(required=False)
    enabled = serializers.BooleanField(required=False)
    team = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="A team you are on (its members only), or null for shared (staff only).",
    )

    def to_internal_value(self, data: Any) -> Any:
        _forbid_unknown(self, data)
        return super().to_internal_value(data)


def _data(endpoint: ModelEndpoint, user: Any) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "name": endpoint.name,
        "provider": endpoint.provider,
        "base_url": endpoint.base_url,
        "remote_model": endpoint.remote_model,
        "api_key_set": bool(endpoint.api_key_encrypted),
        "input_price_per_1k": endpoint.input_price_per_1k,
        "output_price_per_1k": endpoint.output_price_per_1k,
        "enabled": endpoint.enabled,
        "team": endpoint.team_id,
        "team_name": endpoint.team.name if endpoint.team else None,
        "can_manage": service.can_manage(user, endpoint),
        "created_at": endpoint.created_at,
    }


def _changes(validated: dict[str, Any]) -> service.EndpointChanges:
    fields = {k: v for k, v in validated.items() if k != "team"}
    if "team" in validated:
        fields["team_id"] = validated["team"]
    return service.EndpointChanges(**fields)


class ModelEndpointViewSet(viewsets.ViewSet):
    """OpenAI-compatible model endpoints. Team members manage their team's; staff
    manage all and alone may add shared ones; another team's read as 404."""

    parser_classes = [LimitedJSONParser]
    lookup_value_regex = "[0-9]+"

    def _respond(self, request: Request, endpoint: ModelEndpoint, code: int = 200) -> Response:
        return Response(ModelEndpointSerializer(_data(endpoint, request.user)).data, status=code)

    def _write(self, request: Request, pk: str | None, partial: bool) -> Response:
        body = ModelEndpointWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        changes = _changes(body.validated_data)
        try:
            if pk is None:
                endpoint = service.endpoint_create(request.user, changes)
            else:
                endpoint = service.endpoint_update(request.user, int(pk), changes)
        except service.EndpointNotFound:
            raise NotFound() from None
        except service.EndpointForbidden as exc:
            raise ActionForbidden(str(exc)) from None
        except service.EndpointInvalid as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return self._respond(request, endpoint, 201 if pk is None else 200)

    @extend_schema(responses=ModelEndpointSerializer(many=True))
    def list(self, request: Request) -> Response:
        rows = [_data(e, request.user) for e in service.endpoints_for_user(request.user)]
        return Response(ModelEndpointSerializer(rows, many=True).data)

    @extend_schema(request=ModelEndpointWriteSerializer, responses={201: ModelEndpointSerializer})
    def create(self, request: Request) -> Response:
        return self._write(request, None, partial=False)

    @extend_schema(responses=ModelEndpointSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        try:
            return self._respond(request, service.endpoint_get(request.user, int(pk)))
        except service.EndpointNotFound:
            raise NotFound() from None

    @extend_schema(request=ModelEndpointWriteSerializer, responses=ModelEndpointSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=True)

    @extend_schema(request=ModelEndpointWriteSerializer, responses=ModelEndpointSerializer)
    def update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=False)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        try:
            service.endpoint_delete(request.user, int(pk))
        except service.EndpointNotFound:
            raise NotFound() from None
        except service.EndpointForbidden as exc:
            raise ActionForbidden(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
