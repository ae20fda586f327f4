"""The top-level parts besides steps: the input schema, the generator of a dynamic
workflow, and error handling (fallback models, handler rules)."""

from __future__ import annotations

from workflows.definition.references import format_path
from workflows.definition.schema import ErrorHandling, InputSpec, json_type_matches
from workflows.definition.validation.report import DEPENDENCY, RESOURCES, SYNTAX
from workflows.definition.validation.resources import ResourceChecks
from workflows.definition.validation.wording import short, suggest, type_name


class PartChecks(ResourceChecks):
    def check_inputs(self, input_schema: dict[str, InputSpec | None]) -> None:
        for name, spec in input_schema.items():
            if spec is None:
                continue
            where = format_path("input_schema", str(name))
            if "default" in spec.model_fields_set and not json_type_matches(
                spec.default, spec.type
            ):
                self.error(
                    SYNTAX,
                    "invalid_default",
                    f"Input '{name}' is of type {spec.type}, but its default "
                    f"{short(spec.default)} is {type_name(spec.default)}.",
                    field=f"{where}.default",
                )
            for position, option in enumerate(spec.enum or []):
                if not json_type_matches(option, spec.type):
                    self.error(
                        SYNTAX,
                        "invalid_enum",
                        f"Input '{name}' is of type {spec.type}, but its allowed value "
                        f"{short(option)} is {type_name(option)}.",
                        field=f"{where}.enum[{position}]",
                    )
            if spec.enum and "default" in spec.model_fields_set and spec.default not in spec.enum:
                self.error(
                    SYNTAX,
                    "invalid_default",
                    f"Input '{name}' has the default {short(spec.default)}, which is not "
                    "one of its allowed values.",
                    field=f"{where}.default",
                )

    def check_generator(self) -> None:
        """A dynamic workflow: a known generator, and no steps of its own."""
        name = self.data.get("generator_function")
        if not isinstance(name, str) or not name:
            return
        steps = self.data.get("steps")
        if isinstance(steps, list) and steps:
            self.error(
                SYNTAX,
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
                SYNTAX,
                "unknown_generator",
                f"There is no generator function '{name}'{suggest(name, known)}; "
                f"registered generators: {', '.join(sorted(known))}.",
                field="generator_function",
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
                SYNTAX,
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
                        RESOURCES,
                        severity,
                        "unknown_fallback_model",
                        f"The fallback for '{primary}' is '{fallback}', which this "
                        f"installation does not offer{suggest(fallback, known)}.",
                        field=format_path(origin, primary),
                    )
        for position, rule in enumerate(handling.error_handlers):
            base = f"error_handling.error_handlers[{position}]"
            for j, target in enumerate(rule.steps or []):
                if target not in self.ids and not self.dynamic:
                    self.error(
                        DEPENDENCY,
                        "unknown_step",
                        f"Error handler rule {position} names the step '{target}', but "
                        f"there is no such step{suggest(target, self.ids)}.",
                        field=f"{base}.steps[{j}]",
                    )
            if rule.action == "use_fallback":
                if rule.fallback_model is None and not fallbacks:
                    self.warning(
                        SYNTAX,
                        "no_fallback_model",
                        f"Error handler rule {position} says use_fallback, but it names no "
                        "fallback_model and the workflow has no fallback_models.",
                        field=f"{base}.fallback_model",
                    )
                elif rule.fallback_model and known and rule.fallback_model not in known:
                    self.add(
                        RESOURCES,
                        severity,
                        "unknown_fallback_model",
                        f"Error handler rule {position} falls back to '{rule.fallback_model}', "
                        "which this installation does not offer"
                        f"{suggest(rule.fallback_model, known)}.",
                        field=f"{base}.fallback_model",
                    )


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
