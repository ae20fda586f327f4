"""Pass 1, structure: the pydantic models' errors in readable words, and the parts
of a document that parsed even when the whole did not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.definition.schema import (
    MAX_STEPS,
    ErrorHandling,
    InputSpec,
    ResourceRequirements,
    Step,
    UiLayout,
    WorkflowDefinition,
)
from workflows.definition.validation.base import Checks
from workflows.definition.validation.report import STRUCTURE
from workflows.definition.validation.wording import (
    EXPECTED,
    loc_path,
    short,
    step_label,
    type_name,
)


@dataclass
class _Parts:
    """What of a document parsed: steps by index, and each top-level part or None."""

    steps: list[tuple[int, Step]]
    error_handling: ErrorHandling | None
    input_schema: dict[str, InputSpec | None]
    final_result: dict[str, Any] | str | None
    ui: UiLayout | None
    resource_requirements: ResourceRequirements | None


class StructureChecks(Checks):
    def check_structure(self) -> WorkflowDefinition | None:
        try:
            return WorkflowDefinition.model_validate(self.data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                self.add_pydantic_error(error)
            return None

    def raw_step(self, index: Any) -> Any:
        steps = self.data.get("steps")
        if isinstance(steps, list) and isinstance(index, int) and 0 <= index < len(steps):
            return steps[index]
        return None

    def add_pydantic_error(self, error: Any) -> None:
        loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        msg = str(error.get("msg", "is invalid"))
        step_id = None
        owner_loc, key = loc[:-1], (loc[-1] if loc else "")
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            if len(loc) >= 3:
                self.bad_fields.setdefault(loc[1], set()).add(str(loc[2]))
            raw = self.raw_step(loc[1])
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                step_id = raw["id"]

        def owner(prefix: tuple[Any, ...]) -> str:
            if not prefix:
                return "The workflow"
            if len(prefix) >= 2 and prefix[0] == "steps" and isinstance(prefix[1], int):
                sub = loc_path(prefix[2:])
                return step_label(step_id, prefix[1], sub)
            return f"'{loc_path(prefix)}'"

        if kind == "extra_forbidden":
            text = f"{owner(owner_loc)} has an unknown field '{key}'."
            if key in ("depends_on", "parallel_group") and len(owner_loc) > 2:
                text += f" Inline steps cannot have '{key}'; put it on the enclosing step."
        elif kind == "missing":
            text = f"{owner(owner_loc)} is missing the required field '{key}'."
        elif loc == ("steps",) and kind == "too_long":
            count = len(self.data["steps"]) if isinstance(self.data.get("steps"), list) else "?"
            text = f"A workflow can have at most {MAX_STEPS} steps; this one has {count}."
        elif loc == ("steps",) and kind == "too_short":
            text = "A workflow needs at least one step."
        elif loc == ("name",) and kind == "string_too_short":
            text = "The workflow needs a name."
        elif kind == "string_pattern_mismatch" and key == "id":
            text = (
                f"{owner(owner_loc)}: the id {short(error.get('input'))} must start with a "
                "letter or underscore and contain only letters, digits and underscores."
            )
        else:
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
                subject = step_label(step_id, loc[1])
                if len(loc) > 2:
                    subject += f", field '{loc_path(loc[2:])}'"
            else:
                subject = f"Field '{loc_path(loc)}'" if loc else "The workflow"
            given = error.get("input")
            if kind in EXPECTED:
                msg = f"must be {EXPECTED[kind]}, not {type_name(given)}"
                if isinstance(given, (str, int, float)) and not isinstance(given, bool):
                    msg += f" ({short(given)})"
            elif msg.startswith(("Value error, ", "Assertion failed, ")):
                msg = msg.split(", ", 1)[1]
            else:
                msg = f"{msg[:1].lower()}{msg[1:]}"
                if "input" in error and not isinstance(given, (dict, list)):
                    msg += f" (got {short(given)})"
            text = f"{subject}: {msg}."
        self.add(STRUCTURE, "error", kind or "invalid", text, step=step_id, field=loc_path(loc))

    def parts(self, definition: WorkflowDefinition | None) -> _Parts:
        """The steps and top-level parts that parsed, even if the whole did not."""
        if definition is not None:
            return _Parts(
                steps=list(enumerate(definition.steps)),
                error_handling=definition.error_handling,
                input_schema=dict(definition.input_schema),
                final_result=definition.final_result,
                ui=definition.ui,
                resource_requirements=definition.resource_requirements,
            )
        data = self.data
        steps: list[tuple[int, Step]] = []
        raw_steps = data.get("steps")
        if isinstance(raw_steps, list):
            for index, raw in enumerate(raw_steps[:MAX_STEPS]):
                bad = self.bad_fields.get(index, set())
                if isinstance(raw, dict) and bad:
                    raw = {k: v for k, v in raw.items() if k not in bad}
                parsed = _parse(Step, raw)
                if isinstance(parsed, Step):
                    steps.append((index, parsed))
        raw_inputs = data.get("input_schema")
        inputs: dict[str, InputSpec | None] = {}
        if isinstance(raw_inputs, dict):
            for name, spec in raw_inputs.items():
                inputs[str(name)] = _parse(InputSpec, spec)
        final_result = data.get("final_result")
        return _Parts(
            steps=steps,
            error_handling=_parse(ErrorHandling, data.get("error_handling")),
            input_schema=inputs,
            final_result=final_result if isinstance(final_result, (dict, str)) else None,
            ui=_parse(UiLayout, data.get("ui")),
            resource_requirements=_parse(ResourceRequirements, data.get("resource_requirements")),
        )


def _parse(model: type[BaseModel], raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None
