"""One registry of step handlers, keyed by step type.

Composite types (``loop``, ``conditional``) are expanded by the engine into child
step runs; only their leaves reach a handler here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from executions.steps import functions, providers
from executions.steps.base import CURRENT_EXECUTION, StepContext, StepError, StepOutput
from workflows.definition.schema import DEFAULT_AGGREGATION_FUNCTION

Handler = Callable[[StepContext], StepOutput]


def _payload(ctx: StepContext) -> Any:
    return ctx.inputs if ctx.inputs is not None else ctx.input


def run_inference(ctx: StepContext) -> StepOutput:
    if not ctx.model:
        raise StepError("invalid_input", "An inference step needs a model.")
    done = providers.complete(
        ctx.model,
        _payload(ctx),
        ctx.parameters,
        mock_models=ctx.mock_models,
        attempt=ctx.attempt,
        user_id=ctx.user_id,
    )
    return StepOutput(
        done.output, ctx.model, done.input_tokens, done.output_tokens, done.gpu_seconds
    )


def run_function(ctx: StepContext) -> StepOutput:
    name = ctx.spec.function or DEFAULT_AGGREGATION_FUNCTION
    return StepOutput(functions.call(name, _payload(ctx), ctx.parameters))


def run_parallel_processing(ctx: StepContext) -> StepOutput:
    """The function mapped over a list, on a few threads when ``parallel`` is set."""
    items = _payload(ctx)
    if not isinstance(items, list):
        raise StepError("invalid_input", "parallel_processing needs a list as its input.")
    name = ctx.spec.function or "noop"

    def one(item: Any) -> Any:
        ctx.heartbeat()
        return functions.call(name, item, ctx.parameters)

    if ctx.spec.parallel and len(items) > 1:
        context = contextvars.copy_context()  # the pool's threads see the execution too
        with ThreadPoolExecutor(max_workers=4) as pool:
            return StepOutput(list(pool.map(lambda item: context.copy().run(one, item), items)))
    return StepOutput([one(item) for item in items])


HANDLERS: dict[str, Handler] = {
    "inference": run_inference,
    "data_processing": run_function,
    "aggregation": run_function,
    "data_collection": run_function,
    "parallel_processing": run_parallel_processing,
}


def run(ctx: StepContext) -> StepOutput:
    handler = HANDLERS.get(ctx.spec.type)
    if handler is None:
        raise StepError("invalid_input", f"Steps of type '{ctx.spec.type}' cannot run directly.")
    token = CURRENT_EXECUTION.set(ctx.execution_id)
    try:
        return handler(ctx)
    finally:
        CURRENT_EXECUTION.reset(token)
