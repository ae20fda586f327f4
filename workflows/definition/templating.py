"""Templates: declared parameters and ``${template.NAME}`` substitution.

A template has parameters (``{name, type, default, enum, description}``) and a
body (its ``steps_template`` and any other definition parts) that uses them as
``${template.NAME}``. Instantiating it is two pure steps:

1. :func:`resolve_parameters` checks the caller's values against the
   declarations and fills in defaults, reporting every problem at once;
2. :func:`substitute` replaces the template references. A string that is
   exactly one ``${template.X}`` becomes the value itself (``150`` stays a
   number); inside longer text the value is interpolated like any reference
   (strings as they are, everything else as compact JSON). Every other
   reference (``${step.result}``, ``${workflow.input.X}``, …) and every
   ``$${`` escape is left exactly as written, for the engine.

The result is then validated like any definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workflows.definition.references import (
    ReferenceMatch,
    iter_strings,
    scan_text,
    tokenize,
    value_to_text,
)
from workflows.definition.schema import json_type_matches
from workflows.errors import DomainError

__all__ = [
    "PARAMETER_TYPES",
    "TemplateParameter",
    "TemplateParameterError",
    "find_template_parameters",
    "resolve_parameters",
    "substitute",
]

PARAMETER_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "array", "object")
ParameterType = Literal["string", "integer", "number", "boolean", "array", "object"]

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


class TemplateParameterError(DomainError, ValueError):
    """Bad template parameters; ``errors`` lists each as ``{"param", "message"}``."""

    code = "template_parameters_invalid"

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        summary = "; ".join(f"{e['param']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"Invalid template parameters — {summary}{more}")

    def details(self) -> dict[str, Any]:
        return {"errors": self.errors}


class TemplateParameter(BaseModel):
    """One declared parameter of a template.

    ``required`` defaults to True unless a default is given. A default of
    ``None`` counts as no default.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]
    type: ParameterType
    default: Any = None
    enum: list[Any] | None = Field(default=None, min_length=1)
    description: str | None = None
    required: bool = True

    @model_validator(mode="before")
    @classmethod
    def _optional_when_defaulted(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("default") is not None and "required" not in data:
            return {**data, "required": False}
        return data

    @model_validator(mode="after")
    def _values_match_type(self) -> TemplateParameter:
        expected = _TYPE_WORDS[self.type]
        if self.default is not None and not json_type_matches(self.default, self.type):
            raise ValueError(f"the default {self.default!r} is not {expected}")
        for option in self.enum or []:
            if not json_type_matches(option, self.type):
                raise ValueError(f"the allowed value {option!r} is not {expected}")
        if self.enum and self.default is not None and self.default not in self.enum:
            raise ValueError(f"the default {self.default!r} is not one of the allowed values")
        return self

    @property
    def has_default(self) -> bool:
        return self.default is not None


def resolve_parameters(specs: list[TemplateParameter], values: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every declared parameter: given, else its default.

    A value of ``None`` counts as not given. An optional parameter with no
    default and no value resolves to ``None``.
    Raises :class:`TemplateParameterError` listing all problems: unknown names,
    missing required values, wrong types (a boolean is not an integer; an
    integer is a number) and values outside ``enum``.
    """
    declared = {spec.name: spec for spec in specs}
    errors: list[dict[str, str]] = []
    for name in values:
        if name not in declared:
            known = ", ".join(declared) or "none"
            errors.append({"param": str(name), "message": f"unknown parameter (declared: {known})"})
    resolved: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in values and values[name] is not None:
            value = values[name]
        elif spec.has_default:
            resolved[name] = spec.default
            continue
        elif spec.required:
            errors.append({"param": name, "message": "a value is required"})
            continue
        else:
            resolved[name] = None
            continue
        if not json_type_matches(value, spec.type):
            errors.append(
                {"param": name, "message": f"must be {_TYPE_WORDS[spec.type]}, not {value!r}"}
            )
        elif spec.enum is not None and value not in spec.enum:
            allowed = ", ".join(repr(v) for v in spec.enum)
            errors.append({"param": name, "message": f"must be one of {allowed}, not {value!r}"})
        else:
            resolved[name] = value
    if errors:
        raise TemplateParameterError(errors)
    return resolved


def _substitute_text(text: str, values: dict[str, Any], unknown: set[str]) -> Any:
    if "${" not in text:
        return text
    tokens = list(tokenize(text, unescape=False))
    if len(tokens) == 1 and isinstance(tokens[0], ReferenceMatch):
        ref = tokens[0].reference
        if ref is not None and ref.kind == "template":
            if ref.name not in values:
                unknown.add(ref.name)
                return text
            return values[ref.name]
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            parts.append(token)
        elif token.reference is not None and token.reference.kind == "template":
            if token.reference.name in values:
                parts.append(value_to_text(values[token.reference.name]))
            else:
                unknown.add(token.reference.name)
                parts.append(token.raw)
        else:
            parts.append(text[token.start : token.end])
    return "".join(parts)


def _substitute(value: Any, values: dict[str, Any], unknown: set[str]) -> Any:
    if isinstance(value, str):
        return _substitute_text(value, values, unknown)
    if isinstance(value, dict):
        return {k: _substitute(v, values, unknown) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_substitute(v, values, unknown) for v in value]
    return value


def substitute(steps_template: Any, values: dict[str, Any]) -> Any:
    """A copy of ``steps_template`` with every ``${template.X}`` replaced.

    Raises :class:`TemplateParameterError` when a template reference names a
    parameter that ``values`` lacks (all such names at once).
    """
    unknown: set[str] = set()
    result = _substitute(steps_template, values, unknown)
    if unknown:
        raise TemplateParameterError(
            [
                {"param": name, "message": "used in the template but not declared"}
                for name in sorted(unknown)
            ]
        )
    return result


def find_template_parameters(obj: Any) -> set[str]:
    """Names of the template parameters used anywhere in ``obj``."""
    return {
        match.reference.name
        for _, text in iter_strings(obj)
        for match in scan_text(text)
        if match.reference is not None and match.reference.kind == "template"
    }
