"""Templates: the seed's create_template, instantiation, built-ins, visibility."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import client_for
from tests.seed import TEXT_ANALYSIS_TEMPLATE
from workflows.builtin import builtin_template_documents, builtin_templates_load
from workflows.models import Template, Workflow


@pytest.fixture
def seed_template(alice_api: Any) -> str:
    response = alice_api.post("/api/v1/templates", TEXT_ANALYSIS_TEMPLATE, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_create_template_from_the_seed(alice_api: Any, seed_template: str) -> None:
    body = alice_api.get(f"/api/v1/templates/{seed_template}").json()
    assert body["name"] == "Text Analysis Template"
    assert [p["name"] for p in body["parameters"]] == [
        "input_model",
        "max_tokens",
        "analysis_depth",
    ]
    assert body["parameters"][2]["enum"] == ["basic", "detailed"]
    assert body["is_public"] is False
    assert body["owner"] == "alice"


def test_instantiate_substitutes_typed_values(alice_api: Any, seed_template: str) -> None:
    response = alice_api.post(
        f"/api/v1/templates/{seed_template}/instantiate",
        {"parameters": {"max_tokens": 300, "analysis_depth": "detailed"}, "name": "Mine"},
        format="json",
    )
    assert response.status_code == 201, response.content
    workflow = alice_api.get(f"/api/v1/workflows/{response.json()['id']}").json()
    step = workflow["definition"]["steps"][0]
    assert workflow["name"] == "Mine"
    assert step["model"] == "gpt-3.5-turbo"
    assert step["parameters"] == {"max_tokens": 300}


@pytest.mark.parametrize(
    ("parameters", "bad"),
    [
        ({"max_tokens": "lots", "analysis_depth": "basic"}, "max_tokens"),
        ({"max_tokens": True, "analysis_depth": "basic"}, "max_tokens"),
        ({"max_tokens": 1.5, "analysis_depth": "basic"}, "max_tokens"),
        ({"analysis_depth": "shallow"}, "analysis_depth"),
        ({}, "analysis_depth"),
        ({"analysis_depth": "basic", "colour": "red"}, "colour"),
        ({"input_model": 7, "analysis_depth": "basic"}, "input_model"),
    ],
)
def test_instantiate_with_wrong_parameters_is_a_400_naming_them(
    alice_api: Any, seed_template: str, parameters: dict[str, Any], bad: str
) -> None:
    response = alice_api.post(
        f"/api/v1/templates/{seed_template}/instantiate", {"parameters": parameters}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "template_parameters_invalid"
    assert bad in [e["param"] for e in body["errors"]]
    assert Workflow.objects.count() == 0


def test_instantiate_reports_every_bad_parameter(alice_api: Any, seed_template: str) -> None:
    response = alice_api.post(
        f"/api/v1/templates/{seed_template}/instantiate",
        {"parameters": {"max_tokens": "x", "analysis_depth": "deep"}},
        format="json",
    )
    assert {e["param"] for e in response.json()["errors"]} == {"max_tokens", "analysis_depth"}


def test_template_using_an_undeclared_parameter_is_refused(alice_api: Any) -> None:
    bad = copy.deepcopy(TEXT_ANALYSIS_TEMPLATE)
    bad["steps_template"][0]["input"] = "${template.nope}"
    response = alice_api.post("/api/v1/templates", bad, format="json")
    assert response.status_code == 400
    assert "nope" in str(response.json())
    assert Template.objects.count() == 0


def test_template_whose_steps_are_invalid_is_refused(alice_api: Any) -> None:
    bad = copy.deepcopy(TEXT_ANALYSIS_TEMPLATE)
    bad["steps_template"][0]["depends_on"] = ["ghost"]
    response = alice_api.post("/api/v1/templates", bad, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "definition_invalid"
    assert Template.objects.count() == 0


def test_parameter_default_of_the_wrong_type_is_refused(alice_api: Any) -> None:
    bad = copy.deepcopy(TEXT_ANALYSIS_TEMPLATE)
    bad["parameters"][1]["default"] = "many"
    response = alice_api.post("/api/v1/templates", bad, format="json")
    assert response.status_code == 400
    assert "parameters" in str(response.json()["fields"])


def test_private_template_is_invisible_to_others(seed_template: str, charlie: Any) -> None:
    api = client_for(charlie)
    assert api.get(f"/api/v1/templates/{seed_template}").status_code == 404
    assert seed_template not in [t["id"] for t in api.get("/api/v1/templates").json()["results"]]


def test_public_template_is_visible_to_others(alice_api: Any, charlie: Any) -> None:
    response = alice_api.post(
        "/api/v1/templates", {**TEXT_ANALYSIS_TEMPLATE, "is_public": True}, format="json"
    )
    assert client_for(charlie).get(f"/api/v1/templates/{response.json()['id']}").status_code == 200


def test_only_the_owner_deletes_a_template(alice_api: Any, charlie: Any) -> None:
    tpl = alice_api.post(
        "/api/v1/templates", {**TEXT_ANALYSIS_TEMPLATE, "is_public": True}, format="json"
    ).json()["id"]
    assert client_for(charlie).delete(f"/api/v1/templates/{tpl}").status_code == 403
    assert alice_api.delete(f"/api/v1/templates/{tpl}").status_code == 204


@pytest.mark.django_db
def test_builtin_templates_load_idempotently() -> None:
    builtin_templates_load()
    builtin_templates_load()
    assert Template.objects.filter(is_builtin=True).count() == len(builtin_template_documents())
    assert not Template.objects.filter(is_builtin=True, is_public=False).exists()


@pytest.mark.parametrize("slug", [d["slug"] for d in builtin_template_documents()])
def test_every_builtin_template_instantiates(slug: str, alice: Any, charlie: Any) -> None:
    builtin_templates_load()
    template = Template.objects.get(slug=slug)
    values = {
        p["name"]: p["enum"][0] for p in template.parameters if "default" not in p and "enum" in p
    }
    response = client_for(charlie).post(
        f"/api/v1/templates/{template.public_id}/instantiate", {"parameters": values}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["step_count"] == len(template.steps_template)
