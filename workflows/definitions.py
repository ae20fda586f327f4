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
from workflows.definition.validation import ValidationReport, validate_definition


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
    return validate_definition(data, catalog=catalog.catalog_for_user(user), checks=checks)


def definition_require_valid(data: Any, *, user: Any) -> CheckedDefinition:
    """Validate fully; raise ``DefinitionInvalid`` (→ 400) unless there are no errors."""
    report = definition_check(data, user=user)
    if not report.is_valid or report.definition is None:
        raise DefinitionInvalid(report)
    document = report.definition.model_dump(mode="json", exclude_unset=True)
    return CheckedDefinition(definition=report.definition, document=document, report=report)


def definition_estimate(definition: WorkflowDefinition, *, user: Any = None) -> Estimate:
    return estimate_definition(definition, prices=catalog.model_prices(user))
