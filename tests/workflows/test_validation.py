"""Validation: every problem at once, naming the step and the field.

The seed documents below are copied from the API seed
(shared/seed/workflow-management-api.md); each must validate without errors.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from workflows.definition.validation import (
    MAX_ISSUES,
    VALIDATION_CHECKS,
    Catalog,
    Issue,
    ValidationReport,
    WorkerQueueSpec,
    validate_definition,
)

# --------------------------------------------------------------------------- seed documents

TEXT_ANALYSIS_PIPELINE: dict[str, Any] = {
    "name": "Text Analysis Pipeline",
    "description": "Analyze text sentiment and extract entities",
    "steps": [
        {
            "id": "sentiment",
            "type": "inference",
            "model": "cardiffnlp/twitter-roberta-base-sentiment-latest",
            "input": "${workflow.input.text}",
        },
        {
            "id": "entities",
            "type": "inference",
            "model": "dbmdz/bert-large-cased-finetuned-conll03-english",
            "input": "${workflow.input.text}",
            "depends_on": ["sentiment"],
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "gpt-3.5-turbo",
            "input": "Summarize: Sentiment=${sentiment.result}, Entities=${entities.result}",
            "depends_on": ["sentiment", "entities"],
        },
    ],
}

SCIENTIFIC_PAPER_ANALYSIS: dict[str, Any] = {
    "name": "Scientific Paper Analysis",
    "description": "Comprehensive analysis of scientific papers",
    "version": "1.0",
    "steps": [
        {
            "id": "extract_text",
            "type": "data_processing",
            "function": "pdf_to_text",
            "input": "${workflow.input.pdf_url}",
            "timeout": 300,
        },
        {
            "id": "summarize",
            "type": "inference",
            "model": "gpt-4",
            "input": "Summarize this paper: ${extract_text.result}",
            "depends_on": ["extract_text"],
            "parameters": {"max_tokens": 500, "temperature": 0.3},
        },
        {
            "id": "extract_methods",
            "type": "inference",
            "model": "scibert",
            "input": "Extract methodology from: ${extract_text.result}",
            "depends_on": ["extract_text"],
        },
        {
            "id": "final_analysis",
            "type": "aggregation",
            "function": "combine_results",
            "inputs": {"summary": "${summarize.result}", "methods": "${extract_methods.result}"},
            "depends_on": ["summarize", "extract_methods"],
        },
    ],
    "error_handling": {
        "retry_failed_steps": True,
        "max_retries": 3,
        "fallback_models": {"gpt-4": "gpt-3.5-turbo", "scibert": "bert-base-uncased"},
    },
    "resource_requirements": {"cpu_cores": 4, "ram_gb": 8, "gpu_required": False},
}

PARALLEL_ANALYSIS: dict[str, Any] = {
    "name": "Parallel Analysis",
    "steps": [
        {
            "id": "sentiment_analysis",
            "type": "inference",
            "model": "sentiment-model",
            "input": "${workflow.input.text}",
            "parallel_group": "analysis",
        },
        {
            "id": "entity_extraction",
            "type": "inference",
            "model": "ner-model",
            "input": "${workflow.input.text}",
            "parallel_group": "analysis",
        },
        {
            "id": "topic_modeling",
            "type": "inference",
            "model": "topic-model",
            "input": "${workflow.input.text}",
            "parallel_group": "analysis",
        },
        {
            "id": "combine_results",
            "type": "aggregation",
            "depends_on": ["sentiment_analysis", "entity_extraction", "topic_modeling"],
        },
    ],
}

LITERATURE_REVIEW: dict[str, Any] = {
    "name": "Literature Review and Analysis",
    "steps": [
        {
            "id": "search_papers",
            "type": "data_collection",
            "function": "academic_search",
            "input": "${workflow.input.research_query}",
        },
        {
            "id": "filter_papers",
            "type": "data_processing",
            "function": "relevance_filter",
            "input": "${search_papers.result}",
            "parameters": {"min_relevance": 0.8},
        },
        {
            "id": "extract_abstracts",
            "type": "parallel_processing",
            "function": "extract_text",
            "input": "${filter_papers.result}",
            "parallel": True,
        },
        {
            "id": "analyze_trends",
            "type": "inference",
            "model": "gpt-4",
            "input": "Analyze research trends in: ${extract_abstracts.result}",
        },
        {
            "id": "generate_summary",
            "type": "inference",
            "model": "gpt-4",
            "input": "Generate comprehensive summary: ${analyze_trends.result}",
        },
    ],
}

RESILIENT_WORKFLOW: dict[str, Any] = {
    "name": "Resilient Workflow",
    "steps": [
        {"id": "summarize", "type": "inference", "model": "gpt-4", "input": "${workflow.input.t}"}
    ],
    "error_handling": {
        "retry_policy": {
            "max_retries": 3,
            "retry_delay_seconds": 30,
            "backoff_multiplier": 2.0,
            "retry_on_errors": ["timeout", "rate_limit", "temporary_failure"],
        },
        "fallback_strategy": {
            "enabled": True,
            "fallback_models": {"gpt-4": "gpt-3.5-turbo", "claude-3-opus": "claude-3-sonnet"},
        },
        "error_handlers": [
            {
                "on": "model_unavailable",
                "action": "use_fallback",
                "fallback_model": "gpt-3.5-turbo",
            },
            {"on": "rate_limit", "action": "wait_and_retry", "wait_seconds": 60},
            {"on": "execution_error", "action": "fail_workflow"},
        ],
    },
}

DYNAMIC_DOCUMENT_PROCESSING: dict[str, Any] = {
    "name": "Dynamic Document Processing",
    "input_schema": {
        "documents": {"type": "array", "items": {"type": "string"}},
        "analysis_types": {"type": "array", "items": {"type": "string"}},
    },
    "steps": [
        {
            "id": "process_documents",
            "type": "loop",
            "iterate_over": "${workflow.input.documents}",
            "step": {
                "type": "inference",
                "model": "gpt-3.5-turbo",
                "input": "Analyze (${workflow.input.analysis_types}): ${loop.current_item}",
            },
        }
    ],
}

# The "Step Types" examples, each with stub steps for the ids it references.
INFERENCE_STEP = {
    "id": "analyze_sentiment",
    "type": "inference",
    "model": "cardiffnlp/twitter-roberta-base-sentiment-latest",
    "input": "${previous_step.result}",
    "parameters": {"temperature": 0.1, "max_tokens": 100},
}
DATA_PROCESSING_STEP = {
    "id": "preprocess_data",
    "type": "data_processing",
    "function": "clean_text",
    "input": "${workflow.input.raw_text}",
    "parameters": {"remove_stopwords": True, "lowercase": True},
}
AGGREGATION_STEP = {
    "id": "combine_results",
    "type": "aggregation",
    "function": "merge_json",
    "inputs": {
        "sentiment": "${sentiment_analysis.result}",
        "entities": "${entity_extraction.result}",
    },
}
CONDITIONAL_STEP = {
    "id": "conditional_analysis",
    "type": "conditional",
    "condition": "${sentiment.result.label} == 'POSITIVE'",
    "if_true": {
        "type": "inference",
        "model": "gpt-3.5-turbo",
        "input": "Analyze positive sentiment: ${workflow.input.text}",
    },
    "if_false": {
        "type": "inference",
        "model": "gpt-3.5-turbo",
        "input": "Analyze negative sentiment: ${workflow.input.text}",
    },
}
LOOP_STEP = {
    "id": "process_documents",
    "type": "loop",
    "iterate_over": "${workflow.input.document_list}",
    "step": {
        "type": "inference",
        "model": "gpt-3.5-turbo",
        "input": "Analyze document: ${loop.current_item}",
    },
    "max_iterations": 100,
    "parallel": True,
}


def _stub(step_id: str) -> dict[str, Any]:
    return {"id": step_id, "type": "data_collection", "function": "academic_search"}


STEP_EXAMPLES: dict[str, dict[str, Any]] = {
    "inference": {"name": "Inference", "steps": [_stub("previous_step"), INFERENCE_STEP]},
    "data_processing": {"name": "Data processing", "steps": [DATA_PROCESSING_STEP]},
    "aggregation": {
        "name": "Aggregation",
        "steps": [_stub("sentiment_analysis"), _stub("entity_extraction"), AGGREGATION_STEP],
    },
    "conditional": {"name": "Conditional", "steps": [_stub("sentiment"), CONDITIONAL_STEP]},
    "loop": {"name": "Loop", "steps": [LOOP_STEP]},
}

SEED_DOCUMENTS: dict[str, dict[str, Any]] = {
    "text_analysis_pipeline": TEXT_ANALYSIS_PIPELINE,
    "scientific_paper_analysis": SCIENTIFIC_PAPER_ANALYSIS,
    "parallel_analysis": PARALLEL_ANALYSIS,
    "literature_review": LITERATURE_REVIEW,
    "resilient_workflow": RESILIENT_WORKFLOW,
    "dynamic_document_processing": DYNAMIC_DOCUMENT_PROCESSING,
    **{f"step_example_{name}": document for name, document in STEP_EXAMPLES.items()},
}

SEED_CATALOG = Catalog(
    models=frozenset(
        {
            "cardiffnlp/twitter-roberta-base-sentiment-latest",
            "dbmdz/bert-large-cased-finetuned-conll03-english",
            "gpt-3.5-turbo",
            "gpt-4",
            "scibert",
            "bert-base-uncased",
            "sentiment-model",
            "ner-model",
            "topic-model",
            "claude-3-opus",
            "claude-3-sonnet",
        }
    ),
    functions=frozenset(
        {
            "pdf_to_text",
            "combine_results",
            "clean_text",
            "merge_json",
            "academic_search",
            "relevance_filter",
            "extract_text",
        }
    ),
    queues=(WorkerQueueSpec("default", cpu_cores=8, ram_gb=32),),
    strict=True,
)


@pytest.fixture(params=sorted(SEED_DOCUMENTS))
def seed_document(request: pytest.FixtureRequest) -> dict[str, Any]:
    return copy.deepcopy(SEED_DOCUMENTS[request.param])


# --------------------------------------------------------------------------- helpers


def wf(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "Test", "steps": list(steps), **extra}


def infer(step_id: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "inference", "model": "m", "input": text, **extra}


def inline(text: str = "hello", **extra: Any) -> dict[str, Any]:
    """An inline step (a branch or a loop body): no id."""
    return {"type": "inference", "model": "m", "input": text, **extra}


def issues(report: ValidationReport, code: str) -> list[Issue]:
    return [i for i in report.errors + report.warnings if i.code == code]


def only(report: ValidationReport, code: str) -> Issue:
    found = issues(report, code)
    assert len(found) == 1, (code, report.to_dict())
    return found[0]


def codes(report: ValidationReport) -> list[str]:
    return [i.code for i in report.errors + report.warnings]


# --------------------------------------------------------------------------- the seed


def test_seed_documents_validate_without_errors(seed_document):
    report = validate_definition(seed_document)
    assert report.errors == []
    assert report.is_valid
    assert report.definition is not None


def test_seed_documents_validate_cleanly_against_a_strict_catalog_of_their_names(
    seed_document,
):
    report = validate_definition(seed_document, catalog=SEED_CATALOG)
    assert report.to_dict() == {"is_valid": True, "errors": [], "warnings": []}


# --------------------------------------------------------------------------- the report


def test_report_serializes_to_json():
    report = validate_definition(wf(infer("a", "${nope.result}")))
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["is_valid"] is False
    assert payload["errors"][0] == {
        "severity": "error",
        "code": "unknown_reference",
        "message": payload["errors"][0]["message"],
        "step": "a",
        "field": "steps[0].input",
    }


def test_definition_is_returned_when_structure_is_fine_despite_other_errors():
    report = validate_definition(wf(infer("a", "${nope.result}")))
    assert not report.is_valid
    assert report.definition is not None


def test_definition_is_none_when_structure_is_broken():
    report = validate_definition(wf(infer("a", timeout="soon")))
    assert report.definition is None


def test_all_problems_are_reported_at_once():
    report = validate_definition(
        wf(
            {"id": "a", "type": "inference", "input": "${ghost.result}", "colour": "red"},
            {"id": "b", "type": "teleport"},
            infer("c", depends_on=["zzz"]),
        )
    )
    assert sorted(codes(report)) == [
        "extra_forbidden",
        "missing_model",
        "unknown_dependency",
        "unknown_reference",
        "unknown_step_type",
    ]


def test_unknown_check_name_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown validation check"):
        validate_definition(wf(infer("a")), checks=["spell_check"])


def test_checks_select_which_groups_run_but_structure_is_always_checked():
    data = wf(
        {"id": "a", "type": "teleport", "colour": "red"},
        infer("b", depends_on=["ghost"]),
    )
    report = validate_definition(data, checks=["dependency_check"])
    assert sorted(codes(report)) == ["extra_forbidden", "unknown_dependency"]
    report = validate_definition(data, checks=["syntax_validation"])
    assert sorted(codes(report)) == ["extra_forbidden", "unknown_step_type"]


def test_cost_estimation_check_adds_nothing_here():
    assert VALIDATION_CHECKS[-1] == "cost_estimation"
    report = validate_definition(wf(infer("a", depends_on=["x"])), checks=["cost_estimation"])
    assert report.is_valid


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(("data", "kind"), [(None, "null"), ([], "a list"), ("x", "a string")])
def test_a_non_object_is_one_clear_error(data, kind):
    report = validate_definition(data)
    issue = only(report, "not_an_object")
    assert issue.message == f"A workflow definition must be a JSON object, not {kind}."


def test_unknown_field_names_the_step_and_the_field():
    report = validate_definition(wf(infer("summarize", foo=1)))
    issue = only(report, "extra_forbidden")
    assert issue.step == "summarize"
    assert issue.field == "steps[0].foo"
    assert issue.message == "Step 'summarize' has an unknown field 'foo'."


def test_unknown_top_level_field():
    issue = only(validate_definition(wf(infer("a"), colour="blue")), "extra_forbidden")
    assert issue.message == "The workflow has an unknown field 'colour'."
    assert issue.step is None


def test_dependencies_on_an_inline_step_get_a_hint():
    step = {
        "id": "c",
        "type": "conditional",
        "condition": "true",
        "if_true": {"type": "inference", "model": "m", "depends_on": ["a"]},
    }
    issue = only(validate_definition(wf(step)), "extra_forbidden")
    assert issue.field == "steps[0].if_true.depends_on"
    assert "put it on the enclosing step" in issue.message


def test_missing_required_field_is_named():
    issue = only(validate_definition(wf({"id": "a"})), "missing")
    assert issue.message == "Step 'a' is missing the required field 'type'."
    assert issue.field == "steps[0].type"


def test_type_error_says_what_was_given():
    issue = only(validate_definition(wf(infer("a", timeout=0))), "greater_than_equal")
    assert issue.message == (
        "Step 'a', field 'timeout': input should be greater than or equal to 1 (got 0)."
    )


def test_invalid_step_id_is_explained():
    issue = only(validate_definition(wf(infer("1bad"))), "string_pattern_mismatch")
    assert issue.message == (
        "Step '1bad': the id '1bad' must start with a letter or underscore and contain "
        "only letters, digits and underscores."
    )


def test_step_without_a_string_id_is_named_by_position():
    issue = only(validate_definition(wf(infer(5))), "string_type")  # type: ignore[arg-type]
    assert issue.step is None
    assert issue.message == "The step at steps[0], field 'id': must be a string, not a number (5)."


def test_wrong_type_says_what_was_expected_and_given():
    issue = only(validate_definition(wf(infer("a", timeout="300"))), "int_type")
    assert issue.message == "Step 'a', field 'timeout': must be an integer, not a string ('300')."


def test_wrong_type_of_a_whole_part_names_the_part():
    issue = only(validate_definition(wf(infer("a"), error_handling=True)), "model_type")
    assert issue.message == "Field 'error_handling': must be an object, not a boolean."


def test_reserved_step_id_message_is_plain():
    issue = only(validate_definition(wf(infer("loop"))), "value_error")
    assert issue.message.startswith("Step 'loop', field 'id': 'loop' is a reserved word")


def test_missing_name_and_steps():
    report = validate_definition({"name": " ", "steps": []})
    assert {i.message for i in report.errors} == {
        "The workflow needs a name.",
        "A workflow needs at least one step.",
    }


def test_too_many_steps_says_how_many():
    steps = [{"id": f"s{i}", "type": "aggregation"} for i in range(501)]
    issue = only(validate_definition(wf(*steps)), "too_long")
    assert issue.message == "A workflow can have at most 500 steps; this one has 501."


def test_a_structurally_broken_step_is_still_checked_for_everything_else():
    broken = infer("a", "${ghost.result}", timeout=0)
    report = validate_definition(wf(broken, infer("b", "${alsoghost.result}")))
    assert sorted(codes(report)) == [
        "greater_than_equal",
        "unknown_reference",
        "unknown_reference",
    ]


def test_a_field_with_the_wrong_type_is_not_also_reported_missing():
    report = validate_definition(wf({"id": "a", "type": "inference", "model": 5}))
    assert codes(report) == ["string_type"]


# --------------------------------------------------------------------------- steps


def test_unknown_step_type_lists_the_known_ones_and_suggests():
    issue = only(validate_definition(wf({"id": "a", "type": "inferense"})), "unknown_step_type")
    assert issue.message == (
        "Step 'a' has unknown step type 'inferense' (expected one of inference, "
        "data_processing, aggregation, conditional, loop, parallel_processing, "
        "data_collection) (did you mean 'inference'?)."
    )
    assert issue.field == "steps[0].type"


def test_duplicate_ids_name_both_positions():
    issue = only(validate_definition(wf(infer("a"), infer("b"), infer("a"))), "duplicate_step_id")
    assert issue.message == "steps[0] and steps[2] both have the id 'a'; step ids must be unique."
    assert issue.field == "steps[2].id"


@pytest.mark.parametrize(
    ("step", "code", "field"),
    [
        ({"type": "inference"}, "missing_model", "model"),
        ({"type": "data_processing"}, "missing_function", "function"),
        ({"type": "parallel_processing"}, "missing_function", "function"),
        ({"type": "data_collection"}, "missing_function", "function"),
        (
            {"type": "conditional", "if_true": {"type": "aggregation"}},
            "missing_condition",
            "condition",
        ),
        ({"type": "conditional", "condition": "true"}, "missing_branch", "if_true"),
        ({"type": "loop", "step": {"type": "aggregation"}}, "missing_iterate_over", "iterate_over"),
        ({"type": "loop", "iterate_over": [1, 2]}, "missing_loop_body", "step"),
    ],
)
def test_type_specific_fields_are_required(step, code, field):
    issue = only(validate_definition(wf({"id": "s", **step})), code)
    assert issue.severity == "error"
    assert issue.step == "s"
    assert issue.field == f"steps[0].{field}"
    article = "an" if step["type"][0] in "aeiou" else "a"
    assert issue.message.startswith(f"Step 's' is {article} {step['type']} step and needs")


def test_aggregation_needs_no_function():
    assert validate_definition(wf({"id": "s", "type": "aggregation"})).is_valid


def test_conditional_with_only_one_branch_is_fine():
    step = {"id": "c", "type": "conditional", "condition": "1 < 2", "if_false": inline()}
    assert validate_definition(wf(step)).is_valid


def test_inline_steps_are_checked_with_their_path():
    step = {
        "id": "l",
        "type": "loop",
        "iterate_over": [1],
        "step": {"type": "conditional", "condition": "true", "if_true": {"type": "inference"}},
    }
    issue = only(validate_definition(wf(step)), "missing_model")
    assert issue.field == "steps[0].step.if_true.model"
    assert issue.message.startswith("Step 'l' (step.if_true) is an inference step")


def test_input_and_inputs_together_are_an_error():
    issue = only(validate_definition(wf(infer("a", inputs={"x": "y"}))), "input_and_inputs")
    assert issue.message == "Step 'a' has both 'input' and 'inputs'; use one of them."


def test_fields_another_type_would_use_are_ignored_with_a_warning():
    report = validate_definition(wf(infer("a", condition="true", max_iterations=5)))
    assert report.is_valid
    assert [(i.severity, i.field) for i in issues(report, "ignored_field")] == [
        ("warning", "steps[0].condition"),
        ("warning", "steps[0].max_iterations"),
    ]


def test_condition_that_does_not_parse_quotes_the_cel_problem():
    step = {"id": "c", "type": "conditional", "condition": "${a.result} ==", "if_true": inline()}
    issue = only(validate_definition(wf(infer("a"), step)), "invalid_condition")
    assert issue.field == "steps[1].condition"
    assert "does not parse" in issue.message
    assert issue.message.startswith("Step 'c': ")


def test_condition_with_a_malformed_reference_is_reported_once():
    step = {"id": "c", "type": "conditional", "condition": "${a} == 1", "if_true": inline()}
    assert codes(validate_definition(wf(infer("a"), step))) == ["malformed_reference"]


# --------------------------------------------------------------------------- dependencies


def test_unknown_dependency_names_step_field_and_suggestion():
    issue = only(
        validate_definition(wf(infer("extract"), infer("b", depends_on=["extrac"]))),
        "unknown_dependency",
    )
    assert issue.message == (
        "Step 'b' depends on 'extrac', but there is no step 'extrac' (did you mean 'extract'?)."
    )
    assert issue.field == "steps[1].depends_on[0]"


def test_self_dependency_is_its_own_error_not_also_a_cycle():
    report = validate_definition(wf(infer("a", depends_on=["a"])))
    assert codes(report) == ["self_dependency"]
    assert report.errors[0].message == "Step 'a' depends on itself."


def test_unknown_reference_names_the_step_and_the_field():
    issue = only(
        validate_definition(wf(infer("a", inputs={"doc": "See ${nosuch.result.x}"}))),
        "unknown_reference",
    )
    assert issue.step == "a"
    assert issue.field == "steps[0].inputs.doc"
    assert issue.message == (
        "Step 'a' references ${nosuch.result.x} in 'inputs.doc', but there is no step 'nosuch'."
    )


def test_self_reference_is_an_error():
    issue = only(validate_definition(wf(infer("a", "${a.result}"))), "self_reference")
    assert issue.message == "Step 'a' uses its own result ${a.result} in 'input'."


def test_malformed_reference_explains_the_syntax():
    issue = only(validate_definition(wf(infer("a", "Hi ${sentiment}"))), "malformed_reference")
    assert "${sentiment.result}" in issue.message
    assert issue.field == "steps[0].input"


def test_loop_reference_outside_a_loop_body_is_an_error():
    issue = only(
        validate_definition(wf(infer("a", parameters={"n": "${loop.index}"}))),
        "loop_reference_outside_loop",
    )
    assert issue.field == "steps[0].parameters.n"


def test_loop_reference_in_iterate_over_is_outside_the_body():
    step = {"id": "l", "type": "loop", "iterate_over": "${loop.current_item}", "step": inline()}
    issue = only(validate_definition(wf(step)), "loop_reference_outside_loop")
    assert issue.field == "steps[0].iterate_over"


def test_template_reference_left_in_a_definition_is_an_error():
    issue = only(
        validate_definition(wf({"id": "a", "type": "inference", "model": "${template.m}"})),
        "template_reference",
    )
    assert "only valid in templates" in issue.message
    assert issue.field == "steps[0].model"


def test_secret_references_are_accepted():
    assert validate_definition(wf(infer("a", parameters={"key": "${secrets.API_KEY}"}))).is_valid


def test_any_workflow_input_is_allowed_without_an_input_schema():
    assert validate_definition(wf(infer("a", "${workflow.input.anything}"))).is_valid


def test_undeclared_workflow_input_is_an_error_when_inputs_are_declared():
    data = wf(infer("a", "${workflow.input.txt}"), input_schema={"text": {"type": "string"}})
    issue = only(validate_definition(data), "unknown_workflow_input")
    assert issue.message == (
        "Step 'a' uses ${workflow.input.txt} in 'input', but input_schema declares no input "
        "'txt' (did you mean 'text'?)."
    )


def test_cycle_message_contains_the_path():
    data = wf(
        infer("a", "${c.result}"),
        infer("b", "${a.result}"),
        infer("c", depends_on=["b"]),
    )
    issue = only(validate_definition(data), "cycle")
    assert "a → b → c → a" in issue.message
    assert issue.step == "a"
    assert issue.field == "steps[0]"


def test_cycle_field_points_at_the_closing_depends_on():
    issue = only(
        validate_definition(wf(infer("a", depends_on=["b"]), infer("b", depends_on=["a"]))), "cycle"
    )
    assert issue.field == "steps[0].depends_on[0]"


def test_each_cycle_is_reported_once():
    data = wf(
        infer("a", depends_on=["b"]),
        infer("b", depends_on=["a"]),
        infer("x", depends_on=["y"]),
        infer("y", depends_on=["x"]),
        infer("ok", depends_on=["a", "x"]),
    )
    messages = [i.message for i in issues(validate_definition(data), "cycle")]
    assert len(messages) == 2
    assert "a → b → a" in messages[0]
    assert "x → y → x" in messages[1]


def test_final_result_referencing_an_unknown_step_is_an_error():
    data = wf(infer("a"), final_result={"summary": "${a.result}", "x": "${gone.result}"})
    issue = only(validate_definition(data), "unknown_reference")
    assert issue.field == "final_result.x"
    assert issue.step is None
    assert issue.message.startswith("final_result references ${gone.result} in 'x'")


def test_final_result_as_a_single_reference():
    assert validate_definition(wf(infer("a"), final_result="${a.result.text}")).is_valid
    issue = only(
        validate_definition(wf(infer("a"), final_result="${b.result}")), "unknown_reference"
    )
    assert issue.message == "final_result references ${b.result}, but there is no step 'b'."


def test_ui_nodes_for_unknown_steps_are_a_warning():
    data = wf(infer("a"), ui={"nodes": {"a": {"x": 0, "y": 0}, "gone": {"x": 1, "y": 1}}})
    report = validate_definition(data)
    assert report.is_valid
    issue = only(report, "unknown_ui_node")
    assert (issue.severity, issue.field) == ("warning", "ui.nodes.gone")


# --------------------------------------------------------------------------- error handling


def test_error_handler_rule_naming_unknown_steps_is_an_error():
    handling = {"error_handlers": [{"on": "timeout", "action": "skip_step", "steps": ["a", "zz"]}]}
    issue = only(validate_definition(wf(infer("a"), error_handling=handling)), "unknown_step")
    assert issue.field == "error_handling.error_handlers[0].steps[1]"


def test_cyclic_fallback_models_are_an_error_reported_once():
    handling = {"fallback_models": {"gpt-4": "gpt-3.5-turbo", "gpt-3.5-turbo": "gpt-4"}}
    issue = only(validate_definition(wf(infer("a"), error_handling=handling)), "fallback_cycle")
    assert issue.message == "Fallback models form a cycle: gpt-4 → gpt-3.5-turbo → gpt-4."
    assert issue.field == "error_handling.fallback_models.gpt-4"


def test_fallback_to_itself_is_a_cycle():
    handling = {"fallback_strategy": {"fallback_models": {"m": "m"}}}
    issue = only(validate_definition(wf(infer("a"), error_handling=handling)), "fallback_cycle")
    assert issue.field == "error_handling.fallback_strategy.fallback_models.m"


def test_use_fallback_with_nothing_to_fall_back_to_is_a_warning():
    handling = {"error_handlers": [{"on": "model_unavailable", "action": "use_fallback"}]}
    report = validate_definition(wf(infer("a"), error_handling=handling))
    assert report.is_valid
    assert only(report, "no_fallback_model").severity == "warning"


# --------------------------------------------------------------------------- catalog


CATALOG = Catalog(
    models=frozenset({"gpt-4", "gpt-3.5-turbo"}),
    functions=frozenset({"clean_text"}),
    queues=(WorkerQueueSpec("cpu", 8, 32), WorkerQueueSpec("gpu", 4, 16, gpu=True)),
)


def test_unknown_model_is_a_warning_by_default():
    report = validate_definition(wf({**infer("a"), "model": "gpt4"}), catalog=CATALOG)
    assert report.is_valid
    issue = only(report, "unknown_model")
    assert issue.severity == "warning"
    assert issue.message == (
        "Step 'a' uses the model 'gpt4', which this installation does not offer "
        "(did you mean 'gpt-4'?)."
    )


def test_unknown_model_is_an_error_for_a_strict_catalog():
    strict = Catalog(models=CATALOG.models, strict=True)
    report = validate_definition(wf({**infer("a"), "model": "nope"}), catalog=strict)
    assert only(report, "unknown_model").severity == "error"


def test_unknown_function_is_reported_in_inline_steps_too():
    step = {
        "id": "l",
        "type": "loop",
        "iterate_over": [1],
        "step": {"type": "data_processing", "function": "cleen_text"},
    }
    issue = only(validate_definition(wf(step), catalog=CATALOG), "unknown_function")
    assert issue.field == "steps[0].step.function"


def test_empty_catalog_collections_check_nothing():
    report = validate_definition(wf({**infer("a"), "model": "anything"}), catalog=Catalog())
    assert report.to_dict()["warnings"] == []


def test_unknown_fallback_model_is_a_warning():
    handling = {"fallback_models": {"gpt-4": "gpt-9"}}
    report = validate_definition(wf(infer("a"), error_handling=handling), catalog=CATALOG)
    issue = only(report, "unknown_fallback_model")
    assert (issue.severity, issue.field) == ("warning", "error_handling.fallback_models.gpt-4")


def test_requirements_no_queue_offers_are_a_warning():
    data = wf(
        infer("a", resource_requirements={"cpu_cores": 8, "ram_gb": 16, "gpu_required": True}),
        infer("b", resource_requirements={"cpu_cores": 4, "ram_gb": 8, "gpu_required": True}),
        resource_requirements={"cpu_cores": 2, "ram_gb": 64},
    )
    report = validate_definition(data, catalog=CATALOG)
    assert report.is_valid
    found = [(i.field, i.step) for i in issues(report, "no_matching_queue")]
    assert found == [("steps[0].resource_requirements", "a"), ("resource_requirements", None)]


# --------------------------------------------------------------------------- input schema


def test_input_default_of_the_wrong_type_is_an_error():
    schema = {"n": {"type": "integer", "default": "five"}, "m": {"type": "string", "enum": [1]}}
    report = validate_definition(wf(infer("a"), input_schema=schema))
    assert issue_fields(report) == ["input_schema.n.default", "input_schema.m.enum[0]"]


def issue_fields(report: ValidationReport) -> list[str]:
    return [i.field for i in report.errors]


# --------------------------------------------------------------------------- robustness

NASTY_INPUTS: list[Any] = [
    None,
    0,
    1.5,
    True,
    "",
    "x" * 100_000,
    [],
    [None],
    {},
    {"name": None, "steps": None},
    {"name": "x", "steps": "steps"},
    {"name": "x", "steps": [None, 1, "a", [], {}]},
    {"name": "x", "steps": [{"id": None, "type": None}]},
    {"name": "x", "steps": [{"id": ["a"], "type": {"b": 1}, "depends_on": "a"}]},
    {"name": "x", "steps": [{"id": "a", "type": "inference", "model": "m", "depends_on": [1]}]},
    {"name": "x", "steps": [infer("a", "${" * 10_000)]},
    {"name": "x", "steps": [infer("a", "${a.result" + "[0]" * 5000 + "}")]},
    {"name": "\ud800\u202e\x00", "steps": [infer("\u00e9")]},
    {"name": "x", "steps": [infer("a", "\ud800 ${b.result} \x00")]},
    {
        "name": "x",
        "steps": [
            {"id": "c", "type": "conditional", "condition": "\ud800", "if_true": {"type": "loop"}}
        ],
    },
    {"name": "x", "steps": [{"id": "c", "type": "conditional", "condition": ["no"]}]},
    {"name": "x", "steps": [infer("a")], "error_handling": [], "ui": "ui", "final_result": 5},
    {"name": "x", "steps": [infer("a")], "input_schema": {"": None, "x": {"type": "nope"}}},
    {"name": "x", "steps": [infer("a")], "error_handling": {"fallback_models": {"": ""}}},
    {1: 2, None: 3, ("t",): 4},
    {"name": "x", "steps": [infer("a")], "ui": {"nodes": {1: {"x": float("nan"), "y": 1e308}}}},
]


def _deep(levels: int) -> Any:
    value: Any = "${x.result}"
    for _ in range(levels):
        value = {"k": [value]}
    return value


NASTY_INPUTS += [
    {"name": "x", "steps": [infer("a", _deep(1000))]},
    _deep(5000),
    {"name": "x", "steps": [{"id": "a", "type": "loop", "iterate_over": [], "step": _deep(40)}]},
]


def _assert_sane(report: ValidationReport) -> None:
    json.dumps(report.to_dict())
    assert all(isinstance(i.message, str) and i.message for i in report.errors + report.warnings)
    assert "validation_failed" not in codes(report), report.to_dict()
    assert len(report.errors) + len(report.warnings) <= MAX_ISSUES + 1


@pytest.mark.parametrize("data", NASTY_INPUTS, ids=range(len(NASTY_INPUTS)))
def test_nasty_input_never_raises(data):
    report = validate_definition(data, catalog=CATALOG)
    _assert_sane(report)
    assert not report.is_valid or isinstance(data, dict)


def test_deep_nesting_is_one_error():
    assert codes(validate_definition(_deep(5000))) == ["too_deep"]


def _mutate(value: Any, rng: random.Random) -> Any:
    junk: list[Any] = [
        None,
        0,
        -1,
        10**20,
        1.5,
        True,
        "",
        "${",
        "${x}",
        "${a.result}",
        [],
        {},
        "\ud800",
    ]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        choice = rng.random()
        if choice < 0.3:
            value.pop(key)
        elif choice < 0.6:
            value[key] = _mutate(value[key], rng)
        else:
            value[key] = rng.choice(junk)
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        value[index] = _mutate(value[index], rng) if rng.random() < 0.6 else rng.choice(junk)
        return value
    return rng.choice(junk)


@pytest.mark.parametrize("seed", range(300))
def test_randomly_mutated_seed_documents_never_raise(seed):
    rng = random.Random(seed)
    document = copy.deepcopy(rng.choice(list(SEED_DOCUMENTS.values())))
    for _ in range(rng.randint(1, 6)):
        document = _mutate(document, rng)
    _assert_sane(validate_definition(document, catalog=CATALOG))


def test_issue_count_is_capped():
    steps = [{"id": f"s{i}", "type": "x", "input": "${a} ${b}"} for i in range(400)]
    report = validate_definition(wf(*steps))
    assert len(report.errors) == MAX_ISSUES + 1
    assert report.errors[-1].code == "too_many_issues"
