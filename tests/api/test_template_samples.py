"""Every built-in template carries sample inputs that fit its input schema, the
templates API shows them, and each template run with its samples completes on the real
engine, offline (no network, no model server: the built-in models answer)."""

from __future__ import annotations

from typing import Any

import pytest

from executions.services.lifecycle import inputs_check
from tests.conftest import client_for
from tests.executions.helpers import detail, execute, steps_by_id, wait_terminal
from workflows.builtin import builtin_template_documents, builtin_templates_load
from workflows.definition.schema import WorkflowDefinition
from workflows.models import Template

SLUGS = sorted(doc["slug"] for doc in builtin_template_documents())


def _instantiate(user: Any, template: Template) -> dict[str, Any]:
    response = client_for(user).post(
        f"/api/v1/templates/{template.public_id}/instantiate", {}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("slug", SLUGS)
def test_each_builtin_template_has_samples_that_validate_against_its_inputs(
    db: Any, alice: Any, slug: str
) -> None:
    builtin_templates_load()
    template = Template.objects.get(slug=slug)

    body = client_for(alice).get(f"/api/v1/templates/{template.public_id}").json()

    samples = body["sample_inputs"]
    assert samples, f"{slug} has no sample inputs"
    workflow = _instantiate(alice, template)
    got = client_for(alice).get(f"/api/v1/workflows/{workflow['id']}").json()
    definition = WorkflowDefinition.model_validate(got["definition"])
    assert definition.sample_inputs == samples
    assert set(samples) == set(definition.input_schema)
    assert inputs_check(definition, samples, []) == samples


def test_the_template_list_shows_the_samples(db: Any, alice: Any) -> None:
    builtin_templates_load()

    body = client_for(alice).get("/api/v1/templates?page_size=100").json()

    shown = {t["name"]: t["sample_inputs"] for t in body["results"] if t["is_builtin"]}
    assert len(shown) == len(SLUGS) and all(shown.values()), shown


def test_a_definition_refuses_samples_that_do_not_fit(db: Any, alice: Any) -> None:
    base = {
        "name": "s",
        "steps": [{"id": "a", "type": "data_processing", "function": "noop", "input": "x"}],
        "input_schema": {"n": {"type": "integer"}, "key": {"type": "secret"}},
    }
    client = client_for(alice)
    for samples, says in [
        ({"n": "three"}, "'n' must be of type integer"),
        ({"m": 1}, "'m' is not an input of this workflow"),
        ({"key": "sk-1"}, "'key' is a secret"),
    ]:
        response = client.post(
            "/api/v1/workflows", {**base, "sample_inputs": samples}, format="json"
        )
        assert response.status_code == 400, response.content
        assert says in response.content.decode()


@pytest.mark.parametrize("slug", SLUGS)
def test_each_builtin_template_run_with_its_samples_completes(
    worker: Any, alice: Any, slug: str
) -> None:
    builtin_templates_load()
    template = Template.objects.get(slug=slug)
    workflow = _instantiate(alice, template)

    ex = execute(alice, workflow["id"], inputs=template.extras["sample_inputs"])

    assert wait_terminal(ex, timeout=120).status == "completed", detail(alice, workflow["id"], ex)
    steps = steps_by_id(detail(alice, workflow["id"], ex))
    empty = {k: s["empty_reason"] for k, s in steps.items() if s["empty_result"]}
    assert not empty, empty  # a sample gives a real result, not a silent []


def test_a_lab_template_may_carry_samples_and_one_without_shows_null(db: Any, alice: Any) -> None:
    client = client_for(alice)
    body = {
        "name": "Lab",
        "steps_template": [
            {"id": "a", "type": "data_processing", "function": "clean_text", "input": "x"}
        ],
        "input_schema": {"text": {"type": "string"}},
    }

    with_samples = client.post(
        "/api/v1/templates", {**body, "sample_inputs": {"text": "hello"}}, format="json"
    )
    without = client.post("/api/v1/templates", body, format="json")
    refused = client.post(
        "/api/v1/templates", {**body, "sample_inputs": {"text": 5}}, format="json"
    )

    assert with_samples.status_code == 201, with_samples.content
    assert with_samples.json()["sample_inputs"] == {"text": "hello"}
    assert without.status_code == 201 and without.json()["sample_inputs"] is None
    assert refused.status_code == 400
    assert "'text' must be of type string" in refused.content.decode()
    assert not Template.objects.filter(extras__sample_inputs__text=5).exists()
