"""Request and response shapes of the workflows API (the seed's field names)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from workflows.definition.templating import TemplateParameter
from workflows.models import ApiToken, Template, WorkflowVersion
from workflows.permissions import Action

CHECKS = ("syntax_validation", "dependency_check", "resource_requirements", "cost_estimation")


class IssueSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning"])
    code = serializers.CharField()
    message = serializers.CharField()
    step = serializers.CharField(allow_null=True)
    field = serializers.CharField()


class WorkflowCreatedSerializer(serializers.Serializer):
    """The seed's response to ``POST /workflows``."""

    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    status = serializers.CharField()
    version = serializers.CharField(source="current_version.label")
    version_number = serializers.IntegerField(source="current_version.number")
    created_at = serializers.DateTimeField()
    step_count = serializers.IntegerField(source="current_version.step_count")
    estimated_cost = serializers.FloatField()
    estimated_duration = serializers.IntegerField(help_text="Seconds, along the critical path.")
    warnings = IssueSerializer(many=True)


class WorkflowSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(
        help_text="'created' until the first run, then the status of the latest execution."
    )
    version = serializers.CharField(source="current_version.label")
    version_number = serializers.IntegerField(source="current_version.number")
    step_count = serializers.IntegerField(source="current_version.step_count")
    tags = serializers.ListField(child=serializers.CharField())
    owner = serializers.CharField(source="owner.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WorkflowDetailSerializer(WorkflowSummarySerializer):
    definition = serializers.JSONField(source="current_version.definition")
    estimated_cost = serializers.FloatField()
    estimated_duration = serializers.IntegerField()
    estimate_source = serializers.ChoiceField(
        choices=["history", "definition"],
        help_text="'history' once real runs exist (measured step durations and costs).",
    )
    your_permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=[a.value for a in Action])
    )
    budget = serializers.JSONField(
        help_text="{monthly_budget, month_to_date_cost, resets_at}; set it with PATCH."
    )


class BudgetSerializer(serializers.Serializer):
    """``PATCH /workflows/{id}``: ``{"monthly_budget": 50.0}`` (or null to remove it)."""

    monthly_budget = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, allow_null=True
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {"monthly_budget"})
            if unknown:
                raise serializers.ValidationError(
                    {k: ["Only monthly_budget can be patched."] for k in unknown}
                )
        return super().to_internal_value(data)


class VersionSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="label")
    author = serializers.CharField(source="author.username")
    step_count = serializers.IntegerField()

    class Meta:
        model = WorkflowVersion
        fields = ["number", "version", "author", "change_note", "created_at", "step_count"]


class VersionDetailSerializer(VersionSerializer):
    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "definition"]


class ValidateRequestSerializer(serializers.Serializer):
    workflow_definition = serializers.JSONField()
    checks = serializers.ListField(
        child=serializers.ChoiceField(choices=CHECKS), required=False, allow_empty=False
    )


# Only documents the answer; inline because "is_valid" and "errors" would shadow
# the Serializer methods of those names as class attributes.
VALIDATE_RESPONSE = inline_serializer(
    name="ValidateResponse",
    fields={
        "is_valid": serializers.BooleanField(),
        "errors": IssueSerializer(many=True),
        "warnings": IssueSerializer(many=True),
        "checks": serializers.ListField(child=serializers.CharField()),
        "estimated_cost": serializers.FloatField(allow_null=True),
        "estimated_duration": serializers.IntegerField(allow_null=True),
        "cost_breakdown": serializers.DictField(allow_null=True),
        "estimate_source": serializers.CharField(allow_null=True),
    },
)


class PermissionsSerializer(serializers.Serializer):
    """``{"read": ["alice", "team:lab"], "execute": [...], "modify": [...], "delete": [...]}``."""

    read = serializers.ListField(child=serializers.CharField(max_length=160), required=False)
    execute = serializers.ListField(child=serializers.CharField(max_length=160), required=False)
    modify = serializers.ListField(child=serializers.CharField(max_length=160), required=False)
    delete = serializers.ListField(child=serializers.CharField(max_length=160), required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {a.value for a in Action})
            if unknown:
                raise serializers.ValidationError(
                    {k: ["Unknown action; use read, execute, modify or delete."] for k in unknown}
                )
        return super().to_internal_value(data)


class TemplateSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    sample_inputs = serializers.DictField(
        source="extras.sample_inputs",
        read_only=True,
        allow_null=True,
        help_text="Inputs that run the template as it is (also in its workflows' definition); "
        "null when it has none.",
    )

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "description",
            "category",
            "parameters",
            "steps_template",
            "extras",
            "sample_inputs",
            "is_public",
            "is_builtin",
            "owner",
            "created_at",
        ]
        read_only_fields = ["is_builtin", "created_at"]


class TemplateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    category = serializers.CharField(max_length=100, required=False, default="general")
    parameters = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    steps_template = serializers.ListField(child=serializers.DictField(), allow_empty=False)
    error_handling = serializers.DictField(required=False)
    resource_requirements = serializers.DictField(required=False)
    input_schema = serializers.DictField(required=False)
    final_result = serializers.JSONField(required=False)
    sample_inputs = serializers.DictField(
        required=False, help_text="Inputs that run the template as it is (declared inputs only)."
    )
    is_public = serializers.BooleanField(required=False, default=False)

    def validate_parameters(self, value: list[dict[str, Any]]) -> list[TemplateParameter]:
        from pydantic import ValidationError

        parsed, problems = [], {}
        for index, raw in enumerate(value):
            try:
                parsed.append(TemplateParameter.model_validate(raw))
            except ValidationError as exc:
                problems[str(index)] = [
                    f"{'.'.join(map(str, e['loc'])) or 'parameter'}: {e['msg']}"
                    for e in exc.errors()
                ]
        names = [p.name for p in parsed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems["names"] = [f"Duplicate parameter names: {', '.join(duplicates)}"]
        if problems:
            raise serializers.ValidationError(problems)
        return parsed


class InstantiateSerializer(serializers.Serializer):
    parameters = serializers.DictField(required=False, default=dict)
    name = serializers.CharField(max_length=200, required=False)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(help_text="Shown only once: store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
