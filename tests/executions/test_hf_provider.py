"""The Hugging Face provider: seed model names routed to a configured ``huggingface``
endpoint; without ``transformers`` (not installed here) or without local weights the
step fails with ``model_unavailable`` saying what to install, and fallbacks take over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from executions.steps import huggingface, openai_compat, providers
from executions.steps.base import StepError
from tests.conftest import client_for
from tests.executions.helpers import (
    create_workflow,
    detail,
    execute,
    runs,
    steps_by_id,
    wait_terminal,
)
from workflows.models import ModelEndpoint

SENTIMENT = "cardiffnlp/twitter-roberta-base-sentiment-latest"


@pytest.fixture(autouse=True)
def _fresh_endpoints() -> Any:
    openai_compat.clear_endpoint_cache()
    yield
    openai_compat.clear_endpoint_cache()


def _hint() -> str:
    """What the error must tell the operator to do on this machine."""
    if huggingface.transformers_installed():
        return "huggingface-cli download"
    return "pip install 'prsm-workflows[hf]'"


def test_a_seed_name_routes_to_its_huggingface_endpoint(db: Any) -> None:
    ModelEndpoint.objects.create(
        name="scibert", provider="huggingface", remote_model="allenai/scibert_scivocab_uncased"
    )
    with pytest.raises(StepError) as info:
        providers.complete("scibert", "Extract methodology from: …", {}, mock_models={})
    assert info.value.error_type == "model_unavailable"
    assert "'huggingface'" in info.value.message
    assert _hint() in info.value.message


def test_without_an_endpoint_the_seed_name_says_what_to_configure(db: Any) -> None:
    with pytest.raises(StepError) as info:
        providers.complete(SENTIMENT, "I love it", {}, mock_models={})
    assert info.value.error_type == "model_unavailable"
    assert f"add a model endpoint named '{SENTIMENT}'" in info.value.message
    assert "PRSM_OPENAI_BASE_URL" in info.value.message


def test_pipeline_outputs_take_the_documented_shapes() -> None:
    assert huggingface.shape_output(
        "sentiment-analysis", [{"label": "positive", "score": 0.98}]
    ) == {"label": "POSITIVE", "score": 0.98}
    assert huggingface.shape_output(
        "ner", [{"entity_group": "ORG", "word": "PRSM", "score": 0.9, "start": 0}]
    ) == [{"text": "PRSM", "type": "ORG", "score": 0.9}]
    assert huggingface.shape_output("summarization", [{"summary_text": "Short."}]) == "Short."
    assert huggingface.guess_task(SENTIMENT) == "sentiment-analysis"
    assert huggingface.guess_task("dbmdz/bert-large-cased-finetuned-conll03-english") == "ner"
    assert huggingface.guess_task("facebook/bart-large-cnn") == "summarization"
    assert huggingface.guess_task("allenai/scibert_scivocab_uncased") == "feature-extraction"


def test_a_local_model_directory_needs_its_config(tmp_path: Path) -> None:
    assert huggingface.local_model_path(str(tmp_path)) is None
    (tmp_path / "config.json").write_text("{}")
    assert huggingface.local_model_path(str(tmp_path)) == str(tmp_path)
    assert huggingface.local_model_path("no-such-org/no-such-model-anywhere") is None


def test_the_catalog_shows_the_model_unavailable_and_why(alice: Any) -> None:
    ModelEndpoint.objects.create(name=SENTIMENT, provider="huggingface")
    models = client_for(alice).get("/api/v1/catalog/models").json()
    entry = next(m for m in models if m["name"] == SENTIMENT)
    assert entry["provider"] == "huggingface"
    assert entry["available"] is huggingface.availability(SENTIMENT)[0]
    assert entry["available"] is False  # neither transformers nor the weights are here
    assert entry["unavailable_reason"].startswith(
        "The transformers package is not installed"
        if not huggingface.transformers_installed()
        else "The weights of"
    )
    builtin = next(m for m in models if m["name"] == "builtin/sentiment-vader")
    assert (builtin["available"], builtin["unavailable_reason"]) == (True, None)


def test_an_unavailable_hf_model_falls_back_through_the_engine(worker: Any, alice: Any) -> None:
    ModelEndpoint.objects.create(name=SENTIMENT, provider="huggingface")
    wf = create_workflow(
        alice,
        {
            "name": "Text Analysis Pipeline",
            "steps": [
                {
                    "id": "sentiment",
                    "type": "inference",
                    "model": SENTIMENT,
                    "input": "${workflow.input.text}",
                }
            ],
            "error_handling": {"fallback_models": {SENTIMENT: "builtin/sentiment-vader"}},
        },
    )
    ex = execute(alice, wf, inputs={"text": "I love using PRSM for AI research!"})
    assert wait_terminal(ex).status == "completed", detail(alice, wf, ex)
    step = steps_by_id(detail(alice, wf, ex))["sentiment"]
    assert step["model_used"] == "builtin/sentiment-vader"
    assert step["result"]["label"] == "POSITIVE"
    [first] = runs(ex)["sentiment"].attempts_log
    assert (first["model"], first["error_type"]) == (SENTIMENT, "model_unavailable")
    assert _hint() in first["message"]


def test_an_unavailable_hf_model_without_fallback_fails_the_step(worker: Any, alice: Any) -> None:
    ModelEndpoint.objects.create(
        name="scibert", provider="huggingface", remote_model="allenai/scibert_scivocab_uncased"
    )
    wf = create_workflow(
        alice,
        {
            "name": "Methods",
            "steps": [
                {"id": "extract_methods", "type": "inference", "model": "scibert", "input": "x"}
            ],
        },
    )
    ex = execute(alice, wf)
    assert wait_terminal(ex).status == "failed"
    step = steps_by_id(detail(alice, wf, ex))["extract_methods"]
    assert step["status"] == "failed"
    assert step["error"]["type"] == "model_unavailable"
    assert "'scibert'" in step["error"]["message"] and _hint() in step["error"]["message"]
