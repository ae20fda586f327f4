"""The built-in offline models do what their names and catalog descriptions say, on
real sentences, without a network: VADER sentiment (negation included), YAKE keywords,
capitalized phrases (untyped), the extractive summary, and the renamed old names."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from executions.steps import providers
from executions.steps.base import StepError
from executions.steps.builtin_models import MODELS
from tests.conftest import client_for
from workflows.catalog import BUILTIN_MODEL_DOCS, BUILTIN_MODEL_RENAMES, catalog_for_user
from workflows.definition.validation import validate_definition

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on "
    "radioactivity. She was the first woman to win a Nobel Prize, and the only person to "
    "win Nobel Prizes in two scientific fields. Her research on radioactivity led to the "
    "discovery of polonium and radium."
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: the built-ins must work offline."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a built-in model tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def run(model: str, text: str, **parameters: Any) -> Any:
    return providers.complete(model, text, parameters, mock_models={}).output


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is not good at all.", "NEGATIVE"),  # negation: a word count said POSITIVE
        ("It is not bad.", "POSITIVE"),
        ("I love this, it is wonderful!", "POSITIVE"),
        ("The service was terrible and the answers were wrong.", "NEGATIVE"),
        ("The meeting is at 3 pm in room 4.", "NEUTRAL"),
    ],
)
def test_vader_labels_real_sentences(text: str, label: str) -> None:
    result = run("builtin/sentiment-vader", text)
    assert result["label"] == label
    assert set(result) == {"label", "score", "positive", "neutral", "negative"}
    assert -1 <= result["score"] <= 1


def test_vader_score_is_the_compound_score_with_its_sign() -> None:
    assert run("builtin/sentiment-vader", "This is not good at all.")["score"] < -0.05
    assert run("builtin/sentiment-vader", "This is very good!")["score"] > 0.05


def test_yake_ranks_the_phrases_of_the_text() -> None:
    keywords = run("builtin/yake-keywords", CURIE, top_k=5)
    assert len(keywords) == 5
    assert keywords[0] == "Marie Curie"
    assert any(" " in k for k in keywords)  # phrases, not only single words
    assert "radioactivity" in run("builtin/yake-keywords", CURIE, top_k=10, max_words=1)


def test_yake_on_empty_text_finds_nothing() -> None:
    assert run("builtin/yake-keywords", "   ") == []


def test_a_bad_parameter_is_invalid_input() -> None:
    with pytest.raises(StepError) as error:
        run("builtin/yake-keywords", CURIE, top_k="many")
    assert error.value.error_type == "invalid_input"


def test_capitalized_phrases_are_untyped_strings() -> None:
    text = "Marie Curie moved to Paris in 1891 and later worked with CNRS."
    assert run("builtin/capitalized-phrases", text) == ["Marie Curie", "Paris", "CNRS"]


def test_the_extractive_summary_copies_sentences_of_the_text() -> None:
    summary = run("builtin/extractive-summary", CURIE, sentences=2)
    kept = [s for s in CURIE.split(". ") if s.rstrip(".") in summary]
    assert len(kept) == 2


def test_the_old_names_run_the_models_they_became() -> None:
    assert run("builtin/keywords", CURIE, top_k=3) == run("builtin/yake-keywords", CURIE, top_k=3)
    # builtin/entities keeps its old answer's shape, for workflows that read it
    assert run("builtin/entities", "Marie Curie met Pierre.") == [
        {"text": "Marie Curie", "type": "MISC"},
        {"text": "Pierre", "type": "MISC"},
    ]


def test_every_builtin_is_documented_and_every_documented_one_runs() -> None:
    assert set(MODELS) == set(BUILTIN_MODEL_DOCS) - {"mock/echo"}
    assert set(BUILTIN_MODEL_RENAMES.values()) <= set(MODELS)
    for name in BUILTIN_MODEL_DOCS:
        assert run(name, "Marie Curie won. It was good.") is not None


def test_the_catalog_describes_each_model_and_offers_no_old_name(
    db: Any, django_user_model: Any
) -> None:
    alice = django_user_model.objects.create_user("alice")
    response = client_for(alice).get("/api/v1/catalog/models")
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()}
    assert set(models) == set(BUILTIN_MODEL_DOCS)
    assert "VADER" in models["builtin/sentiment-vader"]["description"]
    assert "YAKE" in models["builtin/yake-keywords"]["description"]
    assert "not typed entities" in models["builtin/capitalized-phrases"]["description"]


def test_naming_an_old_name_warns_with_the_new_one(db: Any, django_user_model: Any) -> None:
    alice = django_user_model.objects.create_user("alice")
    definition = {
        "name": "Old",
        "steps": [{"id": "e", "type": "inference", "model": "builtin/entities", "input": "x"}],
    }
    report = validate_definition(definition, catalog=catalog_for_user(alice))
    renamed = [i for i in report.warnings if i.code == "renamed_model"]
    assert len(renamed) == 1
    assert "builtin/capitalized-phrases" in renamed[0].message
    assert not [i for i in report.warnings if i.code == "unknown_model"]
