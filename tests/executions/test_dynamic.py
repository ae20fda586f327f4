"""Dynamic workflows: a registered generator builds the steps from the inputs at run time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import prsm
from executions.models import Execution
from executions.steps.generators import GENERATORS, generate, register_generator
from tests.conftest import client_for
from tests.executions.helpers import detail, steps_by_id, wait_terminal
from workflows.definition.validation import Catalog, validate_definition
from workflows.tokens import api_token_create

SEED_DYNAMIC: dict[str, Any] = {
    "name": "Dynamic Document Processing",
    "generator_function": "generate_steps_for_documents",
    "steps": [],
    "input_schema": {
        "documents": {"type": "array", "items": {"type": "string"}},
        "analysis_types": {"type": "array", "items": {"type": "string"}},
    },
}
DOCUMENTS = [
    "I love this wonderful library. The results are excellent and the team is great.",
    "The service was terrible. Everything was slow and the answers were wrong.",
]


def _create(user: Any, body: dict[str, Any]) -> Any:
    return client_for(user).post("/api/v1/workflows", body, format="json")


def _execute(user: Any, wf: str, inputs: dict[str, Any]) -> Any:
    return client_for(user).post(
        f"/api/v1/workflows/{wf}/execute", {"inputs": inputs}, format="json"
    )


@pytest.fixture
def extra_generators() -> Iterator[None]:
    """Generators registered by this test module, removed afterwards."""
    before = dict(GENERATORS)
    yield
    GENERATORS.clear()
    GENERATORS.update(before)


# --- the pure rules ------------------------------------------------------------------


def test_a_dynamic_definition_may_have_no_steps() -> None:
    report = validate_definition(SEED_DYNAMIC, catalog=Catalog(generators=frozenset({"g"})))
    assert [i.code for i in report.errors] == ["unknown_generator"]
    report = validate_definition(
        SEED_DYNAMIC, catalog=Catalog(generators=frozenset({"generate_steps_for_documents"}))
    )
    assert report.is_valid, report.to_dict()
    assert report.definition is not None and report.definition.is_dynamic


def test_without_a_generator_a_workflow_still_needs_steps() -> None:
    body = {k: v for k, v in SEED_DYNAMIC.items() if k != "generator_function"}
    [issue] = validate_definition(body).errors
    assert (issue.code, issue.message) == ("too_short", "A workflow needs at least one step.")


def test_the_seed_generator_builds_one_step_per_document_and_type() -> None:
    out = generate(
        "generate_steps_for_documents",
        {"documents": ["a text", "file_abcdefghijklmnop"], "analysis_types": ["ner", "topics"]},
    )
    assert [s["id"] for s in out["steps"]] == [
        "doc_1_entities",
        "doc_1_keywords",
        "doc_2_text",
        "doc_2_entities",
        "doc_2_keywords",
        "aggregate",
    ]
    assert out["steps"][2]["function"] == "pdf_to_text"
    assert out["steps"][3]["input"] == "${doc_2_text.result}"
    assert out["final_result"] == "${aggregate.result}"


# --- through the API -----------------------------------------------------------------


def test_creating_a_dynamic_workflow(alice: Any) -> None:
    response = _create(alice, SEED_DYNAMIC)
    assert response.status_code == 201, response.content
    assert response.json()["step_count"] == 0
    got = client_for(alice).get(f"/api/v1/workflows/{response.json()['id']}").json()
    assert got["definition"]["generator_function"] == "generate_steps_for_documents"
    assert got["definition"]["steps"] == []


def test_an_unknown_generator_is_a_400_naming_the_registered_ones(alice: Any) -> None:
    response = _create(alice, {**SEED_DYNAMIC, "generator_function": "generate_steps_for_docs"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "definition_invalid"
    [issue] = body["errors"]
    assert issue["code"] == "unknown_generator"
    assert issue["field"] == "generator_function"
    assert "generate_steps_for_documents" in issue["message"]


def test_a_generator_with_steps_of_its_own_is_a_400(alice: Any) -> None:
    step = {"id": "a", "type": "data_processing", "function": "noop", "input": 1}
    response = _create(alice, {**SEED_DYNAMIC, "steps": [step]})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["steps_with_generator"]


def test_the_catalog_lists_generators(alice: Any) -> None:
    api = client_for(alice)
    generators = api.get("/api/v1/catalog/functions?kind=generator").json()
    seed = next(g for g in generators if g["name"] == "generate_steps_for_documents")
    assert seed["kind"] == "generator" and seed["description"]
    assert set(seed["input"]["properties"]) == {"documents", "analysis_types"}
    functions = api.get("/api/v1/catalog/functions").json()
    assert "generate_steps_for_documents" not in {f["name"] for f in functions}
    everything = api.get("/api/v1/catalog").json()
    assert [g["name"] for g in everything["generators"]] == [g["name"] for g in generators]
    bad = api.get("/api/v1/catalog/functions?kind=macro")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"


def test_inputs_the_generator_cannot_use_are_a_400_at_execute(alice: Any) -> None:
    wf = _create(alice, SEED_DYNAMIC).json()["id"]
    response = _execute(alice, wf, {"documents": DOCUMENTS, "analysis_types": ["astrology"]})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "inputs_invalid"
    assert body["errors"][0]["input"] == "analysis_types"
    assert "Unknown analysis type 'astrology'" in body["message"]
    assert not Execution.objects.exists()


def test_a_generated_definition_that_is_invalid_is_a_400_at_execute(
    alice: Any, extra_generators: None
) -> None:
    @register_generator("broken_chain")
    def broken_chain(inputs: dict[str, Any]) -> list[dict[str, Any]]:
        """Two steps that wait for each other, and a bad parameter."""
        return [
            {"id": "a", "type": "data_processing", "function": "noop", "input": "${b.result}"},
            {
                "id": "b",
                "type": "data_processing",
                "function": "chunk_text",
                "input": "${a.result}",
                "parameters": {"size": 0},
            },
        ]

    wf = _create(alice, {"name": "Broken", "generator_function": "broken_chain", "steps": []})
    assert wf.status_code == 201, wf.content
    response = _execute(alice, wf.json()["id"], {})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "definition_invalid"
    codes = {e["code"] for e in body["errors"]}
    assert {"cycle", "invalid_parameters"} <= codes
    assert all(
        e["message"].startswith("The generator 'broken_chain' produced an invalid workflow: ")
        for e in body["errors"]
    )
    assert not Execution.objects.exists()


def test_a_generator_that_crashes_is_a_400_not_a_500(alice: Any, extra_generators: None) -> None:
    @register_generator("crashes")
    def crashes(inputs: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"id": inputs["missing"]}]

    wf = _create(alice, {"name": "Crash", "generator_function": "crashes", "steps": []})
    response = _execute(alice, wf.json()["id"], {})
    assert response.status_code == 400
    assert "generator 'crashes' failed: KeyError" in response.json()["message"]


# --- through the engine --------------------------------------------------------------


def test_generated_steps_run_to_completed_and_show_in_the_execution(
    worker: Any, alice: Any
) -> None:
    wf = _create(alice, SEED_DYNAMIC).json()["id"]
    response = _execute(
        alice, wf, {"documents": DOCUMENTS, "analysis_types": ["sentiment", "keywords"]}
    )
    assert response.status_code == 201, response.content
    ex = response.json()["execution_id"]
    assert wait_terminal(ex).status == "completed", detail(alice, wf, ex)

    body = detail(alice, wf, ex)
    steps = steps_by_id(body)
    assert list(steps) == [
        "doc_1_sentiment",
        "doc_1_keywords",
        "doc_2_sentiment",
        "doc_2_keywords",
        "aggregate",
    ]
    assert all(s["status"] == "completed" for s in steps.values())
    assert steps["doc_1_sentiment"]["result"]["label"] == "POSITIVE"
    assert steps["doc_2_sentiment"]["result"]["label"] == "NEGATIVE"
    assert steps["doc_1_sentiment"]["model_used"] == "builtin/sentiment-vader"
    assert "wonderful" in steps["doc_1_keywords"]["result"]
    assert body["final_result"] == {
        "doc_1": {
            "sentiment": steps["doc_1_sentiment"]["result"],
            "keywords": steps["doc_1_keywords"]["result"],
        },
        "doc_2": {
            "sentiment": steps["doc_2_sentiment"]["result"],
            "keywords": steps["doc_2_keywords"]["result"],
        },
    }
    stored = Execution.objects.get(public_id=ex).definition
    assert "generator_function" not in stored
    assert len(stored["steps"]) == 5


def test_the_sdk_creates_and_runs_a_dynamic_workflow(server: Any, worker: Any, alice: Any) -> None:
    key = api_token_create(user=alice, name="sdk").key
    base_url = server.url("", scheme="http").rstrip("/")
    with prsm.Client(api_key=key, base_url=base_url) as client:
        workflow = client.workflows.create_dynamic(
            name="Dynamic Document Processing",
            generator_function="generate_steps_for_documents",
            input_schema=SEED_DYNAMIC["input_schema"],
        )
        run = client.workflows.execute(
            workflow_id=workflow.id,
            inputs={"documents": DOCUMENTS[:1], "analysis_types": ["summary", "entities"]},
        ).wait(timeout=60)
        assert run.status == "completed", run.data
        assert [s["id"] for s in run.steps] == ["doc_1_summary", "doc_1_entities", "aggregate"]
        step = run.step("doc_1_summary")
        assert step is not None
        summary = step["result"]
        assert summary and summary in DOCUMENTS[0]

        with pytest.raises(prsm.ValidationError) as info:
            client.workflows.create_dynamic(name="Nope", generator_function="no_such_generator")
        assert any(e["code"] == "unknown_generator" for e in info.value.errors)


def test_a_resumed_dynamic_run_reuses_the_generated_steps(worker: Any, alice: Any) -> None:
    not_a_pdf = "data:application/pdf;base64,aGVsbG8="  # "hello": pdf_to_text refuses it
    wf = _create(alice, SEED_DYNAMIC).json()["id"]
    inputs = {"documents": [DOCUMENTS[0], not_a_pdf], "analysis_types": ["sentiment"]}
    first = _execute(alice, wf, inputs).json()["execution_id"]
    assert wait_terminal(first).status == "failed"
    failed = steps_by_id(detail(alice, wf, first))
    assert failed["doc_2_text"]["error"]["type"] == "invalid_input"
    assert failed["doc_1_sentiment"]["status"] == "completed"

    response = client_for(alice).post(f"/api/v1/workflows/{wf}/executions/{first}/resume")
    assert response.status_code == 201, response.content
    again = response.json()["execution_id"]
    wait_terminal(again)
    original = Execution.objects.get(public_id=first).definition
    assert Execution.objects.get(public_id=again).definition == original
    steps = steps_by_id(detail(alice, wf, again))
    assert list(steps) == list(failed)
    assert steps["doc_1_sentiment"]["result"] == failed["doc_1_sentiment"]["result"]
