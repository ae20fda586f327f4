"""Request and response shapes of the executions API (the seed's field names)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

ALLOCATION_STRATEGIES = ["auto", "balanced", "conservative", "performance"]


class ExecutionConfigSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=["high", "normal", "low"], default="normal")
    max_parallel_steps = serializers.IntegerField(min_value=1, max_value=1000, default=10)
    timeout = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 3600, required=False, help_text="Seconds for the whole run."
    )
    resource_allocation = serializers.ChoiceField(choices=ALLOCATION_STRATEGIES, default="auto")
    queue_timeout = serializers.IntegerField(
        min_value=1,
        max_value=7 * 24 * 3600,
        required=False,
        help_text="Seconds a step may wait queued for a worker before it fails "
        "(error type queue_timeout), unless the step sets its own.",
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


class ResourceConfigSerializer(serializers.Serializer):
    """The seed's ``resource_config``: allocation hints, recorded with the execution.

    Every field is optional; an unknown field or value is a 400 naming it.
    """

    cpu_allocation_strategy = serializers.ChoiceField(choices=ALLOCATION_STRATEGIES, required=False)
    memory_allocation_strategy = serializers.ChoiceField(
        choices=ALLOCATION_STRATEGIES, required=False
    )
    gpu_allocation_strategy = serializers.ChoiceField(
        choices=["auto", "on_demand", "always", "never"],
        required=False,
        help_text="on_demand: only steps that require a GPU get one.",
    )
    network_optimization = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        _forbid_unknown(self, data)
        return super().to_internal_value(data)


class ExecuteRequestSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)
    execution_config = ExecutionConfigSerializer(required=False)
    notification_config = serializers.DictField(required=False)
    security_config = serializers.DictField(required=False)
    resource_config = ResourceConfigSerializer(required=False)

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


class StepAttemptSerializer(serializers.Serializer):
    """One attempt of a step: a failed one from its attempts log, or the one running
    now or that succeeded."""

    attempt = serializers.IntegerField(help_text="1 for the first attempt, then 2, 3, …")
    model = serializers.CharField(allow_null=True, help_text="The model this attempt tried.")
    status = serializers.ChoiceField(
        choices=["running", "succeeded", "failed", "lost", "cancelled"],
        help_text="lost: its worker stopped responding and the step was queued again.",
    )
    error_type = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(
        allow_null=True, help_text="The error as recorded, secrets redacted."
    )
    started_at = serializers.DateTimeField(
        allow_null=True, help_text="Null for attempts recorded before start times were kept."
    )
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    wait_seconds = serializers.FloatField(
        allow_null=True,
        help_text="The wait before the next attempt (the retry backoff); 0 when the next "
        "one was queued at once (a fallback model, a lost worker); null for the last.",
    )
    next_model = serializers.CharField(
        allow_null=True, help_text="The fallback model the next attempt used, if any."
    )


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
    attempts = serializers.IntegerField(help_text="How many attempts the step has made.")
    attempt_history = StepAttemptSerializer(
        many=True, help_text="Every attempt, oldest first: model, error, timing, wait."
    )
    model_used = serializers.CharField(allow_null=True)
    error = StepErrorSerializer(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    worker_host = serializers.CharField(allow_blank=True)
    iterations = serializers.DictField(required=False)
    branch = serializers.CharField(required=False)
    waiting = serializers.JSONField(
        allow_null=True,
        help_text="Why an open step that is not running waits: {reason, message, …} "
        "(reason: dependencies, slot, queue, retry, children or stalled); null otherwise.",
    )
    empty_result = serializers.BooleanField(
        help_text="True when the step completed with an empty list, string or object."
    )
    empty_reason = serializers.CharField(
        allow_null=True,
        help_text="Why the result is empty when that can be told from the step's "
        'parameters ("0 of 12 papers kept: relevance below 0.8"), else "empty result".',
    )


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
    estimated_completion = serializers.DateTimeField(
        allow_null=True, help_text="While running, when it should end; once ended, the end."
    )
