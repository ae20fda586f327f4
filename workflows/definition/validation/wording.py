"""How issues are worded: type names, paths, suggestions, step labels."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from typing import Any

from workflows.definition.references import format_path

#: pydantic type errors, as what the value should have been.
EXPECTED = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "string_type": "a string",
    "string_unicode": "valid Unicode text",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
}


def nesting_exceeds(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return False


def loc_path(loc: Sequence[str | int]) -> str:
    path = ""
    for key in loc:
        path = format_path(path, key)
    return path


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return names.get(type(value), f"a {type(value).__name__}")


def suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def with_article(word: str) -> str:
    """``word`` with its indefinite article: "an inference", "a loop"."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def step_label(step_id: str | None, index: int, sub: str = "") -> str:
    label = f"Step '{step_id}'" if step_id else f"The step at steps[{index}]"
    return f"{label} ({sub})" if sub else label
