"""The SDK's calls against the live server: CRUD, typed errors, runs and waiting."""

from __future__ import annotations

import copy
import time
from datetime import datetime
from typing import Any

import pytest

import prsm
from tests.sdk.conftest import FAILING, sleep_chain, step_of
from workflows.tokens import api_token_create

SIMPLE: dict[str, Any] = {
    "name": "Simple",
    "steps": [
        {"id": "clean", "type": "data_processing", "function": "clean_text",
         "input": "${workflow.input.text}"},
        {"id": "summary", "type": "inference", "model": "builtin/extractive-summary",
         "input": "${clean.result}", "depends_on": ["clean"]},
    ],
}  # fmt: skip


def create(client: prsm.Client, definition: dict[str, Any]) -> prsm.Workflow:
    data = copy.deepcopy(definition)
    return client.workflows.create(data.pop("name"), **data)


# --- typed errors ------------------------------------------------------------------


def test_bad_key_is_an_authentication_error(base_url: str) -> None:
    client = prsm.Client(api_key="prsm_not_a_real_key", base_url=base_url)

    with pytest.raises(prsm.AuthenticationError) as info:
        client.workflows.list()
    assert info.value.status_code == 401


def test_unknown_workflow_is_not_found(client: prsm.Client) -> None:
    with pytest.raises(prsm.NotFoundError) as info:
        client.workflows.get("wf_doesnotexist")
    assert info.value.status_code == 404


def test_someone_elses_workflow_is_not_found(
    client: prsm.Client, charlie: Any, base_url: str
) -> None:
    workflow = create(client, SIMPLE)
    charlie_client = prsm.Client(
        api_key=api_token_create(user=charlie, name="c").key, base_url=base_url
    )

    with pytest.raises(prsm.NotFoundError):
        charlie_client.workflows.get(workflow.id)


def test_reader_who_may_not_modify_gets_permission_denied(
    client: prsm.Client, charlie: Any, base_url: str
) -> None:
    workflow = create(client, SIMPLE)
    client.workflows.set_permissions(workflow.id, {"read": ["charlie"]})
    charlie_client = prsm.Client(
        api_key=api_token_create(user=charlie, name="c").key, base_url=base_url
    )

    with pytest.raises(prsm.PermissionDeniedError):
        charlie_client.workflows.update(workflow.id, description="mine now")


def test_invalid_definition_is_a_validation_error_listing_every_step(client: prsm.Client) -> None:
    steps: list[dict[str, Any]] = [
        {"id": "a", "type": "inference", "model": "m", "input": "x", "depends_on": ["b"]},
        {"id": "b", "type": "inference", "model": "m", "input": "x", "depends_on": ["a"]},
        {"id": "c", "type": "inference", "model": "m", "input": "${nowhere.result}"},
    ]

    with pytest.raises(prsm.ValidationError) as info:
        client.workflows.create(name="Broken", steps=steps)

    error = info.value
    assert error.status_code == 400
    assert error.code == "definition_invalid"
    assert {e["step"] for e in error.errors} >= {"a", "c"}
    assert all({"step", "field", "message"} <= set(e) for e in error.errors)


def test_bad_request_field_is_a_validation_error_with_fields(client: prsm.Client) -> None:
    workflow = create(client, SIMPLE)

    with pytest.raises(prsm.ValidationError) as info:
        client.workflows.execute(workflow.id, inputs={}, execution_config={"priority": "urgent"})
    assert any(e["field"].startswith("execution_config") for e in info.value.errors)


def test_cancelling_a_finished_run_is_a_conflict(client: prsm.Client) -> None:
    workflow = create(client, SIMPLE)
    run = client.workflows.execute(workflow.id, inputs={"text": "Hello there."}).wait(timeout=60)

    with pytest.raises(prsm.ConflictError):
        run.cancel()


# --- definitions -------------------------------------------------------------------


def test_create_get_list_update_delete(client: prsm.Client) -> None:
    workflow = create(client, SIMPLE)

    fetched = client.workflows.get(workflow.id)
    assert fetched.definition["steps"][0]["id"] == "clean"
    assert workflow.id in [w.id for w in client.workflows.list(search="Simple", sort="name")]

    updated = client.workflows.update(workflow.id, description="v2", change_note="describe")
    assert updated.description == "v2"
    assert updated.version_number == 2
    assert [s["id"] for s in updated.definition["steps"]] == ["clean", "summary"]

    client.workflows.delete(workflow.id)
    with pytest.raises(prsm.NotFoundError):
        client.workflows.get(workflow.id)


