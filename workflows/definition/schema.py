"""The workflow definition document as pydantic models.

One schema for every way a definition arrives (API, SDK, uploaded JSON/YAML,
the editor). The models check structure and types only; rules that relate
fields to each other (an inference step needs a model, references must name
real steps, no cycles...) live in :mod:`workflows.definition.validation`, so that
every problem is reported at once and in words a person understands.

All models forbid unknown fields and are strict about types: ``"300"`` is not a
timeout and ``true`` is not a number.

``definition_json_schema()`` is what the editor receives.
"""

from __future__ import annotations

import copy
import functools
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workflows.definition.references import RESERVED_NAMES

__all__ = [
    "DEFAULT_AGGREGATION_FUNCTION",
    "ERROR_TYPES",
    "GENERATOR_NAME_PATTERN",
    "INPUT_TYPES",
    "MAX_STEPS",
    "RESERVED_STEP_IDS",
    "STEP_ID_PATTERN",
    "STEP_TYPES",
    "TRANSIENT_ERROR_TYPES",
    "ErrorHandlerRule",
    "ErrorHandling",
    "ErrorType",
    "FallbackStrategy",
    "InlineStep",
    "InputSpec",
    "ResourceRequirements",
    "RetryPolicy",
    "Step",
    "UiLayout",
    "UiNodePosition",
    "UiViewport",
    "WorkflowDefinition",
    "definition_json_schema",
    "json_type_matches",
]

STEP_TYPES: tuple[str, ...] = (
    "inference",
    "data_processing",
    "aggregation",
    "conditional",
    "loop",
    "parallel_processing",
    "data_collection",
)
ErrorType = Literal[
    "timeout",
    "rate_limit",
    "temporary_failure",
    "model_unavailable",
    "invalid_input",
    "execution_error",
]
ERROR_TYPES: tuple[str, ...] = get_args(ErrorType)
#: What a retry policy retries when it does not say.
TRANSIENT_ERROR_TYPES: tuple[ErrorType, ...] = ("timeout", "rate_limit", "temporary_failure")
MAX_STEPS = 500
#: The function an aggregation step runs when it names none.
DEFAULT_AGGREGATION_FUNCTION = "combine_results"
STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: A generator function's registered name (dynamic workflows).
GENERATOR_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
RESERVED_STEP_IDS = RESERVED_NAMES

ErrorAction = Literal["use_fallback", "wait_and_retry", "skip_step", "fail_workflow"]
InputType = Literal["string", "integer", "number", "boolean", "array", "object", "secret", "file"]
INPUT_TYPES: tuple[str, ...] = get_args(InputType)


def json_type_matches(value: Any, type_name: str) -> bool:
    """Whether ``value`` is of the JSON type ``type_name``.

    ``bool`` is not an integer or a number; an ``int`` is a number. ``secret`` and
    ``file`` values are strings (a secret's text, a file's URL or upload id).
    """
    if type_name in ("string", "secret", "file"):
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    return False


def _not_reserved(value: str) -> str:
    if value in RESERVED_STEP_IDS:
        raise ValueError(
            f"'{value}' is a reserved word and cannot be a step id "
            f"(reserved: {', '.join(sorted(RESERVED_STEP_IDS))})"
        )
    return value


