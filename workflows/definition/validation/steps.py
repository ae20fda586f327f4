"""Each step by its type: required and ignored fields, conditions, dependencies,
and the references and resources of the step and its inline bodies."""

from __future__ import annotations

from collections.abc import Iterator

from workflows.definition.conditions import check_condition
from workflows.definition.graph import iter_step_references
from workflows.definition.references import format_path, scan_text
from workflows.definition.schema import STEP_TYPES, InlineStep, Step
from workflows.definition.validation.references import ReferenceChecks
from workflows.definition.validation.report import DEPENDENCY, SYNTAX
from workflows.definition.validation.resources import ResourceChecks
from workflows.definition.validation.wording import step_label, suggest, with_article


class StepChecks(ReferenceChecks, ResourceChecks):
    def check_step(self, index: int, step: Step) -> None:
        base = f"steps[{index}]"
        for sub, body in _bodies(step):
            self.check_body(index, step.id, sub, body, f"{base}.{sub}" if sub else base)
        for position, target in enumerate(step.depends_on):
            where = f"{base}.depends_on[{position}]"
            if target == step.id:
                self.error(
                    DEPENDENCY,
                    "self_dependency",
                    f"Step '{step.id}' depends on itself.",
                    step=step.id,
                    field=where,
                )
            elif target not in self.ids:
                self.error(
                    DEPENDENCY,
                    "unknown_dependency",
                    f"Step '{step.id}' depends on '{target}', but there is no step "
                    f"'{target}'{suggest(target, self.ids)}.",
                    step=step.id,
                    field=where,
                )
        for found in iter_step_references(step, base):
            relative = found.field[len(base) + 1 :]
            self.check_reference(
                found.match,
                step_id=step.id,
                field=found.field,
                where=f"Step '{step.id}'",
                relative=relative,
                in_loop_body=found.in_loop_body,
            )

    def check_body(
        self, index: int, step_id: str, sub: str, body: Step | InlineStep, base: str
    ) -> None:
        label = step_label(step_id, index, sub)
        kind = body.type
        if kind not in STEP_TYPES:
            self.error(
                SYNTAX,
                "unknown_step_type",
                f"{label} has unknown step type '{kind}' (expected one of "
                f"{', '.join(STEP_TYPES)}){suggest(kind, STEP_TYPES)}.",
                step=step_id,
                field=f"{base}.type",
            )
            return

        def missing(code: str, name: str, why: str, *related: str) -> None:
            if sub == "" and self.bad_fields.get(index, set()) & {name, *related}:
                return  # already reported as a structural error
            self.error(
                SYNTAX,
                code,
                f"{label} is {with_article(kind)} step and needs {why}.",
                step=step_id,
                field=f"{base}.{name}",
            )

        if kind == "inference" and not body.model:
            missing("missing_model", "model", "a 'model'")
        if kind in ("data_processing", "parallel_processing", "data_collection") and (
            not body.function
        ):
            missing("missing_function", "function", "a 'function'")
        if kind == "conditional":
            if not body.condition:
                missing("missing_condition", "condition", "a 'condition'")
            if body.if_true is None and body.if_false is None:
                missing("missing_branch", "if_true", "'if_true', 'if_false' or both", "if_false")
        if kind == "loop":
            if body.iterate_over is None:
                missing("missing_iterate_over", "iterate_over", "'iterate_over'")
            if body.step is None:
                missing("missing_loop_body", "step", "a 'step' to run for each item")
        if body.input is not None and body.inputs is not None:
            self.error(
                SYNTAX,
                "input_and_inputs",
                f"{label} has both 'input' and 'inputs'; use one of them.",
                step=step_id,
                field=f"{base}.inputs",
            )
        self.check_ignored_fields(label, step_id, base, body)
        if kind == "conditional" and body.condition:
            has_bad_reference = any(m.error for m in scan_text(body.condition))
            problem = None if has_bad_reference else check_condition(body.condition)
            if problem:
                self.error(
                    SYNTAX,
                    "invalid_condition",
                    f"{label}: {problem}.",
                    step=step_id,
                    field=f"{base}.condition",
                )
        self.check_catalog(label, step_id, base, body)
        if body.resource_requirements is not None:
            self.check_resources(
                body.resource_requirements, step_id, f"{base}.resource_requirements", label
            )

    def check_ignored_fields(
        self, label: str, step_id: str, base: str, body: Step | InlineStep
    ) -> None:
        only_for = {
            "condition": "conditional",
            "if_true": "conditional",
            "if_false": "conditional",
            "iterate_over": "loop",
            "step": "loop",
            "max_iterations": "loop",
        }
        for name, owner in only_for.items():
            if body.type != owner and name in body.model_fields_set:
                self.warning(
                    SYNTAX,
                    "ignored_field",
                    f"{label} is {with_article(body.type)} step, so its '{name}' is ignored "
                    f"(it applies to {owner} steps).",
                    step=step_id,
                    field=f"{base}.{name}",
                )


def _bodies(step: Step | InlineStep, sub: str = "") -> Iterator[tuple[str, Step | InlineStep]]:
    """``step`` and every inline step nested in it, with their relative paths."""
    yield sub, step
    for name in ("if_true", "if_false", "step"):
        child = getattr(step, name)
        if child is not None:
            yield from _bodies(child, format_path(sub, name))
