"""Registered functions for data_processing, aggregation, parallel_processing and
data_collection steps. Each is a plain Python callable ``fn(input, **parameters)``
registered with a JSON Schema for its parameters, a description and the shapes of
its input and output (JSON Schema fragments, for the catalog and the docs).

A Django app or package registers more with :func:`register`::

    @register("word_count", schema={"type": "object", "properties": {}},
              input={"type": "string"}, output={"type": "integer"})
    def word_count(value): ...

Parameters are checked against the schema before every call (a mismatch is an
``invalid_input`` step error) and by :func:`validate_parameters`, which the
definition validator can use to report bad parameters when a workflow is saved.
Nothing a user types is executed as code.

The library beyond the basics here lives in :mod:`executions.steps.library`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from executions.steps.base import ERROR_TYPES, STOPWORDS, StepError

FUNCTIONS: dict[str, Callable[..., Any]] = {}

#: Parameters of a function that takes none.
NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
ANY: dict[str, Any] = {}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    fn: Callable[..., Any]
    description: str
    schema: dict[str, Any]
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)

    def validator(self) -> jsonschema.protocols.Validator:
        cls = jsonschema.validators.validator_for(
            self.schema, default=jsonschema.Draft202012Validator
        )
        return cls(self.schema)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.schema,
            "input": self.input,
            "output": self.output,
        }


SPECS: dict[str, FunctionSpec] = {}
_VALIDATORS: dict[str, Any] = {}


def _describe(fn: Callable[..., Any]) -> str:
    doc = (fn.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def register(
    name: str,
    *,
    schema: Mapping[str, Any] | None = None,
    description: str | None = None,
    input: Mapping[str, Any] | None = None,
    output: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(input, **parameters)`` as the function ``name``.

    ``schema`` is the JSON Schema of the parameters object (default: no
    parameters); it is checked to be a valid schema now. ``description``
    defaults to the first paragraph of the docstring. Registering a name again
    replaces the function.
    """
    params = dict(schema) if schema is not None else dict(NO_PARAMETERS)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        spec = FunctionSpec(
            name=name,
            fn=fn,
            description=description if description is not None else _describe(fn),
            schema=params,
            input=dict(input) if input is not None else {},
            output=dict(output) if output is not None else {},
        )
        validator = spec.validator()
        validator.check_schema(params)
        FUNCTIONS[name] = fn
        SPECS[name] = spec
        _VALIDATORS[name] = validator
        return fn

    return decorate


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def validate_parameters(name: str, parameters: Any) -> list[str]:
    """Messages for what is wrong with ``parameters`` of the function ``name``.

    An empty list means they are fine. A value that is (or contains) a ``${…}``
    reference is only known when the workflow runs, so it is not judged here.
    """
    spec = SPECS.get(name)
    if spec is None:
        if name in FUNCTIONS:  # put into FUNCTIONS directly, without a schema
            return []
        return [f"There is no function '{name}'."]
    if parameters is None:
        parameters = {}
    validator = _VALIDATORS[name]
    messages: list[str] = []
    for error in sorted(validator.iter_errors(parameters), key=lambda e: list(e.path)):
        if _is_reference(error.instance):
            continue
        where = ".".join(str(p) for p in error.path)
        messages.append(
            f"{name}: parameter {where}: {error.message}" if where else f"{name}: {error.message}"
        )
    return messages


def function_catalog() -> list[dict[str, Any]]:
    """Every registered function: name, description, parameters schema, input, output."""
    return [SPECS[name].as_dict() for name in sorted(SPECS)]


def call(name: str, value: Any, parameters: dict[str, Any]) -> Any:
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise StepError("invalid_input", f"There is no function '{name}'.")
    errors = validate_parameters(name, parameters)
    if errors:
        raise StepError("invalid_input", "; ".join(errors))
    try:
        return fn(value, **(parameters or {}))
    except TypeError as exc:
        raise StepError("invalid_input", f"{name}: {exc}") from None


TEXT = {"type": "string", "description": "Text (other values are turned into text)."}


