"""The built-in offline models: what ``builtin/…`` names run.

Each one is what its name and its catalog description (``workflows.catalog.
BUILTIN_MODEL_DOCS``) say, and none needs a network or a download:

- ``builtin/sentiment-vader``: VADER, from the ``vaderSentiment`` package (its lexicon
  ships in the wheel).
- ``builtin/yake-keywords``: YAKE, from the ``yake`` package (its stopword lists ship in
  the wheel).
- ``builtin/extractive-summary``: ours, a word-frequency extractive summary.
- ``builtin/capitalized-phrases``: ours, runs of capitalized words. It cannot type
  entities, and its name says so.

The old names in ``BUILTIN_MODEL_RENAMES`` run the model they became.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from executions.steps.base import STOPWORDS, StepError
from workflows.catalog import BUILTIN_MODEL_RENAMES

# Prompt verbs are not keywords of the text they ask about.
_STOPWORDS = STOPWORDS | {"summarize", "analyze", "extract"}

#: VADER's recommended thresholds on the compound score (Hutto & Gilbert, 2014).
VADER_POSITIVE = 0.05
VADER_NEGATIVE = -0.05


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_sentiment(text: str) -> dict[str, Any]:
    """VADER's scores of ``text``: ``{label, score, positive, neutral, negative}``.

    ``score`` is the compound score (-1 … 1); the label follows VADER's thresholds.
    """
    scores = _vader().polarity_scores(text)
    compound = float(scores["compound"])
    label = (
        "POSITIVE"
        if compound >= VADER_POSITIVE
        else "NEGATIVE"
        if compound <= VADER_NEGATIVE
        else "NEUTRAL"
    )
    return {
        "label": label,
        "score": round(compound, 4),
        "positive": float(scores["pos"]),
        "neutral": float(scores["neu"]),
        "negative": float(scores["neg"]),
    }


def yake_keywords(text: str, top_k: int = 10, max_words: int = 3) -> list[str]:
    """The ``top_k`` most relevant phrases of up to ``max_words`` words, best first."""
    import yake

    if not text.strip():
        return []
    extractor = yake.KeywordExtractor(lan="en", n=max_words, top=top_k)
    return [str(phrase) for phrase, _score in extractor.extract_keywords(text)]


_CAPITALIZED = re.compile(r"\b([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*|[A-Z]{2,})\b")


def capitalized_phrases(text: str) -> list[str]:
    """Every run of capitalized words and every all-capitals word, once, in order."""
    found: list[str] = []
    for match in _CAPITALIZED.finditer(text):
        phrase = match.group(1)
        if phrase.lower() in _STOPWORDS or phrase in found:
            continue
        found.append(phrase)
    return found


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]+", text.lower())


def extractive_summary(text: str, sentences: int = 3) -> str:
    """The ``sentences`` sentences whose words are most frequent in ``text``, in order."""
    parts = _sentences(text)
    if len(parts) <= sentences:
        return " ".join(parts)
    freq = Counter(w for w in _words(text) if w not in _STOPWORDS)
    ranked = sorted(
        range(len(parts)),
        key=lambda i: -sum(freq[w] for w in _words(parts[i])) / (len(_words(parts[i])) or 1),
    )
    keep = sorted(ranked[:sentences])
    return " ".join(parts[i] for i in keep)


def _positive_int(parameters: Mapping[str, Any], name: str, default: int) -> int:
    value = parameters.get(name, default)
    try:
        number = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise StepError(
            "invalid_input", f"The parameter '{name}' must be a positive integer, not {value!r}."
        )
    return number


Run = Callable[[str, Mapping[str, Any]], Any]

MODELS: dict[str, Run] = {
    "builtin/sentiment-vader": lambda text, p: vader_sentiment(text),
    "builtin/yake-keywords": lambda text, p: yake_keywords(
        text, _positive_int(p, "top_k", 10), _positive_int(p, "max_words", 3)
    ),
    "builtin/extractive-summary": lambda text, p: extractive_summary(
        text, _positive_int(p, "sentences", 3)
    ),
    "builtin/capitalized-phrases": lambda text, p: capitalized_phrases(text),
}

#: What a renamed model answers under its old name, where the shape changed.
_OLD_SHAPES: dict[str, Callable[[Any], Any]] = {
    "builtin/entities": lambda phrases: [{"text": p, "type": "MISC"} for p in phrases],
}


def run_builtin(model: str, text: str, parameters: Mapping[str, Any]) -> Any:
    """Run the built-in model ``model`` (or an old name of one) on ``text``."""
    current = BUILTIN_MODEL_RENAMES.get(model, model)
    run = MODELS.get(current)
    if run is None:
        raise StepError("model_unavailable", f"There is no built-in model '{model}'.")
    output = run(text, parameters)
    shape = _OLD_SHAPES.get(model)
    return shape(output) if shape else output
