"""Validating a definition document: every problem at once, in plain words.

``validate_definition(data)`` never raises on any JSON-like input. It returns a
:class:`ValidationReport` whose issues each name the step (when there is one),
the field (a path such as ``steps[2].depends_on[0]``) and say in a sentence
what is wrong.

The work is done in two passes:

1. **Structure** — the pydantic models of :mod:`~workflows.definition.schema`.
   Their errors are always reported (nothing else can be trusted without
   them), translated into readable messages.
2. **Meaning** — on every part that parsed (a step whose own structure is fine
   is checked even when another step is broken), grouped as the seed's checks:

   ``syntax_validation``
       an unknown ``generator_function`` or one with steps of its own (dynamic
       workflows), unknown step type, missing type-specific fields, ``input`` together with
       ``inputs``, malformed references, ``${template.*}`` left over, conditions
       that do not compile, fields that the step type ignores (warning),
       duplicate step ids, cyclic fallback models, input defaults of the wrong
       type.
   ``dependency_check``
       unknown or self ``depends_on``, references to unknown steps or to the
       step itself, ``${loop.*}`` outside a loop body, undeclared workflow
       inputs (only when ``input_schema`` declares some), ``final_result`` and
       error handler rules naming unknown steps, ``ui.nodes`` naming unknown
       steps (warning), and cycles (one error per cycle, with its path).
   ``resource_requirements``
       models, functions and fallback models the catalog does not know
       (warnings unless the catalog is strict) and resource requirements no
       worker queue offers (warning).
   ``cost_estimation``
       not a validation: see :mod:`workflows.definition.estimate`.

Issue codes are stable identifiers (clients may branch on them); messages may
change.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from workflows.definition.conditions import check_condition
from workflows.definition.graph import find_all_cycles, iter_step_references, referenced_steps
from workflows.definition.references import (
    ReferenceMatch,
    format_path,
    iter_strings,
    scan_text,
)
from workflows.definition.schema import (
    MAX_STEPS,
    STEP_TYPES,
    ErrorHandling,
    InlineStep,
    InputSpec,
    ResourceRequirements,
    Step,
    UiLayout,
    WorkflowDefinition,
    json_type_matches,
)

__all__ = [
    "MAX_DOCUMENT_DEPTH",
    "MAX_ISSUES",
    "VALIDATION_CHECKS",
    "Catalog",
    "CatalogView",
    "Issue",
    "QueueCapacity",
    "ValidationReport",
    "WorkerQueueSpec",
    "validate_definition",
]

logger = logging.getLogger(__name__)

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

_SYNTAX, _DEPENDENCY, _RESOURCES, _STRUCTURE = (
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


class QueueCapacity(Protocol):
    """What a worker queue offers a step routed to it."""

    @property
    def cpu_cores(self) -> float: ...
    @property
    def ram_gb(self) -> float: ...
    @property
    def gpu(self) -> bool: ...


class CatalogView(Protocol):
    """What this installation offers: models, functions and worker queues.

    An empty collection means "unknown here", and nothing is checked against it.
    """

    @property
    def models(self) -> frozenset[str]: ...
    @property
    def functions(self) -> frozenset[str]: ...
    @property
    def queues(self) -> Sequence[QueueCapacity]: ...
    @property
    def strict(self) -> bool: ...


@dataclass(frozen=True)
class WorkerQueueSpec:
    """A simple :class:`QueueCapacity`."""

    name: str
    cpu_cores: float
    ram_gb: float
    gpu: bool = False


@dataclass(frozen=True)
class Catalog:
    """A :class:`CatalogView`. The default knows nothing, so it checks nothing.

    ``generators`` (optional on other catalog views) are the generator functions a
    dynamic workflow may name; an unknown one is always an error, since nothing
    could run.
    """

    models: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    queues: Sequence[QueueCapacity] = ()
    strict: bool = False
    generators: frozenset[str] = frozenset()


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


# --------------------------------------------------------------------------- helpers

#: pydantic type errors, as what the value should have been.
_EXPECTED = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "string_type": "a string",
    "string_unicode": "valid Unicode text",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
}


def _nesting_exceeds(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return False


def _loc_path(loc: Sequence[str | int]) -> str:
    path = ""
    for key in loc:
        path = format_path(path, key)
    return path


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return names.get(type(value), f"a {type(value).__name__}")


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an inference", "a loop"."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _step_label(step_id: str | None, index: int, sub: str = "") -> str:
    label = f"Step '{step_id}'" if step_id else f"The step at steps[{index}]"
    return f"{label} ({sub})" if sub else label


# --------------------------------------------------------------------------- the validator


@dataclass
class _Parts:
    """What of a document parsed: steps by index, and each top-level part or None."""

    steps: list[tuple[int, Step]]
    error_handling: ErrorHandling | None
    input_schema: dict[str, InputSpec | None]
    final_result: dict[str, Any] | str | None
    ui: UiLayout | None
    resource_requirements: ResourceRequirements | None


class _Validator:
    def __init__(self, data: Any, catalog: CatalogView | None, checks: Collection[str]):
        self.data = data
        self.catalog = catalog
        self.checks = set(checks) | {_STRUCTURE}
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.dropped = 0
        # Per step index, the top-level fields that failed structural checks; they are
        # left out so the rest of the step can still be checked.
        self.bad_fields: dict[int, set[str]] = {}
        self.ids: dict[str, int] = {}  # step id → index of its first step (parsed or not)
        self.input_names: set[str] = set()

    # -- recording

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

    # -- entry point

    def run(self) -> ValidationReport:
        definition = None
        if not isinstance(self.data, dict):
            self.error(
                _STRUCTURE,
                "not_an_object",
                f"A workflow definition must be a JSON object, not {_type_name(self.data)}.",
            )
        elif _nesting_exceeds(self.data, MAX_DOCUMENT_DEPTH):
            self.error(
                _STRUCTURE,
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

    # -- pass 1: structure

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
                sub = _loc_path(prefix[2:])
                return _step_label(step_id, prefix[1], sub)
            return f"'{_loc_path(prefix)}'"

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
                f"{owner(owner_loc)}: the id {_short(error.get('input'))} must start with a "
                "letter or underscore and contain only letters, digits and underscores."
            )
        else:
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
                subject = _step_label(step_id, loc[1])
                if len(loc) > 2:
                    subject += f", field '{_loc_path(loc[2:])}'"
            else:
                subject = f"Field '{_loc_path(loc)}'" if loc else "The workflow"
            given = error.get("input")
            if kind in _EXPECTED:
                msg = f"must be {_EXPECTED[kind]}, not {_type_name(given)}"
                if isinstance(given, (str, int, float)) and not isinstance(given, bool):
                    msg += f" ({_short(given)})"
            elif msg.startswith(("Value error, ", "Assertion failed, ")):
                msg = msg.split(", ", 1)[1]
            else:
                msg = f"{msg[:1].lower()}{msg[1:]}"
                if "input" in error and not isinstance(given, (dict, list)):
                    msg += f" (got {_short(given)})"
            text = f"{subject}: {msg}."
        self.add(_STRUCTURE, "error", kind or "invalid", text, step=step_id, field=_loc_path(loc))

    # -- pass 2: meaning

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
                        _SYNTAX,
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

    @property
    def dynamic(self) -> bool:
        name = self.data.get("generator_function")
        return isinstance(name, str) and bool(name)

    def check_generator(self) -> None:
        """A dynamic workflow: a known generator, and no steps of its own."""
        name = self.data.get("generator_function")
        if not isinstance(name, str) or not name:
            return
        steps = self.data.get("steps")
        if isinstance(steps, list) and steps:
            self.error(
                _SYNTAX,
                "steps_with_generator",
                f"The workflow's steps are built by the generator '{name}' when it runs, "
                "so 'steps' must be empty (steps: []).",
                field="steps",
            )
        known: frozenset[str] = (
            getattr(self.catalog, "generators", frozenset()) if self.catalog else frozenset()
        )
        if known and name not in known:
            self.error(
                _SYNTAX,
                "unknown_generator",
                f"There is no generator function '{name}'{_suggest(name, known)}; "
                f"registered generators: {', '.join(sorted(known))}.",
                field="generator_function",
            )

    # -- steps

    def check_step(self, index: int, step: Step) -> None:
        base = f"steps[{index}]"
        for sub, body in _bodies(step):
            self.check_body(index, step.id, sub, body, f"{base}.{sub}" if sub else base)
        for position, target in enumerate(step.depends_on):
            where = f"{base}.depends_on[{position}]"
            if target == step.id:
                self.error(
                    _DEPENDENCY,
                    "self_dependency",
                    f"Step '{step.id}' depends on itself.",
                    step=step.id,
                    field=where,
                )
            elif target not in self.ids:
                self.error(
                    _DEPENDENCY,
                    "unknown_dependency",
                    f"Step '{step.id}' depends on '{target}', but there is no step "
                    f"'{target}'{_suggest(target, self.ids)}.",
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
        label = _step_label(step_id, index, sub)
        kind = body.type
        if kind not in STEP_TYPES:
            self.error(
                _SYNTAX,
                "unknown_step_type",
                f"{label} has unknown step type '{kind}' (expected one of "
                f"{', '.join(STEP_TYPES)}){_suggest(kind, STEP_TYPES)}.",
                step=step_id,
                field=f"{base}.type",
            )
            return

        def missing(code: str, name: str, why: str, *related: str) -> None:
            if sub == "" and self.bad_fields.get(index, set()) & {name, *related}:
                return  # already reported as a structural error
            self.error(
                _SYNTAX,
                code,
                f"{label} is {_a(kind)} step and needs {why}.",
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
                _SYNTAX,
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
                    _SYNTAX,
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
                    _SYNTAX,
                    "ignored_field",
                    f"{label} is {_a(body.type)} step, so its '{name}' is ignored "
                    f"(it applies to {owner} steps).",
                    step=step_id,
                    field=f"{base}.{name}",
                )

    def check_catalog(self, label: str, step_id: str, base: str, body: Step | InlineStep) -> None:
        if self.catalog is None:
            return
        severity = self.catalog_severity()
        model, models = body.model, self.catalog.models
        if model and "${" not in model and models and model not in models:
            self.add(
                _RESOURCES,
                severity,
                "unknown_model",
                f"{label} uses the model '{model}', which this installation does not "
                f"offer{_suggest(model, models)}.",
                step=step_id,
                field=f"{base}.model",
            )
        function, functions = body.function, self.catalog.functions
        if function and "${" not in function and functions and function not in functions:
            self.add(
                _RESOURCES,
                severity,
                "unknown_function",
                f"{label} uses the function '{function}', which this installation does not "
                f"offer{_suggest(function, functions)}.",
                step=step_id,
                field=f"{base}.function",
            )

    def check_resources(
        self,
        needs: ResourceRequirements,
        step_id: str | None,
        where: str,
        label: str = "The workflow",
    ) -> None:
        queues = list(self.catalog.queues) if self.catalog is not None else []
        if not queues:
            return
        if any(
            q.cpu_cores >= needs.cpu_cores
            and q.ram_gb >= needs.ram_gb
            and (q.gpu or not needs.gpu_required)
            for q in queues
        ):
            return
        gpu = " and a GPU" if needs.gpu_required else ""
        self.warning(
            _RESOURCES,
            "no_matching_queue",
            f"{label} asks for {needs.cpu_cores:g} CPU cores, {needs.ram_gb:g} GB RAM{gpu}, "
            "but no worker queue offers that; it would wait until one does.",
            step=step_id,
            field=where,
        )

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
                _SYNTAX,
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
                    _DEPENDENCY,
                    "self_reference",
                    f"{where} uses its own result {ref.raw}{place}.",
                    step=step_id,
                    field=field,
                )
            elif ref.name not in self.ids:
                self.error(
                    _DEPENDENCY,
                    "unknown_reference",
                    f"{where} references {ref.raw}{place}, but there is no step "
                    f"'{ref.name}'{_suggest(ref.name, self.ids)}.",
                    step=step_id,
                    field=field,
                )
        elif ref.kind == "loop" and not in_loop_body:
            self.error(
                _DEPENDENCY,
                "loop_reference_outside_loop",
                f"{where} uses {ref.raw}{place}, but it is only available inside a loop's 'step'.",
                step=step_id,
                field=field,
            )
        elif ref.kind == "template":
            self.error(
                _SYNTAX,
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
                _DEPENDENCY,
                "unknown_workflow_input",
                f"{where} uses {ref.raw}{place}, but input_schema declares no input "
                f"'{ref.name}'{_suggest(ref.name, self.input_names)}.",
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
                _DEPENDENCY,
                "cycle",
                f"Steps form a cycle: {' → '.join(cycle)} (each waits for the one before "
                "it), so none of them could ever start.",
                step=start,
                field=field,
            )

    # -- top-level parts

    def check_inputs(self, input_schema: dict[str, InputSpec | None]) -> None:
        for name, spec in input_schema.items():
            if spec is None:
                continue
            where = format_path("input_schema", str(name))
            if "default" in spec.model_fields_set and not json_type_matches(
                spec.default, spec.type
            ):
                self.error(
                    _SYNTAX,
                    "invalid_default",
                    f"Input '{name}' is of type {spec.type}, but its default "
                    f"{_short(spec.default)} is {_type_name(spec.default)}.",
                    field=f"{where}.default",
                )
            for position, option in enumerate(spec.enum or []):
                if not json_type_matches(option, spec.type):
                    self.error(
                        _SYNTAX,
                        "invalid_enum",
                        f"Input '{name}' is of type {spec.type}, but its allowed value "
                        f"{_short(option)} is {_type_name(option)}.",
                        field=f"{where}.enum[{position}]",
                    )
            if spec.enum and "default" in spec.model_fields_set and spec.default not in spec.enum:
                self.error(
                    _SYNTAX,
                    "invalid_default",
                    f"Input '{name}' has the default {_short(spec.default)}, which is not "
                    "one of its allowed values.",
                    field=f"{where}.default",
                )

    def check_error_handling(self, handling: ErrorHandling | None) -> None:
        if handling is None:
            return
        fallbacks = handling.effective_fallbacks()
        origin = (
            "error_handling.fallback_strategy.fallback_models"
            if handling.fallback_strategy is not None
            else "error_handling.fallback_models"
        )
        for cycle in _fallback_cycles(fallbacks):
            self.error(
                _SYNTAX,
                "fallback_cycle",
                f"Fallback models form a cycle: {' → '.join(cycle)}.",
                field=format_path(origin, cycle[0]),
            )
        known = self.catalog.models if self.catalog is not None else frozenset()
        severity = self.catalog_severity()
        if known:
            for primary, fallback in fallbacks.items():
                if fallback not in known:
                    self.add(
                        _RESOURCES,
                        severity,
                        "unknown_fallback_model",
                        f"The fallback for '{primary}' is '{fallback}', which this "
                        f"installation does not offer{_suggest(fallback, known)}.",
                        field=format_path(origin, primary),
                    )
        for position, rule in enumerate(handling.error_handlers):
            base = f"error_handling.error_handlers[{position}]"
            for j, target in enumerate(rule.steps or []):
                if target not in self.ids and not self.dynamic:
                    self.error(
                        _DEPENDENCY,
                        "unknown_step",
                        f"Error handler rule {position} names the step '{target}', but "
                        f"there is no such step{_suggest(target, self.ids)}.",
                        field=f"{base}.steps[{j}]",
                    )
            if rule.action == "use_fallback":
                if rule.fallback_model is None and not fallbacks:
                    self.warning(
                        _SYNTAX,
                        "no_fallback_model",
                        f"Error handler rule {position} says use_fallback, but it names no "
                        "fallback_model and the workflow has no fallback_models.",
                        field=f"{base}.fallback_model",
                    )
                elif rule.fallback_model and known and rule.fallback_model not in known:
                    self.add(
                        _RESOURCES,
                        severity,
                        "unknown_fallback_model",
                        f"Error handler rule {position} falls back to '{rule.fallback_model}', "
                        "which this installation does not offer"
                        f"{_suggest(rule.fallback_model, known)}.",
                        field=f"{base}.fallback_model",
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
                    _DEPENDENCY,
                    "unknown_ui_node",
                    f"The editor layout places '{node}', but there is no such step.",
                    field=format_path("ui.nodes", node),
                )


def _parse(model: type[BaseModel], raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _bodies(step: Step | InlineStep, sub: str = "") -> Iterator[tuple[str, Step | InlineStep]]:
    """``step`` and every inline step nested in it, with their relative paths."""
    yield sub, step
    for name in ("if_true", "if_false", "step"):
        child = getattr(step, name)
        if child is not None:
            yield from _bodies(child, format_path(sub, name))


def _fallback_cycles(mapping: dict[str, str]) -> list[list[str]]:
    """Each cycle in a model → fallback mapping, once, starting at its first key."""
    order = {model: i for i, model in enumerate(mapping)}
    seen: set[str] = set()
    cycles = []
    for start in mapping:
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in seen and current not in on_path:
            on_path[current] = len(path)
            path.append(current)
            current = mapping.get(current)
        if current is not None and current in on_path:
            loop = path[on_path[current] :]
            first = min(loop, key=lambda m: order.get(m, len(order)))
            k = loop.index(first)
            loop = loop[k:] + loop[:k]
            cycles.append([*loop, first])
        seen.update(path)
    return cycles


def validate_definition(
    data: Any,
    *,
    catalog: CatalogView | None = None,
    checks: Collection[str] | None = None,
) -> ValidationReport:
    """Validate a definition document; see the module docstring.

    ``checks`` selects among :data:`VALIDATION_CHECKS` (None: all). Structural
    errors are always reported. An unknown check name raises ``ValueError``
    (a programming error, not a problem with the document).
    """
    selected = set(VALIDATION_CHECKS if checks is None else checks)
    unknown = selected - set(VALIDATION_CHECKS)
    if unknown:
        raise ValueError(
            f"unknown validation check(s): {', '.join(sorted(unknown))} "
            f"(expected: {', '.join(VALIDATION_CHECKS)})"
        )
    validator = _Validator(data, catalog, selected)
    try:
        return validator.run()
    except (RecursionError, MemoryError):
        issue = Issue("error", "too_complex", "The definition is too large or too deep to check.")
    except Exception:  # never let a bad document become a server error
        logger.exception("validate_definition failed")
        issue = Issue(
            "error", "validation_failed", "The definition could not be checked completely."
        )
    return ValidationReport([*validator.errors, issue], validator.warnings, None)
