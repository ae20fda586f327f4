"""Starting, cancelling, timing out and resuming executions."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from executions.models import EXECUTION_TERMINAL, Execution, ExecutionStatus, StepRun, StepStatus
from executions.services import advance
from executions.services.tx import Tx
from workflows.catalog import definition_models_check
from workflows.definition.schema import WorkflowDefinition, json_type_matches
from workflows.definition.validation import Issue
from workflows.definition_checks import definition_misplaced_secrets
from workflows.models import Workflow, WorkflowVersion

logger = logging.getLogger(__name__)


class InputsInvalid(Exception):
    """Inputs that do not match the workflow's input schema; ``errors`` names each."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['input']}: {e['message']}" for e in errors))
        self.errors = errors


class ExecutionFinished(Exception):
    """The execution has already ended (→ 409)."""


def inputs_check(
    definition: WorkflowDefinition, plain: dict[str, Any], secret_names: list[str]
) -> dict[str, Any]:
    """Check inputs against ``input_schema``; return them with defaults filled in.

    With no schema every input is accepted. Raises ``InputsInvalid`` listing every
    missing, unknown or wrongly typed input.
    """
    schema = definition.input_schema
    if not schema:
        return plain
    errors: list[dict[str, str]] = []
    given = set(plain) | set(secret_names)
    for name in sorted(given - set(schema)):
        errors.append(
            {
                "input": name,
                "message": "is not an input of this workflow "
                f"(expected: {', '.join(sorted(schema))})",
            }
        )
    out = dict(plain)
    for name, spec in schema.items():
        if name not in given:
            if spec.default is not None:
                out[name] = spec.default
            elif spec.required:
                errors.append({"input": name, "message": f"is required ({spec.type})"})
            continue
        if name in secret_names:
            continue
        value = plain[name]
        if not json_type_matches(value, spec.type):
            errors.append(
                {
                    "input": name,
                    "message": f"must be of type {spec.type}, not {type(value).__name__}",
                }
            )
        elif spec.enum is not None and value not in spec.enum:
            errors.append({"input": name, "message": f"must be one of {spec.enum}"})
    if errors:
        raise InputsInvalid(errors)
    return out


def definition_generate(
    *, definition: WorkflowDefinition, document: dict[str, Any], inputs: dict[str, Any], user: Any
) -> tuple[dict[str, Any], WorkflowDefinition]:
    """The document a dynamic workflow runs: its generator's steps for these inputs.

    The generated document is validated like any definition (with the user's
    catalog). Raises ``InputsInvalid`` when the generator cannot use the inputs
    (or fails), ``DefinitionInvalid`` (every problem, each saying the generator
    made it) when what it produced is not a valid workflow — both a 400 at execute.
    """
    from executions.steps.generators import GeneratorError, generate
    from workflows.definition_checks import DefinitionInvalid, definition_check

    name = definition.generator_function or ""
    try:
        generated = generate(name, inputs)
    except GeneratorError as exc:
        raise InputsInvalid(
            [{"input": exc.input, "message": f"generator '{name}': {exc.message}"}]
        ) from None
    except Exception as exc:  # a bug in the generator: a clear 400, logged for its author
        logger.exception("generator %s failed", name)
        raise InputsInvalid(
            [{"input": "", "message": f"generator '{name}' failed: {type(exc).__name__}: {exc}"}]
        ) from None
    base = {k: v for k, v in document.items() if k not in ("generator_function", "steps")}
    candidate = {**base, **generated}
    report = definition_check(candidate, user=user)
    if not report.is_valid or report.definition is None:
        report.errors = [
            Issue(
                i.severity,
                i.code,
                f"The generator '{name}' produced an invalid workflow: {i.message}",
                i.step,
                i.field,
            )
            for i in report.errors
        ]
        raise DefinitionInvalid(report)
    checked = report.definition.model_dump(mode="json", exclude_unset=True)
    return checked, report.definition