def test_validate_reports_errors_without_saving(client: prsm.Client) -> None:
    broken = {"name": "B", "steps": [{"id": "a", "type": "inference", "model": "m",
                                      "input": "x", "depends_on": ["a"]}]}  # fmt: skip

    validation = client.workflows.validate(
        workflow_definition=broken,
        checks=["syntax_validation", "dependency_check", "resource_requirements",
                "cost_estimation"],
    )  # fmt: skip

    assert validation.is_valid is False
    assert validation.errors and validation.errors[0]["step"] == "a"
    assert client.workflows.validate(SIMPLE).is_valid is True
    assert client.workflows.validate(SIMPLE).estimated_cost == 0.0


def test_set_error_handler_saves_rules_into_the_definition(client: prsm.Client) -> None:
    workflow = create(client, SIMPLE)
    rules: list[dict[str, Any]] = [
        {"on": "model_unavailable", "action": "use_fallback", "fallback_model": "gpt-3.5-turbo"},
        {"on": "rate_limit", "action": "wait_and_retry", "wait_seconds": 60},
        {"on": "execution_error", "action": "fail_workflow"},
    ]

    workflow.set_error_handler(rules)

    saved = client.workflows.get(workflow.id).definition["error_handling"]["error_handlers"]
    assert [(r["on"], r["action"]) for r in saved] == [(r["on"], r["action"]) for r in rules]
    assert workflow.version_number == 2


def test_create_template_and_set_permissions(client: prsm.Client, bob: Any) -> None:
    template = client.workflows.create_template(
        name="Text Analysis Template",
        parameters=[
            {"name": "input_model", "type": "string", "default": "gpt-3.5-turbo"},
            {"name": "max_tokens", "type": "integer", "default": 150},
            {"name": "analysis_depth", "type": "string", "enum": ["basic", "detailed"]},
        ],
        steps_template=[
            {
                "id": "analyze",
                "type": "inference",
                "model": "${template.input_model}",
                "parameters": {"max_tokens": "${template.max_tokens}"},
            }
        ],
    )
    assert template.id.startswith("tpl_")

    workflow = create(client, SIMPLE)
    permissions = client.workflows.set_permissions(
        workflow_id=workflow.id,
        permissions={"read": ["bob", "team:researchers"], "execute": ["bob"]},
    )
    assert "bob" in str(permissions)


# --- runs --------------------------------------------------------------------------


def test_wait_returns_the_completed_run_with_results(client: prsm.Client) -> None:
    workflow = create(client, sleep_chain(seconds=0.2))

    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"})
    assert execution.status in {"queued", "running"}
    execution.wait(timeout=60, poll=0.2)

    assert execution.status == "completed"
    assert [s["status"] for s in execution.steps] == ["completed"] * 3
    assert execution.result is not None
    assert [e.id for e in client.workflows.executions(workflow.id)] == [execution.id]
    assert client.workflows.executions(workflow.id, status="failed") == []


def test_the_detail_says_why_each_open_step_waits_and_when_the_run_should_end(
    client: prsm.Client,
) -> None:
    workflow = create(client, sleep_chain(seconds=4, count=3))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"})

    # While s0 runs...
    deadline = time.monotonic() + 30
    while step_of(execution.refresh(), "s0")["status"] != "running":
        assert time.monotonic() < deadline, execution.steps
        time.sleep(0.1)

    # ...each later step says what it waits for; the running one says nothing.
    assert execution.waiting == {"s1": "Waiting for s0", "s2": "Waiting for s1"}
    assert step_of(execution, "s0")["waiting"] is None
    assert step_of(execution, "s1")["waiting"] == {
        "reason": "dependencies",
        "message": "Waiting for s0",
        "steps": ["s0"],
    }
    assert execution.status == "running"
    eta = datetime.fromisoformat(str(execution.estimated_completion))
    assert eta > datetime.fromisoformat(str(execution.data["started_at"]))
    execution.cancel()
    assert execution.refresh().waiting == {}


def test_wait_times_out(client: prsm.Client) -> None:
    workflow = create(client, sleep_chain(seconds=3, count=1))
    execution = client.workflows.execute(workflow.id, inputs={"text": "hi"})

    with pytest.raises(prsm.WaitTimeoutError):
        execution.wait(timeout=0.5, poll=0.1)
    execution.cancel()
    assert execution.status == "cancelled"


def test_failed_run_then_resume(client: prsm.Client) -> None:
    workflow = create(client, FAILING)

    execution = client.workflows.execute(workflow.id).wait(timeout=60)

    assert execution.status == "failed"
    assert step_of(execution, "boom")["error"]["type"] == "execution_error"
    resumed = execution.resume()
    assert resumed.id != execution.id
    assert resumed.wait(timeout=60).status == "failed"
