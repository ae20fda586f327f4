"""Cost and duration estimates (the method is in estimate.py's docstring)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from workflows.definition.estimate import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    DEFAULT_RESULT_TOKENS,
    ModelPrice,
    estimate_definition,
)
from workflows.definition.schema import WorkflowDefinition

PRICES = {
    "gpt-4": ModelPrice(Decimal("0.03"), Decimal("0.06")),
    "cheap": ModelPrice(Decimal("0.001"), Decimal("0.002")),
}


def definition(*steps: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate({"name": "e", "steps": list(steps)})


def infer(step_id: str, text: Any = "x" * 40, model: str = "gpt-4", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "inference", "model": model, "input": text, **extra}


# --------------------------------------------------------------------------- tokens and cost


def test_literal_text_is_four_characters_a_token_and_output_defaults():
    estimate = estimate_definition(definition(infer("a", "x" * 40)), prices=PRICES)
    step = estimate.steps["a"]
    assert (step.input_tokens, step.output_tokens) == (10, DEFAULT_OUTPUT_TOKENS)


def test_partial_tokens_round_up_and_empty_input_is_one_token():
    estimate = estimate_definition(definition(infer("a", "abcde"), infer("b", None)), prices=PRICES)
    assert estimate.steps["a"].input_tokens == 2
    assert estimate.steps["b"].input_tokens == 1


def test_references_add_their_default_token_counts():
    wf = definition(
        infer("up"),
        infer("a", "Summarize: ${up.result} for ${workflow.input.who}"),
    )
    step = estimate_definition(wf, prices=PRICES).steps["a"]
    literal = len("Summarize:  for ")
    assert step.input_tokens == (-(-literal // 4) + DEFAULT_RESULT_TOKENS + DEFAULT_INPUT_TOKENS)


def test_inputs_mapping_counts_every_value():
    wf = definition(infer("up"), {**infer("a", None), "inputs": {"x": "${up.result}", "n": 1234}})
    assert estimate_definition(wf, prices=PRICES).steps["a"].input_tokens == 1 + 500


def test_max_tokens_parameter_sets_output_tokens():
    wf = definition(
        infer("a", parameters={"max_tokens": 500}), infer("b", parameters={"max_tokens": "9"})
    )
    estimate = estimate_definition(wf, prices=PRICES)
    assert estimate.steps["a"].output_tokens == 500
    assert estimate.steps["b"].output_tokens == DEFAULT_OUTPUT_TOKENS


def test_cost_is_tokens_times_price_rounded_to_four_places():
    wf = definition(infer("a", "x" * 4000, parameters={"max_tokens": 500}))
    estimate = estimate_definition(wf, prices=PRICES)
    # 1000 input tokens x 0.03 + 500 output tokens x 0.06 per 1k
    assert estimate.cost == Decimal("0.0600")
    assert estimate.steps["a"].cost == Decimal("0.0600")
    wf = definition(infer("a", "x" * 4, model="cheap", parameters={"max_tokens": 1}))
    assert estimate_definition(wf, prices=PRICES).cost == Decimal("0.0000")


def test_unknown_models_cost_nothing_and_are_listed():
    wf = definition(infer("a", model="mystery"), infer("b", model="${workflow.input.m}"))
    estimate = estimate_definition(wf, prices=PRICES)
    assert estimate.cost == Decimal(0)
    assert estimate.unpriced_models == ["${workflow.input.m}", "mystery"]


def test_non_inference_steps_cost_nothing():
    wf = definition({"id": "p", "type": "data_processing", "function": "clean_text", "input": "x"})
    assert estimate_definition(wf, prices=PRICES).steps["p"].cost == Decimal(0)


# --------------------------------------------------------------------------- branches and loops


def test_conditional_counts_its_dearer_branch():
    cheap = {"type": "inference", "model": "cheap", "input": "x"}
    dear = {"type": "inference", "model": "gpt-4", "input": "x"}
    wf = definition(
        {"id": "c", "type": "conditional", "condition": "true", "if_true": cheap, "if_false": dear}
    )
    both_dear = definition(infer("d", "x"))
    assert (
        estimate_definition(wf, prices=PRICES).steps["c"].cost
        == estimate_definition(both_dear, prices=PRICES).steps["d"].cost
    )


def test_loop_multiplies_by_at_most_ten_iterations():
    body = {"type": "inference", "model": "gpt-4", "input": "x" * 40}
    single = estimate_definition(definition(infer("s")), prices=PRICES).steps["s"]
    wf = definition(
        {"id": "many", "type": "loop", "iterate_over": [], "step": body, "max_iterations": 100},
        {"id": "few", "type": "loop", "iterate_over": [], "step": body, "max_iterations": 3},
    )
    estimate = estimate_definition(wf, prices=PRICES)
    assert estimate.steps["many"].input_tokens == 10 * single.input_tokens
    # 10 x (10 input tokens x 0.03 + 256 output tokens x 0.06) / 1000, unrounded per call
    assert estimate.steps["many"].cost == Decimal("0.1566")
    assert estimate.steps["few"].output_tokens == 3 * single.output_tokens


def test_sequential_loop_takes_iterations_times_body_and_parallel_one_body():
    body = {"type": "inference", "model": "gpt-4", "input": "x"}
    wf = definition(
        {"id": "seq", "type": "loop", "iterate_over": [], "step": body, "max_iterations": 4},
        {"id": "par", "type": "loop", "iterate_over": [], "step": body, "parallel": True},
    )
    estimate = estimate_definition(wf, prices=PRICES)
    assert estimate.steps["seq"].duration_seconds == 4 * 8
    assert estimate.steps["par"].duration_seconds == 8


# --------------------------------------------------------------------------- duration


def test_default_durations_by_type():
    wf = definition(
        infer("i"),
        {"id": "d", "type": "data_processing", "function": "f"},
        {"id": "a", "type": "aggregation"},
        {"id": "c", "type": "data_collection", "function": "f"},
        {"id": "p", "type": "parallel_processing", "function": "f"},
    )
    steps = estimate_definition(wf, prices=PRICES).steps
    assert {k: v.duration_seconds for k, v in steps.items()} == {
        "i": 8,
        "d": 2,
        "a": 1,
        "c": 5,
        "p": 5,
    }


def test_duration_is_the_critical_path_so_parallel_branches_overlap():
    wf = definition(
        {"id": "fetch", "type": "data_collection", "function": "f"},
        infer("left", "${fetch.result}"),
        {"id": "right", "type": "data_processing", "function": "f", "input": "${fetch.result}"},
        {"id": "join", "type": "aggregation", "depends_on": ["left", "right"]},
    )
    estimate = estimate_definition(wf, prices=PRICES)
    assert estimate.duration_seconds == 5 + 8 + 1
    assert estimate.critical_path == ["fetch", "left", "join"]


def test_step_durations_from_history_override_defaults_and_round_up():
    wf = definition(infer("a"), infer("b", "${a.result}"))
    estimate = estimate_definition(wf, prices=PRICES, step_durations={"a": 0.5, "b": 2.2})
    assert estimate.steps["a"].duration_seconds == 0.5
    assert estimate.duration_seconds == 3


def test_a_cyclic_definition_still_gets_an_estimate():
    wf = definition(infer("a", "${b.result}"), infer("b", "${a.result}"))
    assert estimate_definition(wf, prices=PRICES).duration_seconds == 16


def test_scientific_paper_analysis_estimate():
    from tests.workflows.test_validation import SCIENTIFIC_PAPER_ANALYSIS

    wf = WorkflowDefinition.model_validate(SCIENTIFIC_PAPER_ANALYSIS)
    estimate = estimate_definition(wf, prices=PRICES)
    # extract (2 s) → summarize | extract_methods (8 s, overlapping) → final (1 s)
    assert estimate.duration_seconds == 11
    assert estimate.unpriced_models == ["scibert"]
    summarize = estimate.steps["summarize"]
    assert (summarize.input_tokens, summarize.output_tokens) == (6 + 500, 500)
    assert estimate.cost == Decimal("0.0452")


def test_estimate_to_dict_is_json():
    wf = definition(infer("a"))
    payload = json.loads(json.dumps(estimate_definition(wf, prices=PRICES).to_dict()))
    assert set(payload) == {"cost", "duration_seconds", "steps", "unpriced_models", "critical_path"}
    assert set(payload["steps"]["a"]) == {
        "cost",
        "duration_seconds",
        "input_tokens",
        "output_tokens",
    }
