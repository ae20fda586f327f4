"""The catalog the editor's palette and the SDK read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from tests.conftest import client_for
from workflows.models import ModelEndpoint


def test_catalog_lists_step_types_models_functions_and_error_types(alice_api: Any) -> None:
    response = alice_api.get("/api/v1/catalog")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=60"
    body = response.json()
    assert [t["type"] for t in body["step_types"]] == [
        "inference",
        "data_processing",
        "aggregation",
        "conditional",
        "loop",
        "parallel_processing",
        "data_collection",
    ]
    assert "Step" in body["step_types"][0]["json_schema"]["$defs"]
    assert "builtin/sentiment-vader" in {m["name"] for m in body["models"]}
    functions = {f["name"]: f for f in body["functions"]}
    assert {"clean_text", "pdf_to_text", "relevance_filter", "academic_search"} <= set(functions)
    assert functions["clean_text"]["parameters"]["properties"]["lowercase"]["type"] == "boolean"
    assert {e["type"] for e in body["error_types"]} == {
        "timeout",
        "rate_limit",
        "temporary_failure",
        "model_unavailable",
        "invalid_input",
        "execution_error",
    }


def test_a_team_endpoint_is_listed_only_for_its_members(
    alice: Any, bob: Any, charlie: Any, team: Group
) -> None:
    ModelEndpoint.objects.create(
        name="lab-llama",
        provider="openai",
        base_url="http://10.0.0.5:8000/v1",
        team=team,
        input_price_per_1k=1,
        output_price_per_1k=2,
    )
    ModelEndpoint.objects.create(
        name="gpt-4", provider="openai", base_url="https://api.openai.com/v1"
    )

    def names(user: Any) -> set[str]:
        return {m["name"] for m in client_for(user).get("/api/v1/catalog/models").json()}

    assert {"lab-llama", "gpt-4"} <= names(bob)
    assert "lab-llama" not in names(charlie)
    assert "gpt-4" in names(charlie)


def test_each_catalog_part_has_its_own_endpoint(alice_api: Any) -> None:
    for part in ("step-types", "models", "functions", "error-types"):
        response = alice_api.get(f"/api/v1/catalog/{part}")
        assert response.status_code == 200, part
        assert isinstance(response.json(), list) and response.json()


def test_catalog_needs_sign_in(anon_api: Any) -> None:
    assert anon_api.get("/api/v1/catalog").status_code == 401