@register(
    "clean_text",
    schema={
        "type": "object",
        "properties": {
            "remove_stopwords": {"type": "boolean", "default": False},
            "lowercase": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    },
    input=TEXT,
    output={"type": "string"},
)
def clean_text(value: Any, *, remove_stopwords: bool = False, lowercase: bool = False) -> str:
    """Whitespace collapsed; optionally lowercased and without common stopwords."""
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    if lowercase:
        text = text.lower()
    if remove_stopwords:
        text = " ".join(w for w in text.split(" ") if w.lower() not in STOPWORDS)
    return text


@register("combine_results", input=ANY, output=ANY)
def combine_results(value: Any) -> Any:
    """Inputs as they are: a dict of named results (the default aggregation)."""
    return value


@register(
    "merge_json",
    input={"type": ["object", "array"], "description": "Objects to merge, later keys win."},
    output={"type": "object"},
)
def merge_json(value: Any) -> dict[str, Any]:
    """One object from several: an object's object values, or a list's objects, merged."""
    if isinstance(value, dict):
        merged: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, dict):
                merged.update(item)
            else:
                merged[key] = item
        return merged
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict):
                out.update(item)
        return out
    raise StepError("invalid_input", "merge_json takes an object or a list of objects.")


@register(
    "chunk_text",
    schema={
        "type": "object",
        "properties": {
            "size": {"type": "integer", "minimum": 1, "default": 1000},
            "overlap": {"type": "integer", "minimum": 0, "default": 0},
        },
        "additionalProperties": False,
    },
    input=TEXT,
    output={"type": "array", "items": {"type": "string"}},
)
def chunk_text(value: Any, *, size: int = 1000, overlap: int = 0) -> list[str]:
    """The text in pieces of ``size`` characters, consecutive pieces sharing ``overlap``."""
    text = str(value or "")
    if size < 1 or overlap < 0 or overlap >= size:
        raise StepError("invalid_input", "chunk_text needs size ≥ 1 and 0 ≤ overlap < size.")
    return [text[i : i + size] for i in range(0, max(len(text), 1), size - overlap)]


@register(
    "extract_text",
    schema={
        "type": "object",
        "properties": {"field": {"type": ["string", "null"]}},
        "additionalProperties": False,
    },
    input={"description": "A string, a document object or a list of them."},
    output={"description": "The text (a list for a list)."},
)
def extract_text(value: Any, *, field: str | None = None) -> Any:
    """Text of a document: a string as is, an object's ``field`` or its common text keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in [field] if field else ["abstract", "text", "content", "summary", "title"]:
            if key and key in value:
                return value[key]
        return ""
    if isinstance(value, list):
        return [extract_text(v, field=field) for v in value]
    return str(value)


@register("noop", schema={"type": "object"}, input=ANY, output=ANY)
def noop(value: Any, **_: Any) -> Any:
    """Returns its input (benchmarks and tests use it)."""
    return value


@register(
    "sleep",
    schema={
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 3600, "default": 1}},
        "additionalProperties": False,
    },
    input=ANY,
    output=ANY,
)
def sleep(value: Any, *, seconds: float = 1.0) -> Any:
    """Waits, then returns its input (for timeouts and cancellation in tests and demos)."""
    import time

    deadline = time.monotonic() + min(float(seconds), 3600)
    while time.monotonic() < deadline:
        time.sleep(min(0.1, deadline - time.monotonic()))
    return value


@register(
    "fail",
    schema={
        "type": "object",
        "properties": {
            "error_type": {"enum": list(ERROR_TYPES), "default": "execution_error"},
            "message": {"type": "string"},
        },
        "additionalProperties": False,
    },
    input=ANY,
    output=ANY,
)
def fail(
    value: Any, *, error_type: str = "execution_error", message: str = "failed on purpose"
) -> Any:
    """Always fails with ``error_type`` (for tests and demos of error handling)."""
    raise StepError(error_type, message)


# The rest of the library registers itself on import (it imports ``register`` from here).
import executions.steps.library.documents  # noqa: E402
import executions.steps.library.text  # noqa: E402
import executions.steps.library.web  # noqa: E402, F401
