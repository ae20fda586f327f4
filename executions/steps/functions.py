"""Registered functions for data_processing, aggregation, parallel_processing and
data_collection steps. Each is a plain Python callable ``fn(input, **parameters)``.

The catalog issue adds JSON Schemas for parameters and the rest of the library
(``pdf_to_text``, ``relevance_filter``, ``http_get``, ``academic_search``…); a Django
app or package registers more with :func:`register`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from executions.steps.base import StepError

FUNCTIONS: dict[str, Callable[..., Any]] = {}


def register(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = fn
        return fn

    return decorate


def call(name: str, value: Any, parameters: dict[str, Any]) -> Any:
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise StepError("invalid_input", f"There is no function '{name}'.")
    try:
        return fn(value, **parameters)
    except TypeError as exc:
        raise StepError("invalid_input", f"{name}: {exc}") from None


_STOP = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "this",
        "that",
    ]
)


@register("clean_text")
def clean_text(value: Any, *, remove_stopwords: bool = False, lowercase: bool = False) -> str:
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    if lowercase:
        text = text.lower()
    if remove_stopwords:
        text = " ".join(w for w in text.split(" ") if w.lower() not in _STOP)
    return text


@register("combine_results")
def combine_results(value: Any) -> Any:
    """Inputs as they are: a dict of named results (the default aggregation)."""
    return value


@register("merge_json")
def merge_json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        merged: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, dict):
                merged.update(item)
            else:
                merged[key] = item
        return merged
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict):
                out.update(item)
        return out
    raise StepError("invalid_input", "merge_json takes an object or a list of objects.")


@register("chunk_text")
def chunk_text(value: Any, *, size: int = 1000, overlap: int = 0) -> list[str]:
    text = str(value or "")
    if size < 1 or overlap < 0 or overlap >= size:
        raise StepError("invalid_input", "chunk_text needs size ≥ 1 and 0 ≤ overlap < size.")
    return [text[i : i + size] for i in range(0, max(len(text), 1), size - overlap)]


@register("extract_text")
def extract_text(value: Any, *, field: str | None = None) -> Any:
    """Text of a document: a string as is, an object's ``field`` or its common text keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in [field] if field else ["abstract", "text", "content", "summary", "title"]:
            if key and key in value:
                return value[key]
        return ""
    if isinstance(value, list):
        return [extract_text(v, field=field) for v in value]
    return str(value)


@register("noop")
def noop(value: Any, **_: Any) -> Any:
    """Returns its input (benchmarks and tests use it)."""
    return value


@register("sleep")
def sleep(value: Any, *, seconds: float = 1.0) -> Any:
    """Waits, then returns its input (for timeouts and cancellation in tests and demos)."""
    import time

    deadline = time.monotonic() + min(float(seconds), 3600)
    while time.monotonic() < deadline:
        time.sleep(min(0.1, deadline - time.monotonic()))
    return value


@register("fail")
def fail(
    value: Any, *, error_type: str = "execution_error", message: str = "failed on purpose"
) -> Any:
    """Always fails with ``error_type`` (for tests and demos of error handling)."""
    raise StepError(error_type, message)
