from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from workflows.models import (
    ApiToken,
    AuditEntry,
    ModelEndpoint,
    Template,
    Workflow,
    WorkflowVersion,
)


class VersionInline(admin.TabularInline):
    model = WorkflowVersion
    fields = readonly_fields = ("number", "label", "author", "change_note", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Workflow)
class WorkflowAdmin(GuardedModelAdmin):
    list_display = ["public_id", "name", "owner", "created_at", "deleted_at"]
    search_fields = ["public_id", "name"]
    list_filter = ["deleted_at"]
    readonly_fields = ["public_id", "current_version"]
    inlines = [VersionInline]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(admin.ModelAdmin):
    list_display = ["workflow", "number", "label", "author", "created_at"]
    readonly_fields = [
        "workflow",
        "number",
        "label",
        "definition",
        "author",
        "change_note",
        "created_at",
    ]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "owner", "is_public", "is_builtin"]
    list_filter = ["category", "is_public", "is_builtin"]


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "provider",
        "base_url",
        "input_price_per_1k",
        "output_price_per_1k",
        "enabled",
        "api_key_set",
    ]
    list_filter = ["provider", "enabled"]
    readonly_fields = ["api_key_set"]

    @admin.display(boolean=True, description="API key stored")
    def api_key_set(self, endpoint: ModelEndpoint) -> bool:
        """Whether a key is stored (set on the Models page; never shown)."""
        return bool(endpoint.api_key_encrypted)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: audit entries are written by the app and never changed."""

    list_display = ["created_at", "actor_name", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_id", "workflow_public_id"]
    readonly_fields = [
        "created_at",
        "actor",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "workflow_public_id",
        "client_address",
        "summary",
    ]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
