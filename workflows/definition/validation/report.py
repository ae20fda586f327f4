"""What validation reports: issues, the report, and the names of the checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from workflows.definition.schema import WorkflowDefinition

VALIDATION_CHECKS: tuple[str, ...] = (
    "syntax_validation",
    "dependency_check",
    "resource_requirements",
    "cost_estimation",
)
#: Deeper documents are refused outright (no definition needs this many levels).
MAX_DOCUMENT_DEPTH = 64
#: A report lists at most this many issues, then says how many more there were.
MAX_ISSUES = 500

SYNTAX, DEPENDENCY, RESOURCES, STRUCTURE = (
    "syntax_validation",
    "dependency_check",
    "resource_requirements",
    "structure",
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem: how bad, a stable code, a sentence, and where."""

    severity: Severity
    code: str
    message: str
    step: str | None = None
    field: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    """The outcome: errors, warnings, and the parsed definition when structure is OK."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    definition: WorkflowDefinition | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "is_valid": self.is_valid,
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }
