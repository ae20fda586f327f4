"""Checking a definition document against this installation (catalog, prices).

The pure rules live in ``workflows.definition``; this module feeds them what
only the database knows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from workflows import catalog, registry
from workflows.definition.estimate import Estimate, estimate_definition
from workflows.definition.schema import WorkflowDefinition
from workflows.definition.secrets import (
    MisplacedSecret,
    misplaced_secrets,
    secret_inputs_of,
    secret_parameters_of,
)
from workflows.definition.validation import Issue, ValidationReport, validate_definition
from workflows.errors import DomainError
from workflows.models import Workflow


class DefinitionInvalid(DomainError):
    """The definition has errors; ``report`` lists every one of them (→ 400)."""

    code = "definition_invalid"

    def __init__(self, report: ValidationReport):
        super().__init__(f"{len(report.errors)} error(s) in the workflow definition")
        self.report = report

    @property
    def message(self) -> str:
        first = self.report.errors[0].message if self.report.errors else "It is invalid."
        return f"The workflow definition has {len(self.report.errors)} error(s). First: {first}"

    def details(self) -> dict[str, Any]:
        return {
            "errors": [issue.to_dict() for issue in self.report.errors],
            "warnings": [issue.to_dict() for issue in self.report.warnings],
        }


@dataclass(frozen=True)
class CheckedDefinition:
    definition: WorkflowDefinition
    document: dict[str, Any]
    report: ValidationReport


def definition_check(
    data: Any, *, user: Any, checks: Collection[str] | None = None
) -> ValidationReport:
    report = validate_definition(data, catalog=catalog.catalog_for_user(user), checks=checks)
    if report.definition is not None and (checks is None or "syntax_validation" in checks):
        report.errors.extend(_parameter_issues(report.definition))
        report.errors.extend(secret_issues(report.definition))
    return report


def secret_parameters() -> dict[str, frozenset[str]]:
    """``{function: its parameters that accept a secret}`` (``x-secret`` in its schema)."""
    return {
        spec["name"]: secret_parameters_of(spec.get("parameters"))
        for spec in registry.step_catalog().functions()
    }


def definition_misplaced_secrets(
    definition: WorkflowDefinition, *, also_secret: Collection[str] = ()
) -> list[MisplacedSecret]:
    """Each secret referenced anywhere but a secret-accepting parameter. The secrets
    are the inputs the schema declares secret plus ``also_secret`` (the inputs an
    execute call gives as secrets)."""
    accepting = secret_parameters()
    return misplaced_secrets(
        definition,
        secret_inputs=secret_inputs_of(definition) | set(also_secret),
        secret_parameters=lambda name: accepting.get(name, frozenset()),
    )


def secret_issues(definition: WorkflowDefinition) -> list[Issue]:
    """``definition_misplaced_secrets`` as validation errors."""
    return [
        Issue(
            severity="error",
            code="secret_misplaced",
            message=found.message,
            step=found.step,
            field=found.field,
        )
        for found in definition_misplaced_secrets(definition)
    ]


def _parameter_issues(definition: WorkflowDefinition) -> list[Issue]:
    """Function parameters checked against each function's JSON Schema, so a bad
    parameter is a 400 when the workflow is saved, not a failure when it runs."""
    steps = registry.step_catalog()
    known = steps.function_names()
    issues = []
    for index, step in enumerate(definition.steps):
        bodies = [("", step)] + [
            (f".{name}", getattr(step, name))
            for name in ("if_true", "if_false", "step")
            if getattr(step, name) is not None
        ]
        for suffix, body in bodies:
            if body.function is None or body.function not in known:
                continue
            for message in steps.function_parameter_errors(body.function, body.parameters):
                issues.append(
                    Issue(
                        severity="error",
                        code="invalid_parameters",
                        message=f"Step '{step.id}': {body.function}: {message}",
                        step=step.id,
                        field=f"steps[{index}]{suffix}.parameters",
                    )
                )
    return issues


def definition_require_valid(data: Any, *, user: Any) -> CheckedDefinition:
    """Validate fully; raise ``DefinitionInvalid`` (→ 400) unless there are no errors."""
    report = definition_check(data, user=user)
    if not report.is_valid or report.definition is None:
        raise DefinitionInvalid(report)
    document = report.definition.model_dump(mode="json", exclude_unset=True)
    return CheckedDefinition(definition=report.definition, document=document, report=report)


def definition_estimate(definition: WorkflowDefinition, *, user: Any = None) -> Estimate:
    return estimate_definition(definition, prices=catalog.model_prices(user))


def workflow_estimate(
    *, workflow: Workflow, definition: WorkflowDefinition, user: Any
) -> tuple[Estimate, str]:
    """One run of ``definition`` (``workflow``'s, or a draft of it) and the estimate's
    source: ``history`` once the engine has measured runs of it, else ``definition``."""
    found = registry.run_history().estimate(workflow=workflow, definition=definition, user=user)
    if found is None:
        return definition_estimate(definition, user=user), "definition"
    return found.estimate, found.source
