"""The pydantic models of the definition document (structure and types only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from workflows.definition.schema import (
    MAX_STEPS,
    STEP_TYPES,
    TRANSIENT_ERROR_TYPES,
    ErrorHandling,
    InputSpec,
    ResourceRequirements,
    RetryPolicy,
    Step,
    WorkflowDefinition,
    definition_json_schema,
    json_type_matches,
)


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Demo",
        "steps": [{"id": "a", "type": "inference", "model": "m", "input": "hi"}],
    }
    return {**base, **overrides}


def error_types(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        WorkflowDefinition.model_validate(data)
    return [(e["loc"], e["type"]) for e in caught.value.errors()]


def test_minimal_definition_parses_with_defaults():
    definition = WorkflowDefinition.model_validate(doc())
    assert definition.version == "1.0"
    assert definition.description == ""
    assert definition.steps[0].depends_on == []
    assert definition.steps[0].max_iterations == 100
    assert definition.input_schema == {}


def test_name_is_stripped_and_must_not_be_blank():
    assert WorkflowDefinition.model_validate(doc(name="  Demo  ")).name == "Demo"
    assert error_types(doc(name="   ")) == [(("name",), "string_too_short")]


def test_unknown_fields_are_rejected_at_every_level():
    data = doc(colour="blue")
    data["steps"] = [{**data["steps"][0], "colour": "red"}]
    assert set(error_types(data)) == {
        (("colour",), "extra_forbidden"),
        (("steps", 0, "colour"), "extra_forbidden"),
    }


def test_types_are_strict():
    data = doc()
    data["steps"] = [{**data["steps"][0], "timeout": "300", "parallel": 1}]
    assert set(error_types(data)) == {
        (("steps", 0, "timeout"), "int_type"),
        (("steps", 0, "parallel"), "bool_type"),
    }


@pytest.mark.parametrize("step_id", ["workflow", "loop", "template", "secrets", "input"])
def test_reserved_words_cannot_be_step_ids(step_id):
    data = doc(steps=[{"id": step_id, "type": "inference", "model": "m"}])
    assert error_types(data) == [(("steps", 0, "id"), "value_error")]


@pytest.mark.parametrize("step_id", ["1st", "with space", "dash-ed", "", "x" * 101])
def test_step_id_must_be_an_identifier_of_at_most_100_chars(step_id):
    data = doc(steps=[{"id": step_id, "type": "inference", "model": "m"}])
    [(loc, _)] = error_types(data)
    assert loc == ("steps", 0, "id")


@pytest.mark.parametrize("timeout", [0, 86401])
def test_timeout_is_between_one_second_and_a_day(timeout):
    data = doc(steps=[{"id": "a", "type": "inference", "model": "m", "timeout": timeout}])
    [(loc, _)] = error_types(data)
    assert loc == ("steps", 0, "timeout")


def test_unknown_step_type_passes_the_schema_for_validation_to_report():
    definition = WorkflowDefinition.model_validate(doc(steps=[{"id": "a", "type": "foo"}]))
    assert definition.steps[0].type == "foo"


def test_inline_steps_nest_and_cannot_declare_dependencies():
    body: dict[str, Any] = {
        "type": "conditional",
        "condition": "true",
        "if_true": {"type": "inference", "model": "m"},
    }
    loop: dict[str, Any] = {"id": "l", "type": "loop", "iterate_over": [1], "step": body}
    definition = WorkflowDefinition.model_validate(doc(steps=[loop]))
    assert definition.steps[0].step is not None
    assert definition.steps[0].step.if_true is not None
    assert definition.steps[0].step.if_true.model == "m"

    loop["step"] = {**body, "depends_on": ["x"]}
    assert error_types(doc(steps=[loop])) == [
        (("steps", 0, "step", "depends_on"), "extra_forbidden")
    ]


def test_step_count_is_limited():
    steps = [{"id": f"s{i}", "type": "aggregation"} for i in range(MAX_STEPS + 1)]
    assert error_types(doc(steps=steps)) == [(("steps",), "too_long")]
    assert error_types(doc(steps=[])) == [(("steps",), "too_short")]


def test_input_spec_with_a_default_is_optional_unless_it_says_otherwise():
    assert InputSpec.model_validate({"type": "string"}).required is True
    assert InputSpec.model_validate({"type": "string", "default": "x"}).required is False
    spec = InputSpec.model_validate({"type": "string", "default": "x", "required": True})
    assert spec.required is True


def test_secret_input_type_marks_the_input_secret():
    assert InputSpec.model_validate({"type": "secret"}).secret is True


def test_seed_dynamic_input_schema_parses():
    schema = {
        "documents": {"type": "array", "items": {"type": "string"}},
        "analysis_types": {"type": "array", "items": {"type": "string"}},
    }
    definition = WorkflowDefinition.model_validate(doc(input_schema=schema))
    assert definition.input_schema["documents"].items == {"type": "string"}


@pytest.mark.parametrize("final_result", [{"summary": "${a.result}"}, "${a.result}", None])
def test_final_result_is_a_mapping_or_a_reference(final_result):
    definition = WorkflowDefinition.model_validate(doc(final_result=final_result))
    assert definition.final_result == final_result


@pytest.mark.parametrize("final_result", [3, ["${a.result}"], True])
def test_final_result_of_another_type_gives_one_readable_error(final_result):
    with pytest.raises(ValidationError) as caught:
        WorkflowDefinition.model_validate(doc(final_result=final_result))
    [error] = caught.value.errors()
    assert error["loc"] == ("final_result",)
    assert "output names to references" in error["msg"]


def test_resource_requirements_have_bounds_and_defaults():
    assert ResourceRequirements().model_dump() == {
        "cpu_cores": 1,
        "ram_gb": 1,
        "gpu_required": False,
    }
    with pytest.raises(ValidationError):
        ResourceRequirements(cpu_cores=0)
    with pytest.raises(ValidationError):
        ResourceRequirements(ram_gb=5000)


def test_retry_policy_retries_transient_errors_by_default():
    assert RetryPolicy().retry_on_errors == list(TRANSIENT_ERROR_TYPES)


def test_error_handler_rule_needs_a_known_error_type_and_action():
    data = doc(error_handling={"error_handlers": [{"on": "oops", "action": "explode"}]})
    assert set(error_types(data)) == {
        (("error_handling", "error_handlers", 0, "on"), "literal_error"),
        (("error_handling", "error_handlers", 0, "action"), "literal_error"),
    }


def test_effective_fallbacks_merge_both_forms_with_the_strategy_winning():
    handling = ErrorHandling.model_validate(
        {
            "fallback_models": {"gpt-4": "gpt-3.5-turbo", "scibert": "bert-base-uncased"},
            "fallback_strategy": {"fallback_models": {"gpt-4": "claude-3-sonnet"}},
        }
    )
    assert handling.effective_fallbacks() == {
        "gpt-4": "claude-3-sonnet",
        "scibert": "bert-base-uncased",
    }


def test_disabled_fallback_strategy_turns_fallbacks_off():
    handling = ErrorHandling.model_validate(
        {"fallback_models": {"a": "b"}, "fallback_strategy": {"enabled": False}}
    )
    assert handling.effective_fallbacks() == {}
    assert handling.fallback_chain("a") == []


def test_fallback_chain_follows_the_mapping_in_order():
    handling = ErrorHandling(fallback_models={"gpt-4": "gpt-3.5", "gpt-3.5": "small"})
    assert handling.fallback_chain("gpt-4") == ["gpt-3.5", "small"]
    assert handling.fallback_chain("small") == []


def test_fallback_chain_stops_at_a_repeat():
    handling = ErrorHandling(fallback_models={"a": "b", "b": "c", "c": "a"})
    assert handling.fallback_chain("a") == ["b", "c"]
    assert handling.fallback_chain("b") == ["c", "a"]


def test_ui_layout_holds_positions_and_viewport():
    ui = {"nodes": {"a": {"x": 10, "y": 20.5}}, "viewport": {"x": 0, "y": 0, "zoom": 1.5}}
    definition = WorkflowDefinition.model_validate(doc(ui=ui))
    assert definition.ui is not None
    assert definition.ui.nodes["a"].y == 20.5
    assert error_types(doc(ui={"nodes": {"a": {"x": 1}}})) == [
        (("ui", "nodes", "a", "y"), "missing")
    ]


def test_dump_with_exclude_unset_round_trips():
    data = doc(
        input_schema={"text": {"type": "string", "default": "x"}},
        error_handling={"retry_policy": {"max_retries": 2}},
        final_result={"out": "${a.result}"},
    )
    definition = WorkflowDefinition.model_validate(data)
    dumped = definition.model_dump(mode="json", exclude_unset=True)
    assert WorkflowDefinition.model_validate(json.loads(json.dumps(dumped))) == definition


def test_step_by_id_returns_the_step():
    definition = WorkflowDefinition.model_validate(doc())
    assert definition.step_by_id("a") is definition.steps[0]
    assert definition.step_by_id("zz") is None


def test_json_schema_lists_step_types_and_is_serializable():
    schema = definition_json_schema()
    json.dumps(schema)
    step = schema["$defs"]["Step"]
    assert step["properties"]["type"]["enum"] == list(STEP_TYPES)
    assert step["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "steps"}


def test_json_schema_is_a_fresh_copy_each_time():
    definition_json_schema()["properties"].clear()
    assert definition_json_schema()["properties"]


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        (1, "integer", True),
        (True, "integer", False),
        (1.5, "integer", False),
        (1, "number", True),
        (False, "number", False),
        ("x", "string", True),
        ("x", "secret", True),
        ([], "array", True),
        ({}, "object", True),
        (None, "string", False),
        (True, "boolean", True),
    ],
)
def test_json_type_matches(value, type_name, expected):
    assert json_type_matches(value, type_name) is expected


def test_step_model_alone_validates_a_raw_step():
    step = Step.model_validate({"id": "a", "type": "loop", "iterate_over": "${x.result}"})
    assert step.iterate_over == "${x.result}"


def test_definition_package_imports_no_django():
    modules = ", ".join(
        f"workflows.definition.{name}"
        for name in (
            "schema",
            "references",
            "graph",
            "conditions",
            "validation",
            "estimate",
            "templating",
        )
    )
    code = f"import sys, {modules}; sys.exit(2 if 'django' in sys.modules else 0)"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "django was imported"
