"""The validator: structure first, then the meaning of every part that parsed."""

from __future__ import annotations

from workflows.definition.schema import WorkflowDefinition
from workflows.definition.validation.parts import PartChecks
from workflows.definition.validation.report import (
    MAX_DOCUMENT_DEPTH,
    STRUCTURE,
    SYNTAX,
    Issue,
    ValidationReport,
)
from workflows.definition.validation.steps import StepChecks
from workflows.definition.validation.structure import StructureChecks
from workflows.definition.validation.wording import nesting_exceeds, type_name


class Validator(StructureChecks, StepChecks, PartChecks):
    def run(self) -> ValidationReport:
        definition = None
        if not isinstance(self.data, dict):
            self.error(
                STRUCTURE,
                "not_an_object",
                f"A workflow definition must be a JSON object, not {type_name(self.data)}.",
            )
        elif nesting_exceeds(self.data, MAX_DOCUMENT_DEPTH):
            self.error(
                STRUCTURE,
                "too_deep",
                f"The definition is nested more than {MAX_DOCUMENT_DEPTH} levels deep.",
            )
        else:
            definition = self.check_structure()
            self.check_meaning(definition)
        if self.dropped:
            self.errors.append(
                Issue(
                    "error",
                    "too_many_issues",
                    f"{self.dropped} more problems were found but are not listed.",
                )
            )
        return ValidationReport(self.errors, self.warnings, definition)

    def check_meaning(self, definition: WorkflowDefinition | None) -> None:
        parts = self.parts(definition)
        raw_steps = self.data.get("steps")
        if isinstance(raw_steps, list):
            for index, raw in enumerate(raw_steps):
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                if not isinstance(raw_id, str):
                    continue
                if raw_id in self.ids:
                    self.error(
                        SYNTAX,
                        "duplicate_step_id",
                        f"steps[{self.ids[raw_id]}] and steps[{index}] both have the id "
                        f"'{raw_id}'; step ids must be unique.",
                        step=raw_id,
                        field=f"steps[{index}].id",
                    )
                else:
                    self.ids[raw_id] = index
        self.input_names = set(parts.input_schema)

        for index, step in parts.steps:
            self.check_step(index, step)
        self.check_cycles(parts.steps)
        self.check_inputs(parts.input_schema)
        self.check_generator()
        self.check_error_handling(parts.error_handling)
        if not self.dynamic:  # the steps it names exist only once the generator ran
            self.check_final_result(parts.final_result)
        self.check_ui(parts.ui)
        if parts.resource_requirements is not None:
            self.check_resources(parts.resource_requirements, None, "resource_requirements")
