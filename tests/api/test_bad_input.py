"""Bad input gets a clear 400, never a 500, and nothing is half-saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.models import Workflow, WorkflowVersion


def _post_raw(api: Any, body: bytes | str, content_type: str = "application/json") -> Any:
    return api.generic("POST", "/api/v1/workflows", body, content_type=content_type)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{", "Malformed JSON"),
        (b"", "name"),  # an empty body is an empty document
        (b'{"name": "x", "steps": NaN}', "NaN"),
        (b"\xff\xfe garbage", "UTF-8"),
        (b"[1, 2, 3]", ""),
        (b'"just a string"', ""),
        (b"null", ""),
        (b'{"name": "x\\u0000y", "steps": []}', "NUL"),
        (b'{"name": "\\ud800", "steps": []}', "surrogate"),
        (b"[" * 5000 + b"]" * 5000, "nested"),
    ],
)
def test_malformed_bodies_are_400s(alice_api: Any, body: bytes, says: str) -> None:
    response = _post_raw(alice_api, body)
    assert response.status_code == 400, response.content
    assert says in response.json()["message"]
    assert Workflow.objects.count() == 0


@pytest.mark.parametrize(
    "doc",
    [
        {"name": 5, "steps": [{"id": "a", "type": "aggregation"}]},
        {"name": "x", "steps": "not a list"},
        {"name": "x", "steps": [{"id": "a", "type": "aggregation", "timeout": "soon"}]},
        {"name": "x", "steps": [{"id": "a", "type": "aggregation", "depends_on": "b"}]},
        {"name": "x", "steps": [{"id": "a b", "type": "aggregation"}]},
        {"name": "x", "steps": [{"id": "a", "type": "aggregation", "colour": "red"}]},
        {"name": "x", "stepz": [], "steps": [{"id": "a", "type": "aggregation"}]},
        {"name": "", "steps": [{"id": "a", "type": "aggregation"}]},
        {"name": "x", "steps": []},
        {
            "name": "x",
            "steps": [{"id": "a", "type": "aggregation"}],
            "error_handling": {"max_retries": -1},
        },
        {
            "name": "x",
            "steps": [{"id": "a", "type": "aggregation"}],
            "resource_requirements": {"cpu_cores": "many"},
        },
        {"name": "\u202e\u0301" * 3, "steps": [{"id": "ünïcödé", "type": "aggregation"}]},
    ],
)
def test_wrong_types_and_unknown_fields_are_400s_naming_the_field(alice_api: Any, doc: Any) -> None:
    response = alice_api.post("/api/v1/workflows", doc, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "definition_invalid"
    assert all(e["field"] and e["message"] for e in body["errors"])
    assert Workflow.objects.count() == 0
    assert WorkflowVersion.objects.count() == 0


def test_unknown_field_is_named(alice_api: Any) -> None:
    doc = {"name": "x", "steps": [{"id": "a", "type": "aggregation", "colour": "red"}]}
    errors = alice_api.post("/api/v1/workflows", doc, format="json").json()["errors"]
    assert any("colour" in e["field"] or "colour" in e["message"] for e in errors)
    assert any(e["step"] == "a" for e in errors)


def test_body_over_one_megabyte_is_refused(alice_api: Any) -> None:
    doc = {
        "name": "big",
        "description": "x" * (1024 * 1024 + 10),
        "steps": [{"id": "a", "type": "aggregation"}],
    }
    response = _post_raw(alice_api, json.dumps(doc))
    assert response.status_code == 413
    assert "limit" in response.json()["message"]
    assert Workflow.objects.count() == 0


def test_more_than_500_steps_is_refused(alice_api: Any) -> None:
    steps = [{"id": f"s{i}", "type": "aggregation"} for i in range(501)]
    response = alice_api.post("/api/v1/workflows", {"name": "many", "steps": steps}, format="json")
    assert response.status_code == 400
    assert "500" in json.dumps(response.json())


def test_500_steps_are_accepted(alice_api: Any) -> None:
    steps = [
        {"id": f"s{i}", "type": "aggregation", **({"depends_on": [f"s{i - 1}"]} if i else {})}
        for i in range(500)
    ]
    response = alice_api.post("/api/v1/workflows", {"name": "many", "steps": steps}, format="json")
    assert response.status_code == 201, response.content[:500]


def test_wrong_content_type_is_415(alice_api: Any) -> None:
    response = _post_raw(alice_api, b"name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_non_numeric_workflow_id_is_404(alice_api: Any) -> None:
    assert alice_api.get("/api/v1/workflows/wf_nosuch").status_code == 404
