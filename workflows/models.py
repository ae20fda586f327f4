"""Workflow definitions and what they are shared and priced with.

A ``Workflow`` is the named, shareable thing; each save of its definition is an
immutable ``WorkflowVersion``. Permissions are django-guardian object
permissions stored in the direct-foreign-key tables below (faster joins and a
cascade on hard delete).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from workflows import ids


class ImmutableRowError(Exception):
    """Raised when code tries to change or delete a row that is write-once."""


class WorkflowQuerySet(models.QuerySet["Workflow"]):
    def alive(self) -> WorkflowQuerySet:
        return self.filter(deleted_at__isnull=True)


class Workflow(models.Model):
    """A named DAG definition with an owner, its versions and its sharing.

    Deleting is soft (``deleted_at``) so executions keep their history.
    """

    public_id = models.CharField(
        max_length=40, unique=True, default=ids.workflow_id, editable=False
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workflows"
    )
    current_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    monthly_budget = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="New runs are refused once this calendar month's cost reaches it.",
    )

    objects = WorkflowQuerySet.as_manager()

    class Meta:
        permissions = [("execute_workflow", "Can execute workflow")]
        indexes = [models.Index(fields=["owner", "created_at"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    def published_version(self) -> WorkflowVersion:
        """The current version: a workflow is created with its first, so a live one
        always has one (``current_version`` is nullable only to break the FK cycle)."""
        if self.current_version is None:
            raise WorkflowVersion.DoesNotExist(f"The workflow {self.public_id} has no version.")
        return self.current_version


class WorkflowVersion(models.Model):
    """An immutable snapshot of a definition document.

    ``number`` counts 1, 2, … per workflow; ``label`` is the user's own
    ``version`` string (e.g. "1.0"). Executions pin the version they ran.
    """

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=50, default="1.0")
    definition = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change_note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="unique_version_number")
        ]
        ordering = ["workflow", "number"]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("A workflow version cannot be changed; save a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRowError("A workflow version cannot be deleted.")

    @property
    def step_count(self) -> int:
        return len(self.definition.get("steps", []))


class WorkflowUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Workflow, on_delete=models.CASCADE)


class WorkflowGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Workflow, on_delete=models.CASCADE)


class Template(models.Model):
    """A parametrised workflow skeleton.

    ``parameters`` is a list of ``{name, type, default, enum, description}``;
    ``${template.NAME}`` in ``steps_template`` (and ``extras``) is replaced at
    instantiation. Built-in templates have no owner and are public.
    """

    public_id = models.CharField(
        max_length=40, unique=True, default=ids.template_id, editable=False
    )
    slug = models.SlugField(max_length=100, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="general")
    parameters = models.JSONField(default=list, blank=True)
    steps_template = models.JSONField(default=list)
    extras = models.JSONField(
        default=dict,
        blank=True,
        help_text="Other definition fields: error_handling, resource_requirements, input_schema…",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="templates",
    )
    is_public = models.BooleanField(default=False)
    is_builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class ModelEndpoint(models.Model):
    """Where a model name is served and what it costs.

    The API key is either stored here, encrypted (``api_key_encrypted``: a Fernet
    token of ``executions.crypto``, written by the Models page / ``/model-endpoints``
    API and never returned), or named by ``credentials_ref``, an environment
    variable on the workers. The stored key wins when both are set.
    """

    class Provider(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible HTTP"
        BUILTIN = "builtin", "Built-in offline"
        HUGGINGFACE = "huggingface", "Hugging Face transformers"
        MOCK = "mock", "Mock"

    name = models.CharField(max_length=200, unique=True)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    base_url = models.URLField(blank=True, default="")
    remote_model = models.CharField(
        max_length=200, blank=True, default="", help_text="Model id at the provider, if different."
    )
    credentials_ref = models.CharField(max_length=200, blank=True, default="")
    api_key_encrypted = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="The API key, encrypted with PRSM_ENCRYPTION_KEYS (write-only).",
    )
    input_price_per_1k = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    output_price_per_1k = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    enabled = models.BooleanField(default=True)
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="When set, only this team's members may use the endpoint.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class ApiToken(models.Model):
    """A named API key. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="First characters, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Bulk writes are refused too: audit rows are append-only."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableRowError("Audit entries cannot be changed.")

    def delete(self) -> Any:
        raise ImmutableRowError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """Who did what to which object, when, from where (append-only).

    ``object_type``/``object_id`` name the object by its public id;
    ``workflow_public_id`` is the workflow it belongs to (itself, or an execution's
    workflow), which decides who may read the entry: the workflow's owner and
    staff. ``summary`` says what changed (e.g. the grants added and removed).
    Written only through ``workflows.audit``.
    """

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        SHARED = "shared"
        DELETED = "deleted"
        BUDGET_CHANGED = "budget_changed"
        EXECUTED = "executed"
        CANCELLED = "cancelled"
        RESULTS_READ = "results_read"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=30)
    object_id = models.CharField(max_length=40)
    workflow_public_id = models.CharField(max_length=40, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRowError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRowError("Audit entries cannot be deleted.")
