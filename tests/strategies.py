"""Hypothesis strategies: random, valid workflow runs for the liveness property.

``runs()`` draws a ``GeneratedRun``: a definition of up to ``max_steps`` steps
mixing every step type (inference on mocked or built-in models, data processing,
aggregation, parallel processing, data collection, loops over inputs or over an
earlier step's list, conditionals on inputs or on an earlier step's result, and,
rarely, a composite nested in a composite), random dependencies that form a DAG
(a step depends only on earlier ones, by ``depends_on`` or by reference), a
``max_parallel_steps`` from 1 to 10, error handling (retry policies, fallback
chains, each error-handler rule) and the test run's ``mock_models`` that make
models fail (always, or their first ``fail_times`` attempts), plus a moment at
which to cancel the run, if at all.

Every definition it draws is meant to be valid as drawn (the tests assert it is):
retry delays are 0 or a hundredth of a second, fallback chains only point to
"later" models (no cycle), and the ``fail`` function's parameters follow its schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from workflows.definition.schema import ERROR_TYPES

Draw = Any  # hypothesis' ``st.DrawFn``: mypy binds its generic to the first call's type

#: The models a test run mocks, in fallback order: a model only falls back to a
#: later one, so no chain is a cycle.
MOCK_MODELS = ("m0", "m1", "m2", "m3")
OFFLINE_MODELS = ("builtin/yake-keywords", "builtin/sentiment-vader", "mock/echo")
ERROR_ACTIONS = ("use_fallback", "wait_and_retry", "skip_step", "fail_workflow")
TINY_DELAYS = (0, 0, 0.01)
# Each kind with its weight: a step that always fails is rare, or few runs would
# get past their first failure (a failure ends the run unless a rule skips it).
LEAF_WEIGHTS = {
    "mock_inference": 12,
    "offline_inference": 4,
    "clean_text": 4,
    "noop": 3,
    "chunk_text": 3,
    "fail": 1,
    "aggregation": 4,
    "parallel_processing": 3,
    "data_collection": 3,
}
LEAF_KINDS = tuple(kind for kind, weight in LEAF_WEIGHTS.items() for _ in range(weight))
# Leaves whose result is a list (a loop may iterate over it).
LIST_KINDS = frozenset({"chunk_text", "parallel_processing", "data_collection"})


@dataclass
class GeneratedRun:
    """A definition and how to run it (the body of ``POST /workflows/{id}/test``)."""

    definition: dict[str, Any]
    inputs: dict[str, Any]
    mock_models: dict[str, dict[str, Any]]
    max_parallel_steps: int
    # Cancel after this many deliveries (in process) or hundredths of a second
    # (through the worker); None: let it run.
    cancel_at: int | None = None
    shape: dict[str, int] = field(default_factory=dict)  # what it has, for ``event()``

    def test_body(self) -> dict[str, Any]:
        return {
            "test_inputs": self.inputs,
            "mock_models": self.mock_models,
            "execution_config": {"max_parallel_steps": self.max_parallel_steps},
        }


def _one_in(draw: Draw, n: int) -> bool:
    """True about once in ``n`` draws. Not ``integers(0, n - 1) == 0``: Hypothesis
    draws bounds far more often than their share, and shrinks towards them, so
    a rare feature would be common and every shrunk example would have it."""
    return draw(st.integers(min_value=1, max_value=n)) == (n + 1) // 2


def _text_with_refs(draw: Draw, earlier: list[str], *, in_loop: bool) -> str:
    """Some text, with references to earlier steps' results (data dependencies)
    and, in a loop body, to the current item."""
    parts = [draw(st.sampled_from(["Some  text", "A great day", "bad  input", "x"]))]
    if earlier:
        for ref in draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)):
            parts.append(f"${{{ref}.result}}")
    if in_loop and draw(st.booleans()):
        parts.append("${loop.current_item}")
    return " ".join(parts)


def _leaf(draw: Draw, earlier: list[str], *, in_loop: bool) -> tuple[str, dict[str, Any]]:
    """A step that a worker runs (its kind, and its fields without id)."""
    kind = draw(st.sampled_from(LEAF_KINDS))
    text = _text_with_refs(draw, earlier, in_loop=in_loop)
    if kind == "mock_inference":
        return kind, {
            "type": "inference",
            "model": draw(st.sampled_from(MOCK_MODELS)),
            "input": text,
        }
    if kind == "offline_inference":
        return kind, {
            "type": "inference",
            "model": draw(st.sampled_from(OFFLINE_MODELS)),
            "input": text,
        }
    if kind in ("clean_text", "noop"):
        return kind, {"type": "data_processing", "function": kind, "input": text}
    if kind == "chunk_text":
        size = draw(st.integers(min_value=4, max_value=12))
        return kind, {
            "type": "data_processing",
            "function": "chunk_text",
            "input": text,
            "parameters": {"size": size},
        }
    if kind == "fail":
        return kind, {
            "type": "data_processing",
            "function": "fail",
            "input": text,
            "parameters": {"error_type": draw(st.sampled_from(ERROR_TYPES))},
        }
    if kind == "aggregation":
        if earlier and draw(st.booleans()):
            names = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=3, unique=True))
            return kind, {
                "type": "aggregation",
                "function": "combine_results",
                "inputs": {name: f"${{{name}.result}}" for name in names},
            }
        return kind, {"type": "aggregation"}  # combines what it waits for
    if kind == "parallel_processing":
        items = draw(st.lists(st.sampled_from(["A  b", "c", "D e"]), max_size=4))
        return kind, {
            "type": "parallel_processing",
            "function": "clean_text",
            "input": items,
            "parallel": draw(st.booleans()),
            "parameters": {"lowercase": True},
        }
    return kind, {  # data_collection: offline, from text
        "type": "data_collection",
        "function": "chunk_text",
        "input": text,
        "parameters": {"size": draw(st.integers(min_value=4, max_value=12))},
    }


def _condition(draw: Draw, earlier: list[str], *, in_loop: bool) -> str:
    choices = ["${workflow.input.flag} == true", "${workflow.input.n} > 2"]
    if earlier:  # any result has a type (a skipped branch gives null)
        ref = draw(st.sampled_from(earlier))
        choices.append(f"type(${{{ref}.result}}) == string")
    if in_loop:
        choices.append("${loop.index} > 0")
    if _one_in(draw, 40):  # valid, but cannot be evaluated: an int compared with text
        return "${workflow.input.n} > 'a'"
    return draw(st.sampled_from(choices))


def _composite(
    draw: Draw,
    earlier: list[str],
    lists: list[str],
    *,
    kind: str,
    in_loop: bool = False,
    nested: bool = False,
) -> dict[str, Any]:
    """A loop or a conditional; its body or branches are leaves or, rarely and at
    most once deep, composites of their own (``in_loop``: inside a loop's body)."""
    body_in_loop = in_loop or kind == "loop"

    def body() -> dict[str, Any]:
        if not nested and _one_in(draw, 20):
            inner = draw(st.sampled_from(["loop", "conditional"]))
            return _composite(draw, earlier, lists, kind=inner, in_loop=body_in_loop, nested=True)
        return _leaf(draw, earlier, in_loop=body_in_loop)[1]

    if kind == "loop":
        sources: list[Any] = ["${workflow.input.items}"]
        sources.append(draw(st.lists(st.sampled_from(["p", "q  r", "s"]), max_size=4)))
        sources += [f"${{{ref}.result}}" for ref in lists]
        spec: dict[str, Any] = {
            "type": "loop",
            "iterate_over": draw(st.sampled_from(sources)),
            "parallel": draw(st.booleans()),
            "step": body(),
        }
        if _one_in(draw, 30):
            spec["max_iterations"] = 2  # more items than that fail the loop
        return spec
    branches = draw(st.sampled_from([("if_true", "if_false"), ("if_true",), ("if_false",)]))
    spec = {"type": "conditional", "condition": _condition(draw, earlier, in_loop=in_loop)}
    for branch in branches:
        spec[branch] = body()
    return spec


def _error_handling(draw: Draw, step_ids: list[str]) -> dict[str, Any] | None:
    if _one_in(draw, 5):
        return None
    handling: dict[str, Any] = {}
    retries = draw(st.sampled_from(["none", "policy", "simple"]))
    if retries == "policy":
        handling["retry_policy"] = {
            "max_retries": draw(st.integers(min_value=0, max_value=3)),
            "retry_delay_seconds": draw(st.sampled_from(TINY_DELAYS)),
            "backoff_multiplier": draw(st.sampled_from([1.0, 2.0])),
            "retry_on_errors": draw(st.lists(st.sampled_from(ERROR_TYPES), unique=True)),
        }
    elif retries == "simple":
        handling["retry_failed_steps"] = True
        handling["max_retries"] = draw(st.integers(min_value=0, max_value=3))

    def chain() -> dict[str, str]:
        mapping = {}
        for i, model in enumerate(MOCK_MODELS):
            later = [*MOCK_MODELS[i + 1 :], "mock/echo"]
            if draw(st.booleans()):
                mapping[model] = draw(st.sampled_from(later))
        return mapping

    if not _one_in(draw, 4):
        handling["fallback_models"] = chain()
    if _one_in(draw, 4):
        handling["fallback_strategy"] = {
            "enabled": draw(st.booleans()),
            "fallback_models": chain(),
        }
    rules = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        rule: dict[str, Any] = {
            "on": draw(st.sampled_from(ERROR_TYPES)),
            "action": draw(st.sampled_from(ERROR_ACTIONS)),
        }
        if rule["action"] == "use_fallback" and draw(st.booleans()):
            rule["fallback_model"] = draw(st.sampled_from([*MOCK_MODELS, "mock/echo"]))
        if rule["action"] == "wait_and_retry":
            rule["wait_seconds"] = draw(st.sampled_from(TINY_DELAYS))
            if draw(st.booleans()):
                rule["max_attempts"] = draw(st.integers(min_value=1, max_value=3))
        if _one_in(draw, 4):
            rule["steps"] = draw(st.lists(st.sampled_from(step_ids), min_size=1, unique=True))
        rules.append(rule)
    if rules:
        handling["error_handlers"] = rules
    return handling


def _mock(draw: Draw, model: str) -> dict[str, Any]:
    """A mocked model: answers, fails its first ``fail_times`` attempts, or always fails."""
    mock: dict[str, Any] = {"response": f"{model} says hello there"}
    behaviour = draw(st.sampled_from(["ok"] * 4 + ["flaky"] * 2 + ["down"] * 2))
    if behaviour != "ok":
        mock["error"] = draw(st.sampled_from(ERROR_TYPES))
    if behaviour == "flaky":
        mock["fail_times"] = draw(st.integers(min_value=1, max_value=3))
    return mock


@st.composite
def runs(draw: Draw, *, max_steps: int = 30) -> GeneratedRun:
    """A random valid definition with its inputs, mocks, parallel limit and cancel."""
    count = draw(st.integers(min_value=1, max_value=max_steps))
    step_ids = [f"s{i}" for i in range(count)]
    steps: list[dict[str, Any]] = []
    lists: list[str] = []  # earlier leaves whose result is a list
    shape = {"loops": 0, "conditionals": 0, "nested": 0}
    for i, step_id in enumerate(step_ids):
        earlier = step_ids[:i]
        what = draw(st.sampled_from(["leaf", "leaf", "leaf", "loop", "conditional"]))
        if what == "leaf":
            kind, spec = _leaf(draw, earlier, in_loop=False)
            if kind in LIST_KINDS:
                lists.append(step_id)
        else:
            spec = _composite(draw, earlier, lists, kind=what)
            shape["loops" if what == "loop" else "conditionals"] += 1
            inner = [spec.get(b) for b in ("step", "if_true", "if_false")]
            shape["nested"] += any(b and b["type"] in ("loop", "conditional") for b in inner)
        step: dict[str, Any] = {"id": step_id, **spec}
        if earlier:
            depends = draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True))
            if depends:
                step["depends_on"] = depends
        if _one_in(draw, 10):
            step["parallel_group"] = draw(st.sampled_from(["g1", "g2"]))
        steps.append(step)
    definition: dict[str, Any] = {"name": "generated", "steps": steps}
    handling = _error_handling(draw, step_ids)
    if handling is not None:
        definition["error_handling"] = handling
    cancel = _one_in(draw, 3)
    return GeneratedRun(
        definition=definition,
        inputs={
            "items": draw(st.lists(st.sampled_from(["a", "b  c", "d"]), max_size=4)),
            "flag": draw(st.booleans()),
            "n": draw(st.integers(min_value=0, max_value=5)),
        },
        mock_models={model: _mock(draw, model) for model in MOCK_MODELS},
        max_parallel_steps=draw(st.integers(min_value=1, max_value=10)),
        cancel_at=draw(st.integers(min_value=0, max_value=8)) if cancel else None,
        shape={"steps": count, **shape},
    )
