"""Request and response shapes of the executions API (the seed's field names)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ExecutionConfigSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=["high", "normal", "low"], default="normal")
    max_parallel_steps = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    timeout = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 3600, required=False, help_text="Seconds for the whole run."
    )
    resource_allocation = serializers.ChoiceField(
        choices=["auto", "balanced", "conservative", "performance"], default="auto"
    )
    max_cost = serializers.FloatField(
        min_value=0,
        required=False,
        help_text="Stop the run (failed, error type budget_exceeded) once its cost passes this.",
    )

    def to_internal_value(self, data: Any) -> Any:
        _forbid_unknown(self, data)
        return super().to_internal_value(data)


def _forbid_unknown(serializer: serializers.Serializer, data: Any) -> None:
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError({k: ["Unknown field."] for k in unknown})


class ExecuteRequestSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)
    execution_config = ExecutionConfigSerializer(required=False)
    notification_config = serializers.DictField(required=False)
    security_config = serializers.DictField(required=False)
    resource_config = serializers.DictField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        _forbid_unknown(self, data)
        return super().to_internal_value(data)


class TestRequestSerializer(serializers.Serializer):
    test_inputs = serializers.DictField(required=False, default=dict)
    mock_models = serializers.DictField(child=serializers.DictField(), required=False, default=dict)
    execution_config = ExecutionConfigSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        _forbid_unknown(self, data)
        return super().to_internal_value(data)

    def validate_mock_models(self, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from executions.steps.base import ERROR_TYPES

        for model, mock in value.items():
            unknown = set(mock) - {"response", "latency_ms", "error", "error_message", "fail_times"}
            if unknown:
                raise serializers.ValidationError(f"{model}: unknown keys {sorted(unknown)}")
            latency = mock.get("latency_ms", 0)
            if (
                not isinstance(latency, (int, float))
                or isinstance(latency, bool)
                or not 0 <= latency <= 60000
            ):
                raise serializers.ValidationError(f"{model}: latency_ms must be 0..60000")
            if "error" in mock and mock["error"] not in ERROR_TYPES:
                raise serializers.ValidationError(
                    f"{model}: error must be one of {', '.join(ERROR_TYPES)}"
                )
        return value


class ExecuteResponseSerializer(serializers.Serializer):
    execution_id = serializers.CharField()
    workflow_id = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    current_step = serializers.CharField(allow_null=True)
    progress = serializers.FloatField()
    estimated_completion = serializers.DateTimeField(allow_null=True)


class StepErrorSerializer(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField()


class ExecutionStepSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    input = serializers.JSONField(
        allow_null=True, help_text="The step's input as resolved when it ran, secrets redacted."
    )
    result = serializers.JSONField(allow_null=True)
    cost = serializers.FloatField()
    attempts = serializers.IntegerField()
    model_used = serializers.CharField(allow_null=True)
    error = StepErrorSerializer(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    worker_host = serializers.CharField(allow_blank=True)
    iterations = serializers.DictField(required=False)
    branch = serializers.CharField(required=False)


class ResourceUsageSerializer(serializers.Serializer):
    cpu_hours = serializers.FloatField()
    ram_gb_hours = serializers.FloatField()
    gpu_hours = serializers.FloatField()


class ExecutionSummarySerializer(serializers.Serializer):
    execution_id = serializers.CharField()
    workflow_id = serializers.CharField()
    status = serializers.CharField()
    is_test = serializers.BooleanField()
    created_by = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    total_cost = serializers.FloatField()
    version = serializers.IntegerField()


class ExecutionDetailSerializer(ExecutionSummarySerializer):
    """The seed's execution response: the summary plus steps, results and usage."""

    inputs = serializers.JSONField()
    config = serializers.JSONField()
    definition = serializers.JSONField(
        help_text="The document that ran: the version's, or the steps a generator produced."
    )
    steps = ExecutionStepSerializer(many=True)
    final_result = serializers.JSONField(allow_null=True)
    resource_usage = ResourceUsageSerializer()
    error = serializers.JSONField(allow_null=True)
    resumed_from = serializers.CharField(allow_null=True)
    progress = serializers.FloatField()
    current_step = serializers.CharField(allow_null=True)
