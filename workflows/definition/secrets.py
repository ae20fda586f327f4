"""Where a secret may go: only into parameters that a function marks as taking one.

A secret is a ``${secrets.NAME}`` reference, or a ``${workflow.input.NAME}`` of an
input that is secret (declared ``{"type": "secret"}`` or ``"secret": true`` in the
input schema, or given as ``{"type": "secret", "value": ...}`` when it runs).
Redacting a secret wherever it appears verbatim cannot catch a step that
transforms it (``clean_text`` lowercasing it, a regex group, a chunk of it), so a
secret may be referenced only from a parameter whose JSON Schema carries
``"x-secret": true`` (``http_get``'s ``headers``): a value sent to a service,
never a step's result. Anywhere else (an input, a condition, a model's
parameters, ``final_result``) it is a validation error naming the step and field.

Pure: the caller says which parameters of which function accept secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from workflows.definition.graph import iter_step_references
from workflows.definition.references import Reference, format_path, iter_strings, scan_text
from workflows.definition.schema import InlineStep, Step, WorkflowDefinition

#: The JSON Schema keyword that marks a function parameter as secret-accepting.
SECRET_MARK = "x-secret"


@dataclass(frozen=True)
class MisplacedSecret:
    step: str | None  # None: final_result
    field: str
    reference: str  # as written, e.g. ${secrets.API_KEY}
    name: str  # the secret's name

    @property
    def message(self) -> str:
        where = f"Step '{self.step}'" if self.step else "final_result"
        return (
            f"{where} uses the secret {self.reference} in '{self.field}', which does not "
            "accept secrets: a secret may only go into a parameter marked as taking one "
            "(such as http_get's 'headers'), never into a step's input, a condition or a result."
        )


def secret_parameters_of(schema: object) -> frozenset[str]:
    """The top-level parameters a function's parameter schema marks ``x-secret``."""
    if not isinstance(schema, dict):
        return frozenset()
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return frozenset()
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get(SECRET_MARK)
    )


def secret_inputs_of(definition: WorkflowDefinition) -> set[str]:
    """Inputs the input schema declares secret."""
    return {name for name, spec in definition.input_schema.items() if spec.secret}


def misplaced_secrets(
    definition: WorkflowDefinition,
    *,
    secret_inputs: Collection[str],
    secret_parameters: Callable[[str], Collection[str]],
) -> list[MisplacedSecret]:
    """Every reference to a secret outside a secret-accepting parameter.

    ``secret_parameters(function)`` names the parameters of ``function`` that
    accept a secret (empty for an unknown function).
    """
    secret_inputs = set(secret_inputs)
    found: list[MisplacedSecret] = []
    for index, step in enumerate(definition.steps):
        base = f"steps[{index}]"
        allowed = [
            format_path(format_path(path, "parameters"), name)
            for path, body in _bodies(step, base)
            if body.function
            for name in secret_parameters(body.function)
        ]
        for ref in iter_step_references(step, base):
            reference = ref.match.reference
            if _names_secret(reference, secret_inputs) and not _under(ref.field, allowed):
                assert reference is not None
                found.append(MisplacedSecret(step.id, ref.field, reference.raw, reference.name))
    for field, text in iter_strings(definition.final_result, "final_result"):
        for match in scan_text(text):
            if _names_secret(match.reference, secret_inputs):
                assert match.reference is not None
                found.append(
                    MisplacedSecret(None, field, match.reference.raw, match.reference.name)
                )
    return found


def _names_secret(reference: Reference | None, secret_inputs: set[str]) -> bool:
    if reference is None:
        return False
    return reference.kind == "secret" or (
        reference.kind == "workflow_input" and reference.name in secret_inputs
    )


def _bodies(step: Step | InlineStep, base: str) -> Iterator[tuple[str, Step | InlineStep]]:
    yield base, step
    for name in ("if_true", "if_false", "step"):
        body = getattr(step, name, None)
        if body is not None:
            yield from _bodies(body, format_path(base, name))


def _under(field: str, prefixes: list[str]) -> bool:
    return any(
        field == prefix or field.startswith((f"{prefix}.", f"{prefix}[")) for prefix in prefixes
    )
