"""References between parts: ``${...}`` references, dependency cycles, and what
``final_result`` and the editor layout name."""

from __future__ import annotations

from typing import Any

from workflows.definition.graph import find_all_cycles, referenced_steps
from workflows.definition.references import ReferenceMatch, format_path, iter_strings, scan_text
from workflows.definition.schema import Step, UiLayout
from workflows.definition.validation.base import Checks
from workflows.definition.validation.report import DEPENDENCY, SYNTAX
from workflows.definition.validation.wording import suggest


class ReferenceChecks(Checks):
    def check_reference(
        self,
        match: ReferenceMatch,
        *,
        step_id: str | None,
        field: str,
        where: str,
        relative: str,
        in_loop_body: bool,
    ) -> None:
        place = f" in '{relative}'" if relative else ""
        if match.reference is None:
            self.error(
                SYNTAX,
                "malformed_reference",
                f"{where} has a malformed reference{place}: {match.error}.",
                step=step_id,
                field=field,
            )
            return
        ref = match.reference
        if ref.kind == "step":
            if ref.name == step_id:
                self.error(
                    DEPENDENCY,
                    "self_reference",
                    f"{where} uses its own result {ref.raw}{place}.",
                    step=step_id,
                    field=field,
                )
            elif ref.name not in self.ids:
                self.error(
                    DEPENDENCY,
                    "unknown_reference",
                    f"{where} references {ref.raw}{place}, but there is no step "
                    f"'{ref.name}'{suggest(ref.name, self.ids)}.",
                    step=step_id,
                    field=field,
                )
        elif ref.kind == "loop" and not in_loop_body:
            self.error(
                DEPENDENCY,
                "loop_reference_outside_loop",
                f"{where} uses {ref.raw}{place}, but it is only available inside a loop's 'step'.",
                step=step_id,
                field=field,
            )
        elif ref.kind == "template":
            self.error(
                SYNTAX,
                "template_reference",
                f"{where} still contains {ref.raw}{place}; template parameters are only "
                "valid in templates and are replaced when a template is instantiated.",
                step=step_id,
                field=field,
            )
        elif (
            ref.kind == "workflow_input" and self.input_names and (ref.name not in self.input_names)
        ):
            self.error(
                DEPENDENCY,
                "unknown_workflow_input",
                f"{where} uses {ref.raw}{place}, but input_schema declares no input "
                f"'{ref.name}'{suggest(ref.name, self.input_names)}.",
                step=step_id,
                field=field,
            )

    def check_cycles(self, steps: list[tuple[int, Step]]) -> None:
        deps: dict[str, set[str]] = {}
        index_of: dict[str, int] = {}
        by_id: dict[str, Step] = {}
        for index, step in steps:
            if step.id in deps or self.ids.get(step.id) != index:
                continue
            deps[step.id] = (set(step.depends_on) | referenced_steps(step)) - {step.id}
            index_of[step.id] = index
            by_id[step.id] = step
        for cycle in find_all_cycles(deps):
            closing_from, start = cycle[-2], cycle[-1]
            field = f"steps[{index_of[start]}]"
            if closing_from in by_id[start].depends_on:
                position = by_id[start].depends_on.index(closing_from)
                field += f".depends_on[{position}]"
            self.error(
                DEPENDENCY,
                "cycle",
                f"Steps form a cycle: {' → '.join(cycle)} (each waits for the one before "
                "it), so none of them could ever start.",
                step=start,
                field=field,
            )

    def check_final_result(self, final_result: Any) -> None:
        if final_result is None:
            return
        for field_path, text in iter_strings(final_result, "final_result"):
            for match in scan_text(text):
                self.check_reference(
                    match,
                    step_id=None,
                    field=field_path,
                    where="final_result",
                    relative=field_path[len("final_result") + 1 :],
                    in_loop_body=False,
                )

    def check_ui(self, ui: UiLayout | None) -> None:
        if ui is None:
            return
        for node in ui.nodes:
            if node not in self.ids:
                self.warning(
                    DEPENDENCY,
                    "unknown_ui_node",
                    f"The editor layout places '{node}', but there is no such step.",
                    field=format_path("ui.nodes", node),
                )
