"""A secret may be referenced only from a parameter that takes one (``x-secret``).

Redaction of verbatim copies cannot catch a step that transforms a secret, so the
definition may not route a secret anywhere a transformed copy could be stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from workflows.definition.schema import WorkflowDefinition
from workflows.definition.secrets import misplaced_secrets, secret_parameters_of

SECRET_INPUTS = {"api_key": {"type": "secret"}, "text": {"type": "string"}}


def _fetch(**parameters: Any) -> dict[str, Any]:
    return {
        "id": "fetch",
        "type": "data_collection",
        "function": "http_get",
        "input": "https://example.org/",
        "parameters": parameters,
    }


def _step(**fields: Any) -> dict[str, Any]:
    return {"id": "s", "type": "data_processing", "function": "noop", "input": "x", **fields}


def _validate(user: Any, steps: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"name": "w", "input_schema": SECRET_INPUTS, "steps": steps, **extra}
    return client_for(user).post(
        "/api/v1/workflows/validate", {"workflow_definition": body}, format="json"
    )


def _misplaced(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    return [e for e in body["errors"] if e["code"] == "secret_misplaced"]


@pytest.mark.parametrize(
    "header",
    ["Bearer ${secrets.api_key}", "${workflow.input.api_key}", "token ${workflow.input.api_key}"],
)
def test_a_secret_in_http_get_headers_is_accepted(alice: Any, header: str) -> None:
    response = _validate(alice, [_fetch(headers={"Authorization": header})])
    assert response.status_code == 200, response.content
    assert response.json()["is_valid"] is True, response.json()


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (_step(input="key=${workflow.input.api_key}"), "steps[0].input"),
        (_step(input={"k": "${secrets.api_key}"}), "steps[0].input.k"),
        (
            _step(function="clean_text", parameters={"lowercase": True}, input="${secrets.t}"),
            "steps[0].input",
        ),
        (
            _step(function="fail", parameters={"message": "${secrets.k}"}),
            "steps[0].parameters.message",
        ),
        (_fetch(url="https://x.org/?k=${secrets.k}"), "steps[0].parameters.url"),
        (_fetch(query={"key": "${secrets.k}"}), "steps[0].parameters.query.key"),
        (
            {
                "id": "s",
                "type": "inference",
                "model": "m",
                "input": "hi",
                "parameters": {"api_key": "${secrets.API_KEY}"},
            },
            "steps[0].parameters.api_key",
        ),
        (
            {
                "id": "s",
                "type": "conditional",
                "condition": "${workflow.input.api_key} == 'x'",
                "if_true": {"type": "data_processing", "function": "noop", "input": "y"},
            },
            "steps[0].condition",
        ),
        (
            {
                "id": "s",
                "type": "conditional",
                "condition": "true",
                "if_true": {"type": "data_processing", "function": "noop", "input": "${secrets.k}"},
            },
            "steps[0].if_true.input",
        ),
    ],
)
def test_a_secret_anywhere_else_is_an_error_naming_the_step_and_field(
    alice: Any, step: dict[str, Any], field: str
) -> None:
    [error] = _misplaced(_validate(alice, [step]))
    assert error["step"] == "s" or error["step"] == "fetch"
    assert error["field"] == field
    assert "does not accept secrets" in error["message"]
    assert "http_get's 'headers'" in error["message"]


def test_a_plain_input_may_go_anywhere(alice: Any) -> None:
    response = _validate(alice, [_step(input="${workflow.input.text}")])
    assert response.json()["is_valid"] is True, response.json()


def test_a_loop_body_may_send_a_secret_only_in_its_headers(alice: Any) -> None:
    loop = {
        "id": "each",
        "type": "loop",
        "iterate_over": "${workflow.input.text}",
        "step": {
            "type": "data_collection",
            "function": "http_get",
            "input": "${loop.current_item}",
            "parameters": {"headers": {"X-Key": "${secrets.k}"}, "query": {"k": "${secrets.k}"}},
        },
    }
    [error] = _misplaced(_validate(alice, [loop]))
    assert error["field"] == "steps[0].step.parameters.query.k"


def test_final_result_may_not_name_a_secret(alice: Any) -> None:
    [error] = _misplaced(_validate(alice, [_step()], final_result={"k": "${secrets.k}"}))
    assert error["step"] is None and error["field"] == "final_result.k"


def test_saving_a_workflow_that_misplaces_a_secret_is_a_400_and_saves_nothing(alice: Any) -> None:
    from workflows.models import Workflow

    body = {"name": "w", "input_schema": SECRET_INPUTS, "steps": [_step(input="${secrets.k}")]}
    response = client_for(alice).post("/api/v1/workflows", body, format="json")
    assert response.status_code == 400
    assert "secret_misplaced" in response.content.decode()
    assert not Workflow.objects.filter(name="w").exists()


def test_the_mark_is_read_from_the_parameter_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"auth": {"type": "string", "x-secret": True}, "q": {"type": "string"}},
    }
    assert secret_parameters_of(schema) == {"auth"}
    assert secret_parameters_of({"type": "object"}) == frozenset()
    definition = WorkflowDefinition.model_validate(
        {
            "name": "w",
            "steps": [
                {
                    "id": "a",
                    "type": "data_processing",
                    "function": "mine",
                    "input": "x",
                    "parameters": {"auth": "${secrets.k}", "q": "${secrets.k}"},
                }
            ],
        }
    )
    found = misplaced_secrets(
        definition,
        secret_inputs=set(),
        secret_parameters=lambda name: secret_parameters_of(schema) if name == "mine" else (),
    )
    assert [f.field for f in found] == ["steps[0].parameters.q"]
