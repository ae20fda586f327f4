"""No input gives a 500, and every API error is JSON (issue 13, item 5).

Each case here was a 500, an HTML page or a silently ignored parameter on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.seed import TEXT_ANALYSIS_TEMPLATE
from workflows.models import Template, Workflow

HUGE = "9" * 5000  # past Python's 4,300-digit limit for int(str)


def _json_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["error"] and body["message"], body
    return body


# --- NUL bytes in query parameters ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/workflows", "search"),
        ("/api/v1/workflows", "status"),
        ("/api/v1/workflows", "sort"),
        ("/api/v1/templates", "search"),
        ("/api/v1/templates", "category"),
        ("/api/v1/audit", "object"),
        ("/api/v1/audit", "actor"),
        ("/api/v1/users", "search"),
    ],
)
def test_a_nul_byte_in_a_query_parameter_is_a_400_naming_it(
    alice_api: Any, path: str, param: str
) -> None:
    response = alice_api.get(path, {param: "a\x00b"})
    assert response.status_code == 400
    body = _json_error(response)
    assert param in body["message"]
    assert body["fields"] == {param: [body["fields"][param][0]]}


def test_a_query_with_too_many_parameters_is_a_json_400(alice_api: Any) -> None:
    query = "&".join(f"p{i}=1" for i in range(1200))  # past DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = alice_api.get(f"/api/v1/workflows?{query}")
    assert response.status_code == 400
    assert "too many" in _json_error(response)["message"]


# --- huge integer literals -----------------------------------------------------------


def _doc_with(number: str) -> str:
    return '{"name": "x", "steps": [{"id": "a", "type": "aggregation", "timeout": ' + number + "}]}"


@pytest.mark.parametrize(
    "path", ["/api/v1/workflows", "/api/v1/workflows/import", "/api/v1/templates"]
)
@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
def test_an_integer_longer_than_4300_digits_is_a_400(
    alice_api: Any, path: str, content_type: str
) -> None:
    response = alice_api.generic("POST", path, _doc_with(HUGE), content_type=content_type)
    assert response.status_code in {400, 415}, response.content[:300]
    if response.status_code == 400:
        assert "digits" in _json_error(response)["message"]
    assert Workflow.objects.count() == 0
    assert Template.objects.filter(owner__isnull=False).count() == 0


def test_the_json_endpoints_refuse_a_huge_integer_as_json(alice_api: Any) -> None:
    for path in ("/api/v1/workflows", "/api/v1/workflows/import", "/api/v1/templates"):
        response = alice_api.generic("POST", path, _doc_with(HUGE), content_type="application/json")
        assert response.status_code == 400, (path, response.content[:300])
        assert "digits" in _json_error(response)["message"]


def test_validate_refuses_a_huge_integer(alice_api: Any) -> None:
    body = '{"workflow_definition": ' + _doc_with(HUGE) + "}"
    response = alice_api.generic(
        "POST", "/api/v1/workflows/validate", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "digits" in _json_error(response)["message"]


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_an_infinite_number_is_a_400(alice_api: Any, number: str) -> None:
    response = alice_api.generic(
        "POST", "/api/v1/workflows", _doc_with(number), content_type="application/json"
    )
    assert response.status_code == 400
    assert "finite" in _json_error(response)["message"]
    assert Workflow.objects.count() == 0


# --- bodies over the limits ----------------------------------------------------------


def _definition_of(size: int) -> str:
    doc = {"name": "big", "description": "x" * size, "steps": [{"id": "a", "type": "aggregation"}]}
    return json.dumps(doc)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("size", [1024 * 1024 + 10, 3 * 1024 * 1024])
def test_a_body_over_the_limit_is_a_json_413(
    alice_api: Any, settings: Any, debug: bool, size: int
) -> None:
    settings.DEBUG = debug
    response = alice_api.generic(
        "POST", "/api/v1/workflows", _definition_of(size), content_type="application/json"
    )
    assert response.status_code == 413
    body = _json_error(response)
    assert body["error"] == "request_too_large"
    assert "limit" in body["message"]
    assert Workflow.objects.count() == 0


def test_a_body_over_data_upload_max_memory_size_is_a_413_on_every_endpoint(
    alice_api: Any, alice_workflow: str, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps({"inputs": {"text": "x" * 5000}})
    response = alice_api.generic(
        "POST", f"/api/v1/workflows/{alice_workflow}/execute", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "4096" in _json_error(response)["message"]


# --- paths that match no route -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workflows/wf%20x",
        "/api/v1/workflows/wf-x/executions",
        "/api/v1/workflows/wf_x/executions/ex-y",
        "/api/v1/templates/t.x",
        "/api/v1/tokens/abc",
        "/api/v1/files/%00",
        "/api/v1/no-such-endpoint",
        "/api/v2/workflows",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_a_malformed_api_path_is_a_json_404(
    alice_api: Any, settings: Any, path: str, debug: bool
) -> None:
    settings.DEBUG = debug
    response = alice_api.get(path)
    assert response.status_code == 404
    assert _json_error(response)["error"] == "not_found"


def test_a_page_path_that_matches_nothing_is_still_an_html_404(client: Any, db: Any) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# --- invalid filters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("status=bogus", "status"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("offset=-5", "offset"),
        ("offset=x", "offset"),
        ("shared=perhaps", "shared"),
        ("sort=colour", "sort"),
    ],
)
def test_an_invalid_workflow_filter_is_a_400_naming_it(
    alice_api: Any, query: str, param: str
) -> None:
    response = alice_api.get(f"/api/v1/workflows?{query}")
    assert response.status_code == 400, response.content
    body = _json_error(response)
    assert param in body["fields"]
    assert body["message"].startswith(f"{param}:")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/templates?limit=abc",
        "/api/v1/audit?limit=-1",
        "/api/v1/audit?offset=abc",
        "/api/v1/workflows/{wf}/executions?limit=abc",
        "/api/v1/workflows/{wf}/executions?status=bogus",
    ],
)
def test_every_paged_list_refuses_a_bad_page(
    alice_api: Any, alice_workflow: str, path: str
) -> None:
    response = alice_api.get(path.format(wf=alice_workflow))
    assert response.status_code == 400, response.content
    _json_error(response)


def test_every_workflow_status_filter_is_accepted(alice_api: Any, alice_workflow: str) -> None:
    for value in ("created", "queued", "running", "completed", "failed", "cancelled", "timed_out"):
        response = alice_api.get(f"/api/v1/workflows?status={value}")
        assert response.status_code == 200, (value, response.content)
    listed = alice_api.get("/api/v1/workflows?status=created&limit=1&offset=0").json()
    assert [w["id"] for w in listed["results"]] == [alice_workflow]


def test_the_workflow_statuses_are_the_execution_statuses_and_created() -> None:
    from executions.models import ExecutionStatus
    from workflows.selectors import WORKFLOW_STATUSES

    assert set(WORKFLOW_STATUSES) == {"created", *ExecutionStatus.values()}


# --- resource_config -----------------------------------------------------------------

SEED_RESOURCE_CONFIG = {
    "cpu_allocation_strategy": "balanced",
    "memory_allocation_strategy": "conservative",
    "gpu_allocation_strategy": "on_demand",
    "network_optimization": True,
}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ("fast", "resource_config"),
        ({"cpu_allocation_strategy": "greedy"}, "resource_config.cpu_allocation_strategy"),
        ({"memory_allocation_strategy": 5}, "resource_config.memory_allocation_strategy"),
        ({"gpu_allocation_strategy": None}, "resource_config.gpu_allocation_strategy"),
        ({"network_optimization": "very"}, "resource_config.network_optimization"),
        ({"colour": "red"}, "resource_config.colour"),
    ],
)
def test_an_invalid_resource_config_is_a_400_naming_the_field(
    alice_api: Any, alice_workflow: str, config: Any, field: str
) -> None:
    response = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {"inputs": {"text": "hi"}, "resource_config": config},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert any(name.startswith(field) for name in _json_error(response)["fields"])


def test_the_seeds_resource_config_is_accepted_and_kept(
    alice_api: Any, alice_workflow: str
) -> None:
    from executions.models import Execution

    response = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {"inputs": {"text": "hi"}, "resource_config": SEED_RESOURCE_CONFIG},
        format="json",
    )
    assert response.status_code == 201, response.content
    execution = Execution.objects.get(public_id=response.json()["execution_id"])
    assert execution.resource_config == SEED_RESOURCE_CONFIG


def test_templates_seed_is_still_accepted(alice_api: Any) -> None:
    response = alice_api.post("/api/v1/templates", TEXT_ANALYSIS_TEMPLATE, format="json")
    assert response.status_code == 201, response.content
