"""Whether a completed step's result is empty, and why, in words a person can read.

Pure. An empty list, string or object is not an error (a filter may rightly keep
nothing), but a run that "completes" with ``[]`` says nothing of what went wrong,
so the execution detail and the run page flag it. The reason names the cause when
the step's function and resolved parameters make it derivable (a relevance
threshold, a search query, a pattern); otherwise it is just "empty result".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

EMPTY_RESULT = "empty result"


def is_empty(result: Any) -> bool:
    """An empty list, string (blank counts) or object. None is "no result", not empty:
    a step may rightly return nothing (a skipped branch)."""
    if isinstance(result, str):
        return not result.strip()
    return isinstance(result, (list, dict)) and not result


def _count(value: Any) -> str:
    return f"0 of {len(value)}" if isinstance(value, list) and value else "0"


def _relevance(value: Any, parameters: Mapping[str, Any]) -> str:
    threshold = parameters.get("min_relevance", 0.1)
    return (
        f"{_count(value)} papers kept: relevance below {threshold:g}"
        if isinstance(threshold, (int, float))
        else f"{_count(value)} papers kept"
    )


def _search(value: Any, parameters: Mapping[str, Any]) -> str:
    query = parameters.get("query") or value
    return f"No papers found for “{query}”" if isinstance(query, str) and query else EMPTY_RESULT


def _regex(value: Any, parameters: Mapping[str, Any]) -> str:
    pattern = parameters.get("pattern")
    return f"No match for the pattern {pattern}" if isinstance(pattern, str) else EMPTY_RESULT


_REASONS: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "relevance_filter": _relevance,
    "academic_search": _search,
    "regex_extract": _regex,
}


def empty_reason(result: Any, *, function: str | None, input: Any, parameters: Any) -> str | None:
    """Why ``result`` is empty, or None if it is not. ``input`` and ``parameters`` are
    the step's as resolved when it ran (references already replaced)."""
    if not is_empty(result):
        return None
    explain = _REASONS.get(function or "")
    if explain is None:
        return EMPTY_RESULT
    return explain(input, parameters if isinstance(parameters, Mapping) else {})


def empty_flag(status: str, result: Any, *, function: str | None, resolved: Any) -> dict[str, Any]:
    """The execution detail's ``empty_result`` and ``empty_reason`` of a step run:
    only a completed step is flagged. ``resolved`` is the run's stored input
    (``{"input", "inputs", "parameters"}``)."""
    resolved = resolved if isinstance(resolved, Mapping) else {}
    reason = (
        empty_reason(
            result,
            function=function,
            input=resolved.get("input"),
            parameters=resolved.get("parameters"),
        )
        if status == "completed"
        else None
    )
    return {"empty_result": reason is not None, "empty_reason": reason}
