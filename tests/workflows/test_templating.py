"""Template parameters and ``${template.*}`` substitution."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from workflows.definition.templating import (
    TemplateParameter,
    TemplateParameterError,
    find_template_parameters,
    resolve_parameters,
    substitute,
)
from workflows.definition.validation import validate_definition

# The seed's create_template example.
SEED_PARAMETERS: list[dict[str, Any]] = [
    {"name": "input_model", "type": "string", "default": "gpt-3.5-turbo"},
    {"name": "max_tokens", "type": "integer", "default": 150},
    {"name": "analysis_depth", "type": "string", "enum": ["basic", "detailed"]},
]
SEED_STEPS_TEMPLATE: list[dict[str, Any]] = [
    {
        "id": "analyze",
        "type": "inference",
        "model": "${template.input_model}",
        "parameters": {"max_tokens": "${template.max_tokens}"},
    }
]


def specs(*raw: dict[str, Any]) -> list[TemplateParameter]:
    return [TemplateParameter.model_validate(r) for r in raw]


def problems(exc: pytest.ExceptionInfo[TemplateParameterError]) -> dict[str, str]:
    return {e["param"]: e["message"] for e in exc.value.errors}


# --------------------------------------------------------------------------- parameters


def test_parameter_without_default_is_required_and_with_default_is_not():
    seed = specs(*SEED_PARAMETERS)
    assert [p.required for p in seed] == [False, False, True]
    assert [p.has_default for p in seed] == [True, True, False]


def test_parameter_may_be_declared_optional_without_a_default():
    [param] = specs({"name": "note", "type": "string", "required": False})
    assert param.required is False


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "n", "type": "integer", "default": "150"},
        {"name": "n", "type": "integer", "default": True},
        {"name": "n", "type": "string", "enum": ["a", 1]},
        {"name": "n", "type": "string", "enum": ["a"], "default": "b"},
        {"name": "n", "type": "string", "enum": []},
        {"name": "n", "type": "date"},
        {"name": "bad name", "type": "string"},
        {"name": "n", "type": "string", "colour": "red"},
    ],
)
def test_invalid_parameter_declarations_are_rejected(raw):
    with pytest.raises(ValidationError):
        TemplateParameter.model_validate(raw)


def test_integer_default_is_a_valid_number_default():
    [param] = specs({"name": "t", "type": "number", "default": 1})
    assert param.default == 1


# --------------------------------------------------------------------------- resolving


def test_defaults_fill_in_missing_values():
    resolved = resolve_parameters(specs(*SEED_PARAMETERS), {"analysis_depth": "basic"})
    assert resolved == {
        "input_model": "gpt-3.5-turbo",
        "max_tokens": 150,
        "analysis_depth": "basic",
    }


def test_given_values_win_over_defaults():
    resolved = resolve_parameters(
        specs(*SEED_PARAMETERS), {"analysis_depth": "detailed", "max_tokens": 300}
    )
    assert resolved["max_tokens"] == 300


def test_every_problem_is_reported_at_once():
    with pytest.raises(TemplateParameterError) as caught:
        resolve_parameters(
            specs(*SEED_PARAMETERS),
            {"max_tokens": True, "input_model": 5, "colour": "red"},
        )
    assert problems(caught) == {
        "colour": "unknown parameter (declared: input_model, max_tokens, analysis_depth)",
        "input_model": "must be a string, not 5",
        "max_tokens": "must be an integer, not True",
        "analysis_depth": "a value is required",
    }


def test_value_outside_enum_is_rejected():
    with pytest.raises(TemplateParameterError) as caught:
        resolve_parameters(specs(*SEED_PARAMETERS), {"analysis_depth": "deep"})
    assert problems(caught) == {"analysis_depth": "must be one of 'basic', 'detailed', not 'deep'"}


def test_int_is_a_number_but_float_is_not_an_integer():
    params = specs({"name": "x", "type": "number"}, {"name": "n", "type": "integer"})
    assert resolve_parameters(params, {"x": 3, "n": 4}) == {"x": 3, "n": 4}
    with pytest.raises(TemplateParameterError) as caught:
        resolve_parameters(params, {"x": 3, "n": 4.0})
    assert list(problems(caught)) == ["n"]


def test_optional_parameter_without_default_resolves_to_none():
    params = specs({"name": "note", "type": "string", "required": False})
    assert resolve_parameters(params, {}) == {"note": None}


def test_error_message_summarizes_the_problems():
    with pytest.raises(TemplateParameterError) as caught:
        resolve_parameters(specs(*SEED_PARAMETERS), {})
    assert "analysis_depth: a value is required" in str(caught.value)


# --------------------------------------------------------------------------- substituting


def test_exact_template_reference_keeps_the_value_type():
    out = substitute(SEED_STEPS_TEMPLATE, {"input_model": "gpt-4", "max_tokens": 150})
    assert out[0]["model"] == "gpt-4"
    assert out[0]["parameters"]["max_tokens"] == 150


def test_embedded_template_reference_is_interpolated():
    out = substitute(
        {"input": "Depth ${template.depth}, tags ${template.tags}!"},
        {"depth": "basic", "tags": ["a", "b"]},
    )
    assert out == {"input": 'Depth basic, tags ["a","b"]!'}


def test_other_references_and_escapes_are_left_untouched():
    template = {
        "input": "${template.p}: ${prev.result.x[0]} ${workflow.input.text} $${literal}",
        "iterate_over": "${loop.current_item}",
        "bad": "${sentiment}",
    }
    out = substitute(template, {"p": "P"})
    assert out == {
        "input": "P: ${prev.result.x[0]} ${workflow.input.text} $${literal}",
        "iterate_over": "${loop.current_item}",
        "bad": "${sentiment}",
    }


def test_substitute_does_not_modify_its_input():
    template = [{"model": "${template.m}"}]
    substitute(template, {"m": "x"})
    assert template == [{"model": "${template.m}"}]


def test_unknown_template_parameters_are_all_reported():
    with pytest.raises(TemplateParameterError) as caught:
        substitute(["${template.a}", "x ${template.b}", "${template.known}"], {"known": 1})
    assert list(problems(caught)) == ["a", "b"]


def test_find_template_parameters_lists_used_names():
    assert find_template_parameters({"steps": SEED_STEPS_TEMPLATE, "x": "${a.result}"}) == {
        "input_model",
        "max_tokens",
    }


def test_seed_template_instantiates_to_a_valid_definition():
    values = resolve_parameters(specs(*SEED_PARAMETERS), {"analysis_depth": "detailed"})
    document = {"name": "Text Analysis", "steps": substitute(SEED_STEPS_TEMPLATE, values)}
    report = validate_definition(document)
    assert report.errors == []
    assert report.definition is not None
    assert report.definition.steps[0].parameters == {"max_tokens": 150}


def test_unsubstituted_template_is_not_a_valid_definition():
    report = validate_definition({"name": "T", "steps": SEED_STEPS_TEMPLATE})
    assert {i.code for i in report.errors} == {"template_reference"}
