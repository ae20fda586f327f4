"""Cost and duration estimates for a workflow definition, before it runs.

Method
------

**Tokens** (inference steps only). The input of a step is its ``input`` or
``inputs``. Input tokens are the literal text (everything that is not a
reference, over all strings and values) at one token per 4 characters, rounded
up, at least 1; plus ``DEFAULT_RESULT_TOKENS`` (500) for each reference to
another step's result and ``DEFAULT_INPUT_TOKENS`` (250) for each workflow
input or loop item it reads. Output tokens are ``parameters.max_tokens`` when
that is an integer, else ``DEFAULT_OUTPUT_TOKENS`` (256).

**Cost** of an inference step is ``input_tokens / 1000 * input_per_1k +
output_tokens / 1000 * output_per_1k`` for its model. A model without a price
costs 0 and is listed in ``unpriced_models``. Other step types cost nothing
here (compute is priced from measured usage after a run). The total is rounded
to 4 decimal places.

**Duration** of a step is its average from past runs when one is given
(``step_durations``), else a default by type: inference 8 s, data_processing
2 s, aggregation 1 s, data_collection 5 s, parallel_processing 5 s.

**Branches and loops.** A conditional counts its dearer branch (by cost, then
duration); its duration is that of its longer branch. A loop counts
``LOOP_ESTIMATE_ITERATIONS`` = min(max_iterations, 10) iterations of its body:
cost and tokens are multiplied by that; the duration is multiplied too, unless
the loop runs in parallel, when it is one body's duration.

**Workflow duration** is the critical path: the longest chain of dependent
steps, so steps on parallel branches overlap. It is rounded up to whole seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from workflows.definition.graph import CycleError, critical_path, step_dependencies
from workflows.definition.references import iter_strings, tokenize
from workflows.definition.schema import InlineStep, Step, WorkflowDefinition

__all__ = [
    "DEFAULT_DURATIONS",
    "DEFAULT_INPUT_TOKENS",
    "DEFAULT_OUTPUT_TOKENS",
    "DEFAULT_RESULT_TOKENS",
    "LOOP_ESTIMATE_ITERATIONS",
    "Estimate",
    "ModelPrice",
    "StepEstimate",
    "estimate_definition",
]

DEFAULT_RESULT_TOKENS = 500
DEFAULT_INPUT_TOKENS = 250
DEFAULT_OUTPUT_TOKENS = 256
#: A loop is estimated with at most this many iterations.
LOOP_ESTIMATE_ITERATIONS = 10
DEFAULT_DURATIONS: dict[str, float] = {
    "inference": 8.0,
    "data_processing": 2.0,
    "aggregation": 1.0,
    "data_collection": 5.0,
    "parallel_processing": 5.0,
}
CHARS_PER_TOKEN = 4
_FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class ModelPrice:
    """A model's price per 1,000 tokens."""

    input_per_1k: Decimal
    output_per_1k: Decimal


@dataclass(frozen=True)
class StepEstimate:
    cost: Decimal
    duration_seconds: float
    input_tokens: int
    output_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": float(self.cost),
            "duration_seconds": self.duration_seconds,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True)
class Estimate:
    """The estimate for a whole workflow (see the module docstring for the method)."""

    cost: Decimal
    duration_seconds: int
    steps: dict[str, StepEstimate]
    unpriced_models: list[str] = field(default_factory=list)
    critical_path: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": float(self.cost),
            "duration_seconds": self.duration_seconds,
            "steps": {step_id: est.to_dict() for step_id, est in self.steps.items()},
            "unpriced_models": list(self.unpriced_models),
            "critical_path": list(self.critical_path),
        }


@dataclass
class _Partial:
    cost: Decimal = Decimal(0)
    duration: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0

    def times(self, n: int, *, duration_too: bool) -> _Partial:
        return _Partial(
            self.cost * n,
            self.duration * n if duration_too else self.duration,
            self.input_tokens * n,
            self.output_tokens * n,
        )


def _input_tokens(body: Step | InlineStep) -> int:
    source = body.inputs if body.inputs is not None else body.input
    chars = 0
    extra = 0
    stack: list[Any] = [source]
    while stack:  # non-string leaves: numbers, booleans (strings are handled below)
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and not isinstance(item, str):
            chars += len(str(item))
    for _, text in iter_strings(source):
        for token in tokenize(text):
            if isinstance(token, str):
                chars += len(token)
            elif token.reference is None:
                chars += len(token.raw)
            elif token.reference.kind == "step":
                extra += DEFAULT_RESULT_TOKENS
            elif token.reference.kind == "workflow_input" or (
                token.reference.kind == "loop" and token.reference.name == "current_item"
            ):
                extra += DEFAULT_INPUT_TOKENS
    return max(1, math.ceil(chars / CHARS_PER_TOKEN)) + extra


def _output_tokens(body: Step | InlineStep) -> int:
    value = body.parameters.get("max_tokens")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_OUTPUT_TOKENS


class _Estimator:
    def __init__(self, prices: Mapping[str, ModelPrice]):
        self.prices = prices
        self.unpriced: set[str] = set()

    def body(self, body: Step | InlineStep) -> _Partial:
        if body.type == "conditional":
            branches = [self.body(b) for b in (body.if_true, body.if_false) if b is not None]
            if not branches:
                return _Partial()
            dearest = max(branches, key=lambda b: (b.cost, b.duration))
            longest = max(b.duration for b in branches)
            return _Partial(dearest.cost, longest, dearest.input_tokens, dearest.output_tokens)
        if body.type == "loop":
            if body.step is None:
                return _Partial()
            iterations = min(body.max_iterations, LOOP_ESTIMATE_ITERATIONS)
            return self.body(body.step).times(iterations, duration_too=not body.parallel)
        duration = DEFAULT_DURATIONS.get(body.type, 0.0)
        if body.type != "inference" or not body.model:
            return _Partial(duration=duration)
        input_tokens, output_tokens = _input_tokens(body), _output_tokens(body)
        price = self.prices.get(body.model)
        if price is None:
            self.unpriced.add(body.model)
            cost = Decimal(0)
        else:
            cost = (
                Decimal(input_tokens) * price.input_per_1k
                + Decimal(output_tokens) * price.output_per_1k
            ) / 1000
        return _Partial(cost, duration, input_tokens, output_tokens)


def estimate_definition(
    definition: WorkflowDefinition,
    *,
    prices: Mapping[str, ModelPrice],
    step_durations: Mapping[str, float] | None = None,
) -> Estimate:
    """Estimate what running ``definition`` once costs and how long it takes."""
    history = step_durations or {}
    estimator = _Estimator(prices)
    steps: dict[str, StepEstimate] = {}
    total = Decimal(0)
    for step in definition.steps:
        if step.id in steps:
            continue  # a duplicate id; validation reports it
        part = estimator.body(step)
        duration = float(history.get(step.id, part.duration))
        total += part.cost
        steps[step.id] = StepEstimate(
            part.cost.quantize(_FOUR_PLACES, ROUND_HALF_UP),
            duration,
            part.input_tokens,
            part.output_tokens,
        )
    durations = {step_id: est.duration_seconds for step_id, est in steps.items()}
    try:
        length, path = critical_path(step_dependencies(definition), durations)
    except CycleError:  # an invalid definition: assume nothing overlaps
        length, path = sum(durations.values()), []
    return Estimate(
        cost=total.quantize(_FOUR_PLACES, ROUND_HALF_UP),
        duration_seconds=math.ceil(length),
        steps=steps,
        unpriced_models=sorted(estimator.unpriced),
        critical_path=path,
    )