def execution_start(
    *,
    workflow: Workflow,
    user: Any,
    inputs: dict[str, Any],
    config: dict[str, Any],
    version: WorkflowVersion | None = None,
    definition: dict[str, Any] | None = None,
    notification_config: dict[str, Any] | None = None,
    security_config: dict[str, Any] | None = None,
    resource_config: dict[str, Any] | None = None,
    mock_models: dict[str, Any] | None = None,
    is_test: bool = False,
    resumed_from: Execution | None = None,
) -> Execution:
    """Create the execution and its step runs in one transaction and dispatch what is ready.

    The caller has checked execute permission and the configs. Inputs are checked
    here (``inputs_check``; uploaded files they name must be usable by ``user`` and
    are linked to the execution). A dynamic workflow's steps are generated from the
    inputs first (``definition_generate``) and the generated document is what runs.
    Raises ``InputsInvalid``, ``DefinitionInvalid``, ``StepsNotDispatchable`` or
    ``ModelsNotPermitted`` (a team's model endpoint ``user`` may not use; the worker
    resolves models for ``user`` too, ``Execution.created_by``).
    """
    from executions.security import encrypt_secrets, split_inputs

    version = version or workflow.current_version
    assert version is not None
    document = definition or version.definition
    parsed = WorkflowDefinition.model_validate(document)
    schema = {k: v.model_dump() for k, v in parsed.input_schema.items()}
    split = split_inputs(inputs, input_schema=schema)
    given = {k: v for k, v in split.plain.items() if k not in split.secret_names}
    plain = inputs_check(parsed, given, split.secret_names)
    misplaced = definition_misplaced_secrets(parsed, also_secret=split.secret_names)
    if misplaced:  # a secret that a step could transform, store and show
        raise InputsInvalid([{"input": m.name, "message": m.message} for m in misplaced])
    from executions.services.uploads import executions_link_files, files_for_inputs

    files, file_errors = files_for_inputs(user=user, inputs=plain)
    if file_errors:
        raise InputsInvalid(file_errors)
    if parsed.generator_function and definition is None:  # a resume reuses what was generated
        document, parsed = definition_generate(
            definition=parsed, document=document, inputs=plain, user=user
        )
    from executions.services.dispatch import definition_dispatch_check

    definition_dispatch_check(parsed)  # every step has a queue and a timeout we keep
    definition_models_check(parsed, user=user)  # no team's model for someone off the team
    now = timezone.now()
    timeout = config.get("timeout")
    with transaction.atomic():
        execution = Execution.objects.create(
            workflow=workflow,
            version=version,
            definition=document,
            created_by=user,
            inputs={
                **plain,
                **{n: {"type": "secret", "redacted": True} for n in split.secret_names},
            },
            secrets_encrypted=encrypt_secrets(split.secrets),
            config=config,
            notification_config=notification_config or {},
            security_config=security_config or {},
            resource_config=resource_config or {},
            mock_models=mock_models,
            is_test=is_test,
            resumed_from=resumed_from,
            status=ExecutionStatus.RUNNING,
            started_at=now,
            deadline_at=now + timedelta(seconds=timeout) if timeout else None,
        )
        if files:
            executions_link_files(execution=execution, files=files)
        tx = Tx.lock(execution.pk)
        reuse = None
        if resumed_from is not None:
            reuse = {
                r.key: r
                for r in resumed_from.step_runs.select_related("execution").filter(
                    parent__isnull=True, status=StepStatus.COMPLETED
                )
            }
        advance.runs_create(tx, reuse=reuse)
        tx.emit(
            "execution.started",
            status=ExecutionStatus.RUNNING,
            **({"resumed_from": resumed_from.public_id} if resumed_from else {}),
        )
        advance.advance(tx)
        if timeout:
            from executions.services.dispatch import schedule_execution_timeout

            tx.after_commit.append(lambda: schedule_execution_timeout(execution.pk, timeout))
        tx.flush()
    execution.refresh_from_db()
    return execution


def execution_cancel(*, execution: Execution, reason: str = "Cancelled by the user.") -> Execution:
    """Cancel a run: open steps are cancelled, queued messages revoked, nothing dispatched after."""
    with transaction.atomic():
        tx = Tx.lock(execution.pk)
        if tx.execution.status in EXECUTION_TERMINAL:
            raise ExecutionFinished(f"The execution is already {tx.execution.status}.")
        advance.execution_stop(tx, reason=reason)
        tx.flush()
    execution.refresh_from_db()
    return execution


def execution_time_out(*, execution_pk: int) -> bool:
    """End a run that passed its deadline. False if it had already ended or is not due."""
    with transaction.atomic():
        tx = Tx.lock(execution_pk)
        ex = tx.execution
        if (
            ex.status in EXECUTION_TERMINAL
            or ex.deadline_at is None
            or ex.deadline_at > timezone.now()
        ):
            return False
        seconds = ex.config.get("timeout")
        advance.execution_fail(
            tx,
            error_type="timeout",
            status=ExecutionStatus.TIMED_OUT,
            message=f"The execution ran past its {seconds} s timeout.",
        )
        tx.flush()
    return True


def execution_resume(*, execution: Execution, user: Any) -> Execution:
    """Start a new execution of the same version and inputs that reuses the results of
    the steps the failed one completed."""
    from executions.security import decrypt_secrets

    if execution.status not in (
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.CANCELLED,
    ):
        raise ExecutionFinished(
            "Only a failed, timed-out or cancelled execution can be resumed; "
            f"this one is {execution.status}."
        )
    secrets = decrypt_secrets(execution.secrets_encrypted)
    plain = {k: v for k, v in execution.inputs.items() if k not in secrets}
    inputs = {**plain, **{k: {"type": "secret", "value": v} for k, v in secrets.items()}}
    return execution_start(
        workflow=execution.workflow,
        user=user,
        inputs=inputs,
        config=execution.config,
        version=execution.version,
        definition=execution.definition,
        notification_config=execution.notification_config,
        security_config=execution.security_config,
        resource_config=execution.resource_config,
        mock_models=execution.mock_models,
        is_test=execution.is_test,
        resumed_from=execution,
    )


def execution_progress(execution: Execution) -> tuple[float, str | None]:
    """Share of top-level steps finished, and the step running (or queued) first."""
    rows = list(
        StepRun.objects.filter(execution=execution, parent__isnull=True).values_list(
            "key", "status"
        )
    )
    if not rows:
        return 0.0, None
    done = sum(
        1
        for _, s in rows
        if s in (StepStatus.COMPLETED, StepStatus.SKIPPED, StepStatus.FAILED, StepStatus.CANCELLED)
    )
    current = next((k for k, s in rows if s == StepStatus.RUNNING), None) or next(
        (
            k
            for k, s in rows
            if s in (StepStatus.QUEUED, StepStatus.READY, StepStatus.RETRYING, StepStatus.WAITING)
        ),
        None,
    )
    return round(done / len(rows), 4), current
