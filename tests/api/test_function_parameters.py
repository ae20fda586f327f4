"""Every registered function's parameters are checked when a workflow is validated or
saved: a bad parameter is a 400 then, not a failure when the workflow runs."""

from __future__ import annotations

from typing import Any

import jsonschema

from executions.steps.functions import SPECS

#: Values one of which breaks any property schema the library uses.
CANDIDATES: list[Any] = [{"not": "expected"}, [1, 2], True, 3.5, -7, "x" * 20_000, "x"]


ANYTHING = object()


def wrong_value(schema: dict[str, Any]) -> Any:
    """A value the property's schema refuses; ``ANYTHING`` if it takes any value."""
    for value in CANDIDATES:
        if not jsonschema.Draft202012Validator(schema).is_valid(value):
            return value
    assert set(schema) <= {"description", "default"}, schema
    return ANYTHING


def bad_parameter_steps() -> list[dict[str, Any]]:
    """One data_processing step per (function, parameter), each with one bad value,
    plus one per function that refuses unknown parameters."""
    steps = []
    for name, spec in sorted(SPECS.items()):
        properties = spec.schema.get("properties", {})
        if spec.schema.get("additionalProperties") is False:
            steps.append({"function": name, "parameters": {"not_a_parameter": 1}})
        for prop, prop_schema in properties.items():
            value = wrong_value(prop_schema)
            if value is not ANYTHING:  # e.g. select's default: any value is one
                steps.append({"function": name, "parameters": {prop: value}})
    return [
        {"id": f"s{i}", "type": "data_processing", "input": "x", **step}
        for i, step in enumerate(steps)
    ]


def test_every_function_but_noop_has_parameters_to_check() -> None:
    open_ended = [
        name
        for name, spec in SPECS.items()
        if not spec.schema.get("properties")
        and spec.schema.get("additionalProperties") is not False
    ]
    assert open_ended == ["noop"]


def test_each_bad_parameter_of_each_function_is_a_validation_error(alice_api: Any) -> None:
    steps = bad_parameter_steps()
    assert {s["function"] for s in steps} == set(SPECS) - {"noop"}
    response = alice_api.post(
        "/api/v1/workflows/validate",
        {"workflow_definition": {"name": "bad parameters", "steps": steps}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["is_valid"] is False
    flagged = {e["step"] for e in body["errors"] if e["code"] == "invalid_parameters"}
    missed = [(s["function"], s["parameters"]) for s in steps if s["id"] not in flagged]
    assert missed == []


def test_saving_a_workflow_with_a_bad_parameter_is_a_400(alice_api: Any) -> None:
    step = {
        "id": "search",
        "type": "data_collection",
        "function": "academic_search",
        "input": "graph neural networks",
        "parameters": {"max_results": 1000, "offline_fallback": "yes"},
    }
    response = alice_api.post("/api/v1/workflows", {"name": "x", "steps": [step]}, format="json")
    assert response.status_code == 400
    errors = [e for e in response.json()["errors"] if e["code"] == "invalid_parameters"]
    assert {e["field"] for e in errors} == {"steps[0].parameters"}
    assert any("max_results" in e["message"] for e in errors)
    assert any("offline_fallback" in e["message"] for e in errors)
