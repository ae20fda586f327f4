"""The state every check shares, and how an issue is recorded."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from workflows.definition.validation.catalog import CatalogView
from workflows.definition.validation.report import MAX_ISSUES, STRUCTURE, Issue, Severity


class Checks:
    """A document being validated: what was found so far, and the checks asked for.

    The checks of each sub-domain are mixins of this class (``structure``,
    ``steps``, ``references``, ``resources``, ``parts``); ``Validator`` combines them.
    """

    def __init__(self, data: Any, catalog: CatalogView | None, checks: Collection[str]):
        self.data = data
        self.catalog = catalog
        self.checks = set(checks) | {STRUCTURE}
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.dropped = 0
        # Per step index, the top-level fields that failed structural checks; they are
        # left out so the rest of the step can still be checked.
        self.bad_fields: dict[int, set[str]] = {}
        self.ids: dict[str, int] = {}  # step id → index of its first step (parsed or not)
        self.input_names: set[str] = set()

    def add(
        self,
        check: str,
        severity: Severity,
        code: str,
        message: str,
        *,
        step: str | None = None,
        field: str = "",
    ) -> None:
        if check not in self.checks:
            return
        if len(self.errors) + len(self.warnings) >= MAX_ISSUES:
            self.dropped += 1
            return
        issue = Issue(severity, code, message, step, field)
        (self.errors if severity == "error" else self.warnings).append(issue)

    def error(self, check: str, code: str, message: str, **where: Any) -> None:
        self.add(check, "error", code, message, **where)

    def warning(self, check: str, code: str, message: str, **where: Any) -> None:
        self.add(check, "warning", code, message, **where)

    def catalog_severity(self) -> Severity:
        return "error" if self.catalog is not None and self.catalog.strict else "warning"

    @property
    def dynamic(self) -> bool:
        name = self.data.get("generator_function")
        return isinstance(name, str) and bool(name)
