"""The shapes shared by handlers, providers and functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from workflows.definition.schema import InlineStep, Step

#: Common English words that carry no topic, for the text functions and built-in models.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "al",
        "also",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "between",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "done",
        "et",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "might",
        "must",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "over",
        "per",
        "she",
        "should",
        "such",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "use",
        "used",
        "using",
        "via",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "yes",
        "you",
        "your",
    ]
)

ERROR_TYPES = (
    "timeout",
    "rate_limit",
    "temporary_failure",
    "model_unavailable",
    "invalid_input",
    "execution_error",
)


#: The public id of the execution whose step runs in this context (set by
#: :func:`executions.steps.registry.run`): functions that read uploaded files
#: serve only the files that execution was given.
CURRENT_EXECUTION: ContextVar[str | None] = ContextVar("prsm_current_execution", default=None)


class StepError(Exception):
    """A step failed with one of the error types the error-handling rules speak of."""

    def __init__(self, error_type: str, message: str):
        assert error_type in ERROR_TYPES, error_type
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass
class StepContext:
    """Everything a handler may use. ``input``/``inputs``/``parameters`` are resolved."""

    execution_id: str
    step_key: str
    spec: Step | InlineStep
    model: str | None
    input: Any
    inputs: dict[str, Any] | None
    parameters: dict[str, Any]
    mock_models: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    heartbeat: Callable[[], None] = lambda: None
    #: Who started the execution: models resolve to the endpoints they may use.
    user_id: int | None = None


@dataclass
class StepOutput:
    result: Any
    model_used: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    gpu_seconds: float = 0.0
