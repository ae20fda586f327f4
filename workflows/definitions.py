"""Checking a definition document against this installation (catalog, prices).

The pure rules live in ``workflows.definition``; this module feeds them what
only the database knows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from workflows import catalog
from workflows.definition.estimate import Estimate, estimate_definition
from workflows.definition.schema import WorkflowDefinition
from workflows.definition.validation import Issue, ValidationReport, validate_definition


class DefinitionInvalid(Exception):
    """The definition has errors; ``report`` lists every one of them."""

    def __init__(self, report: ValidationReport):
        super().__init__(f"{len(report.errors)} error(s) in the workflow definition")
        self.report = report


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
    return report


def _parameter_issues(definition: WorkflowDefinition) -> list[Issue]:
    """Function parameters checked against each function's JSON Schema, so a bad
    parameter is a 400 when the workflow is saved, not a failure when it runs."""
    from executions.steps.functions import FUNCTIONS, validate_parameters

    issues = []
    for index, step in enumerate(definition.steps):
        bodies = [("", step)] + [
            (f".{name}", getattr(step, name))
            for name in ("if_true", "if_false", "step")
            if getattr(step, name) is not None
        ]
        for suffix, body in bodies:
            if body.function is None or body.function not in FUNCTIONS:
                continue
            for message in validate_parameters(body.function, body.parameters):
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
