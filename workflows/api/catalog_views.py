"""The catalog: what steps can be, run and call. The editor draws its palette from it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import catalog

# Per user (models depend on teams), so only the browser may keep it, for a minute.
CACHE_CONTROL = "private, max-age=60"


class StepTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField())
    json_schema = serializers.JSONField()


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    provider = serializers.CharField()
    description = serializers.CharField(help_text="What the model does.")
    available = serializers.BooleanField()
    unavailable_reason = serializers.CharField(
        allow_null=True, help_text="What to install or configure, when not available."
    )
    input_price_per_1k = serializers.FloatField()
    output_price_per_1k = serializers.FloatField()
    team = serializers.CharField(allow_null=True)


class FunctionSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.JSONField()
    input = serializers.JSONField()
    output = serializers.JSONField()


class GeneratorSerializer(FunctionSerializer):
    kind = serializers.ChoiceField(choices=["generator"])


class ErrorTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()


class CatalogSerializer(serializers.Serializer):
    step_types = StepTypeSerializer(many=True)
    models = ModelSerializer(many=True)
    functions = FunctionSerializer(many=True)
    generators = GeneratorSerializer(many=True)
    error_types = ErrorTypeSerializer(many=True)


def _cached(data: Any) -> Response:
    response = Response(data)
    response["Cache-Control"] = CACHE_CONTROL
    return response


class CatalogView(APIView):
    @extend_schema(responses=CatalogSerializer, description="Everything, in one call.")
    def get(self, request: Request) -> Response:
        return _cached(
            {
                "step_types": catalog.step_types(),
                "models": catalog.models_for_user(request.user),
                "functions": catalog.functions(),
                "generators": catalog.generators(),
                "error_types": catalog.error_types(),
            }
        )


class StepTypesView(APIView):
    @extend_schema(responses=StepTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _cached(catalog.step_types())


class ModelsView(APIView):
    @extend_schema(
        responses=ModelSerializer(many=True),
        description="Built-in models and the endpoints your teams may use.",
    )
    def get(self, request: Request) -> Response:
        return _cached(catalog.models_for_user(request.user))


class FunctionsView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                enum=["function", "generator"],
                description="'generator': the generator functions of dynamic workflows "
                "instead of step functions.",
            )
        ],
        responses=FunctionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind") or "function"
        if kind == "generator":
            return _cached(catalog.generators())
        if kind != "function":
            raise ValidationError({"kind": ["One of: function, generator."]})
        return _cached(catalog.functions())


class ErrorTypesView(APIView):
    @extend_schema(responses=ErrorTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _cached(catalog.error_types())
