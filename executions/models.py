"""Runs of workflows: the execution, one row per step (and loop iteration), and
the append-only event log that feeds live updates.

The rows are the engine's state: Celery messages only say "look at step run N".
Status changes go through ``executions.services.transitions`` and nowhere else;
the legal ones are the table in ``executions.core.states``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from executions.core.states import (  # noqa: F401 - re-exported: the models' vocabulary
    EXECUTION_TERMINAL,
    SLOT_HOLDING,
    STEP_ACTIVE,
    STEP_OPEN,
    STEP_TERMINAL,
    ExecutionStatus,
    StepStatus,
)
from workflows.ids import new_public_id
from workflows.models import Workflow, WorkflowVersion


def execution_id() -> str:
    return new_public_id("exec")


def webhook_message_id() -> str:
    return new_public_id("msg")


class Execution(models.Model):
    """One run of a pinned workflow version.

    ``definition`` is the document that runs: the version's, or the steps a
    generator produced for a dynamic workflow. Secret input values live only in
    ``secrets_encrypted`` (Fernet); ``inputs`` holds a placeholder for them.
    """

    public_id = models.CharField(max_length=40, unique=True, default=execution_id, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="executions")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="+")
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    inputs = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    notification_config = models.JSONField(default=dict, blank=True)
    security_config = models.JSONField(default=dict, blank=True)
    resource_config = models.JSONField(default=dict, blank=True)
    mock_models = models.JSONField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    resumed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resumptions"
    )

    status = models.CharField(
        max_length=20, choices=ExecutionStatus.choices(), default=ExecutionStatus.QUEUED.value
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    final_result = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    total_cost = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    cpu_seconds = models.FloatField(default=0)
    ram_gb_seconds = models.FloatField(default=0)
    gpu_seconds = models.FloatField(default=0)
    event_seq = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["workflow", "-created_at"]),
            models.Index(fields=["status", "deadline_at"]),
            # Analytics and budgets read real runs of a workflow over a time range; the
            # columns they aggregate are part of the key so PostgreSQL answers from the
            # index alone (INCLUDE would do, but SQLite warns about it).
            models.Index(
                fields=[
                    "workflow",
                    "created_at",
                    "status",
                    "started_at",
                    "completed_at",
                    "total_cost",
                ],
                condition=models.Q(is_test=False),
                name="execution_analytics_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_terminal(self) -> bool:
        return self.status in EXECUTION_TERMINAL


class StepRun(models.Model):
    """The state of one step of an execution, or one iteration of a loop step.

    ``key`` is the step id, ``"loop_id[3]"`` for an iteration, or
    ``"cond_id.if_false"`` for a conditional's branch. ``attempt`` fences
    outcomes: a worker records its result only for the attempt it claimed.
    """

    # Not indexed alone: the (execution, status) index and the (execution, key)
    # constraint serve every look-up by execution, and each index is a write per step.
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="step_runs", db_index=False
    )
    key = models.CharField(max_length=200)
    step_id = models.CharField(max_length=100)
    iteration = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    status = models.CharField(
        max_length=20, choices=StepStatus.choices(), default=StepStatus.PENDING.value
    )
    attempt = models.PositiveIntegerField(default=0)
    # A wide join's (``RunPlan.counted``) dependencies not finished yet, counted down
    # as they finish; at zero or below its dependencies are read and it is decided.
    deps_open = models.IntegerField(default=0)
    queue = models.CharField(max_length=50, default="default")
    model_used = models.CharField(max_length=200, blank=True, default="")
    loop_item = models.JSONField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_type = models.CharField(max_length=40, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    attempts_log = models.JSONField(default=list, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cpu_seconds = models.FloatField(default=0)
    memory_mb = models.FloatField(default=0)
    wall_seconds = models.FloatField(default=0)
    gpu_seconds = models.FloatField(default=0)
    worker_host = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "key"], name="unique_step_run_key")
        ]
        indexes = [
            models.Index(fields=["execution", "status"]),
            # The reaper's look-ups, each on the few rows in one state. Partial on
            # purpose: an index led by status alone tempted the planner into scanning
            # every queued row of every run for a claim by primary key.
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(status="running"),
                name="steprun_running_idx",
            ),
            models.Index(
                fields=["queued_at"], condition=models.Q(status="queued"), name="steprun_queued_idx"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="retrying"),
                name="steprun_retrying_idx",
            ),
            # The children of a composite still open: whether a loop or a branch is
            # done is a probe of this, not a count over all its children.
            models.Index(
                fields=["parent"],
                condition=~models.Q(status__in=sorted(STEP_TERMINAL)),
                name="steprun_open_children_idx",
            ),
        ]
        ordering = ["execution", "id"]

    def __str__(self) -> str:
        return f"{self.execution_id}:{self.key}"


class ExecutionEvent(models.Model):
    """One state change, numbered per execution (``seq`` 1, 2, …), never edited."""

    # Not indexed alone: the (execution, seq) constraint serves look-ups by execution.
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=50)
    step_key = models.CharField(max_length=200, blank=True, default="")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="unique_event_seq")
        ]
        ordering = ["execution", "seq"]

    def __str__(self) -> str:
        return f"{self.execution_id}#{self.seq} {self.type}"


class WebhookDelivery(models.Model):
    """One webhook notification of an execution's outcome, retried until it lands.

    ``public_id`` is the Standard Webhooks ``webhook-id``: the same for every
    attempt, so a receiver can drop duplicates.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    public_id = models.CharField(max_length=40, unique=True, default=webhook_message_id)
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="webhooks")
    event = models.CharField(max_length=50)
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.public_id} → {self.url}"


def uploaded_file_id() -> str:
    return new_public_id("file")


def _uploaded_file_path(instance: UploadedFile, filename: str) -> str:
    # The stored name is the id alone: nothing the uploader chose reaches the path.
    # ``files/`` is apart from ``uploads/`` (the directory pdf_to_text may read by path).
    return f"files/{instance.created_at:%Y/%m}/{instance.public_id}"


class UploadedFile(models.Model):
    """A file a user uploaded as a workflow input (``file_…``).

    Served to its uploader and to whoever may read an execution that used it
    (``executions``: linked when an execution starts with the id among its inputs).
    """

    public_id = models.CharField(
        max_length=40, unique=True, default=uploaded_file_id, editable=False
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=_uploaded_file_path, max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    executions = models.ManyToManyField(Execution, related_name="files", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.name})"


class QueueDeclaration(models.Model):
    """The worker queues and task routes every process of a deployment agrees on.

    One row (pk 1): the first web or worker process to start records its settings'
    view (``PRSM_WORKER_QUEUES``, ``CELERY_TASK_ROUTES``); every later one compares
    its own with it and refuses to start when they differ
    (``executions.operations.queues``). ``manage.py queues --declare`` replaces it.
    """

    declared = models.JSONField()
    recorded_by = models.CharField(max_length=255)
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"queues recorded by {self.recorded_by} at {self.recorded_at:%Y-%m-%d %H:%M}"