StepId = Annotated[
    str,
    StringConstraints(max_length=100, pattern=STEP_ID_PATTERN),
    AfterValidator(_not_reserved),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResourceRequirements(_Model):
    """What a step (or every step) needs from the worker that runs it."""

    cpu_cores: float = Field(default=1, gt=0, le=256)
    ram_gb: float = Field(default=1, gt=0, le=4096)
    gpu_required: bool = False


def _final_result(value: Any) -> dict[str, Any] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return value
    raise ValueError(
        "final_result must be an object mapping output names to references, "
        "or a single reference string"
    )


FinalResult = Annotated[
    dict[str, Any] | str | None,
    PlainValidator(_final_result),
    WithJsonSchema(
        {
            "anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}],
            "description": "Output mapping: names to references such as ${step.result}.",
        }
    ),
]


class _StepFields(_Model):
    """Fields shared by top-level steps and inline steps (branches, loop bodies)."""

    id: StepId | None = None
    type: str = Field(
        description="One of: " + ", ".join(STEP_TYPES),
        json_schema_extra={"enum": list(STEP_TYPES)},
    )
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    timeout: int | None = Field(default=None, ge=1, le=86400, description="Seconds.")
    queue_timeout: int | None = Field(
        default=None,
        ge=1,
        le=7 * 24 * 3600,
        description="Seconds the step may wait queued for a worker before it fails "
        "(error type queue_timeout); execution_config.queue_timeout when unset.",
    )
    input: Any = None
    inputs: dict[str, Any] | None = None
    model: str | None = None
    function: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    condition: str | None = None
    if_true: InlineStep | None = None
    if_false: InlineStep | None = None
    iterate_over: Any = None
    step: InlineStep | None = None
    max_iterations: int = Field(default=100, ge=1, le=10000)
    parallel: bool = False
    resource_requirements: ResourceRequirements | None = None


class InlineStep(_StepFields):
    """A step spec nested in another step: a conditional's branch or a loop's body."""


class Step(_StepFields):
    """A top-level step of the workflow's DAG."""

    id: StepId
    depends_on: list[str] = Field(default_factory=list)
    parallel_group: str | None = None


class RetryPolicy(_Model):
    """How often and how patiently a failed step is retried."""

    max_retries: int = Field(default=0, ge=0, le=10)
    retry_delay_seconds: float = Field(default=0, ge=0, le=3600)
    backoff_multiplier: float = Field(default=1.0, ge=1, le=10)
    retry_on_errors: list[ErrorType] = Field(default_factory=lambda: list(TRANSIENT_ERROR_TYPES))


class FallbackStrategy(_Model):
    """Models to try, in order, when a step's model fails."""

    enabled: bool = True
    fallback_models: dict[str, str] = Field(default_factory=dict)


class ErrorHandlerRule(_Model):
    """On an error of type ``on`` (optionally only in ``steps``), do ``action``."""

    on: ErrorType
    action: ErrorAction
    fallback_model: str | None = None
    wait_seconds: float | None = Field(default=None, ge=0, le=3600)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    steps: list[str] | None = None


class ErrorHandling(_Model):
    """Retries, fallback models and error handler rules for the whole workflow."""

    retry_failed_steps: bool = False
    max_retries: int = Field(default=0, ge=0, le=10)
    retry_policy: RetryPolicy | None = None
    fallback_models: dict[str, str] = Field(default_factory=dict)
    fallback_strategy: FallbackStrategy | None = None
    error_handlers: list[ErrorHandlerRule] = Field(default_factory=list)

    def effective_fallbacks(self) -> dict[str, str]:
        """``fallback_models`` merged with ``fallback_strategy.fallback_models``.

        The strategy's entries win on conflict. A strategy with ``enabled: false``
        turns fallbacks off altogether (both forms), since that is what the
        switch says.
        """
        if self.fallback_strategy is not None and not self.fallback_strategy.enabled:
            return {}
        merged = dict(self.fallback_models)
        if self.fallback_strategy is not None:
            merged.update(self.fallback_strategy.fallback_models)
        return merged

    def fallback_chain(self, model: str) -> list[str]:
        """The models to try after ``model``, in order, following the mapping.

        ``{"gpt-4": "gpt-3.5", "gpt-3.5": "small"}`` gives ``["gpt-3.5", "small"]``
        for ``gpt-4``. The chain stops before a model it has already visited, so a
        cyclic mapping still yields a finite chain.
        """
        mapping = self.effective_fallbacks()
        chain: list[str] = []
        seen = {model}
        current = model
        while current in mapping and mapping[current] not in seen:
            current = mapping[current]
            seen.add(current)
            chain.append(current)
        return chain


class InputSpec(_Model):
    """One declared workflow input (``input_schema`` entry)."""

    type: InputType
    description: str | None = None
    default: Any = None
    enum: list[Any] | None = None
    items: dict[str, Any] | None = None
    required: bool = True
    secret: bool = False

    @model_validator(mode="before")
    @classmethod
    def _optional_when_defaulted(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default" in data and "required" not in data:
            return {**data, "required": False}
        return data

    @model_validator(mode="after")
    def _secret_type_is_secret(self) -> InputSpec:
        if self.type == "secret":
            self.secret = True
        return self


class UiNodePosition(_Model):
    x: float
    y: float


class UiViewport(_Model):
    x: float
    y: float
    zoom: float = Field(gt=0)


class UiLayout(_Model):
    """Editor-only layout. It never changes what runs."""

    nodes: dict[str, UiNodePosition] = Field(default_factory=dict)
    viewport: UiViewport | None = None


class WorkflowDefinition(_Model):
    """A workflow definition document (the seed's create-workflow body).

    A *dynamic* workflow names a registered ``generator_function`` and has no
    steps of its own (``steps: []``): the generator builds them from the inputs
    when the workflow is executed. Every other workflow needs at least one step.
    """

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str = ""
    version: str = "1.0"
    # Declared before ``steps``: the steps' check reads it.
    generator_function: (
        Annotated[str, StringConstraints(max_length=100, pattern=GENERATOR_NAME_PATTERN)] | None
    ) = Field(
        default=None,
        description="A registered generator that builds the steps from the inputs at run "
        "time (dynamic workflows); steps must then be empty.",
    )
    steps: list[Step] = Field(max_length=MAX_STEPS)
    error_handling: ErrorHandling | None = None
    resource_requirements: ResourceRequirements | None = None
    input_schema: dict[str, InputSpec] = Field(default_factory=dict)
    final_result: FinalResult = None
    tags: list[str] = Field(default_factory=list)
    ui: UiLayout | None = None
    sample_inputs: dict[str, Any] | None = Field(
        default=None,
        description="Example inputs that run the workflow as it is (a template's samples): "
        "offered by the Run dialog. Each names a declared input and has its type; never "
        "secrets, which a definition must not hold.",
    )

    @model_validator(mode="after")
    def _samples_fit_the_inputs(self) -> WorkflowDefinition:
        for name, value in (self.sample_inputs or {}).items():
            spec = self.input_schema.get(name)
            if spec is None:
                raise PydanticCustomError(
                    "sample_unknown",
                    "sample_inputs: '{name}' is not an input of this workflow",
                    {"name": name},
                )
            if spec.secret:
                raise PydanticCustomError(
                    "sample_secret",
                    "sample_inputs: '{name}' is a secret; a sample may not hold one",
                    {"name": name},
                )
            if not json_type_matches(value, spec.type):
                raise PydanticCustomError(
                    "sample_type",
                    "sample_inputs: '{name}' must be of type {type}",
                    {"name": name, "type": spec.type},
                )
        return self

    @field_validator("steps")
    @classmethod
    def _steps_unless_generated(cls, steps: list[Step], info: ValidationInfo) -> list[Step]:
        if not steps and not info.data.get("generator_function"):
            raise PydanticCustomError(
                "too_short",
                "List should have at least 1 item after validation, not 0",
                {"field_type": "List", "min_length": 1, "actual_length": 0},
            )
        return steps

    @property
    def is_dynamic(self) -> bool:
        """Whether a generator builds the steps at run time."""
        return bool(self.generator_function)

    def step_by_id(self, step_id: str) -> Step | None:
        """The first step with this id, or None."""
        return next((s for s in self.steps if s.id == step_id), None)


_StepFields.model_rebuild()
InlineStep.model_rebuild()
Step.model_rebuild()


@functools.cache
def _json_schema() -> dict[str, Any]:
    schema = WorkflowDefinition.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`WorkflowDefinition` (served to the editor)."""
    return copy.deepcopy(_json_schema())
