"""References inside a definition document: ``${...}``.

A reference names a value that exists only when the workflow runs:

=================================  ==========================================
``${workflow.input.NAME}``         an execution input (a path may follow)
``${STEP.result}``                 a step's result (a path may follow)
``${loop.current_item}``           the item of the enclosing loop (+ path)
``${loop.index}``                  its 0-based index
``${template.NAME}``               a template parameter (replaced when a
                                   template is instantiated)
``${secrets.NAME}``                a secret, resolved by the engine
=================================  ==========================================

A path is a sequence of ``.key``, ``[0]`` (negative indexes count from the
end) and ``["key"]`` / ``['key']`` (for keys that are not plain words).
``.key`` segments are always string keys; on a list, a ``.key`` made of digits
is used as an index, so ``${s.result.items.0}`` and ``${s.result.items[0]}``
read the same item.

Writing ``$${`` produces a literal ``${`` and starts no reference.

Rendering (:func:`render`): a string that is exactly one reference becomes the
referenced value with its own JSON type (a list stays a list). In any other
string each reference is replaced by text: a string is inserted as it is;
anything else is written as compact JSON (``null``, ``true``, ``3.5``,
``{"a":1}``, ``[1,2]``). Dictionary keys are never rendered.

This module is pure: it knows nothing about steps or Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "MAX_REFERENCE_LENGTH",
    "Reference",
    "ReferenceKind",
    "ReferenceMatch",
    "ReferenceResolutionError",
    "ReferenceSyntaxError",
    "find_references",
    "format_path",
    "get_path",
    "iter_reference_errors",
    "iter_strings",
    "parse_reference",
    "render",
    "scan_text",
    "tokenize",
    "value_to_text",
]

ReferenceKind = Literal["workflow_input", "step", "loop", "template", "secret"]
PathSegment = str | int

#: The longest ``${...}`` accepted; a longer one reads as unterminated. This also
#: keeps scanning a huge string linear.
MAX_REFERENCE_LENGTH = 1000

#: Names that cannot be step ids because they start other kinds of reference
#: (or are kept for future ones).
RESERVED_NAMES = frozenset({"workflow", "loop", "template", "secrets", "step", "steps", "input"})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT = re.compile(
    r"""\.(?P<word>[A-Za-z0-9_\-]+)
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]
      | \[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]""",
    re.VERBOSE,
)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


class ReferenceSyntaxError(ValueError):
    """A ``${...}`` that does not follow the reference syntax."""


class ReferenceResolutionError(LookupError):
    """A reference that cannot be resolved against the values at hand."""

    def __init__(self, message: str, *, reference: str = ""):
        super().__init__(message)
        self.reference = reference

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Reference:
    """One parsed reference.

    ``name`` is the input name, step id, loop attribute (``current_item`` or
    ``index``), template parameter or secret name, depending on ``kind``.
    """

    raw: str
    kind: ReferenceKind
    name: str
    path: tuple[PathSegment, ...] = ()

    @property
    def step_id(self) -> str | None:
        """The referenced step's id, or None when this is not a step reference."""
        return self.name if self.kind == "step" else None


@dataclass(frozen=True)
class ReferenceMatch:
    """A ``${...}`` found in a text: its span and either the reference or an error."""

    start: int
    end: int
    raw: str
    reference: Reference | None = None
    error: str | None = None


# --------------------------------------------------------------------------- parsing


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _parse_path(body: str, pos: int, raw: str) -> tuple[PathSegment, ...]:
    segments: list[PathSegment] = []
    while pos < len(body):
        m = _SEGMENT.match(body, pos)
        if m is None:
            shown = body[pos : pos + 20]
            raise ReferenceSyntaxError(
                f'{raw}: unexpected text {shown!r}; a path is written as .key, [0] or ["key"]'
            )
        if m.group("word") is not None:
            segments.append(m.group("word"))
        elif m.group("index") is not None:
            segments.append(int(m.group("index")))
        elif m.group("dq") is not None:
            segments.append(_unescape(m.group("dq")))
        else:
            segments.append(_unescape(m.group("sq")))
        pos = m.end()
    return tuple(segments)


def parse_reference(raw: str) -> Reference:
    """Parse one reference written as ``${...}``.

    Raises :class:`ReferenceSyntaxError` with a message that quotes ``raw``.
    """
    if not (raw.startswith("${") and raw.endswith("}")):
        raise ReferenceSyntaxError(f"{raw!r} is not a reference; write ${{...}}")
    body = raw[2:-1].strip()
    if not body:
        raise ReferenceSyntaxError(f"{raw}: empty reference")
    head = _IDENT.match(body)
    if head is None:
        raise ReferenceSyntaxError(
            f"{raw}: a reference starts with a step id, 'workflow', 'loop', 'template' or 'secrets'"
        )
    name = head.group()
    path = _parse_path(body, head.end(), raw)

    if name == "workflow":
        if len(path) >= 2 and path[0] == "input" and isinstance(path[1], str):
            return Reference(raw, "workflow_input", path[1], path[2:])
        raise ReferenceSyntaxError(f"{raw}: workflow inputs are written ${{workflow.input.NAME}}")
    if name == "loop":
        if path[:1] == ("current_item",):
            return Reference(raw, "loop", "current_item", path[1:])
        if path == ("index",):
            return Reference(raw, "loop", "index")
        raise ReferenceSyntaxError(f"{raw}: expected ${{loop.current_item}} or ${{loop.index}}")
    if name in ("template", "secrets"):
        if len(path) == 1 and isinstance(path[0], str) and _IDENT.fullmatch(path[0]):
            kind: ReferenceKind = "template" if name == "template" else "secret"
            return Reference(raw, kind, path[0])
        raise ReferenceSyntaxError(f"{raw}: expected ${{{name}.NAME}}")
    if name == "input":
        raise ReferenceSyntaxError(f"{raw}: workflow inputs are written ${{workflow.input.NAME}}")
    if name in RESERVED_NAMES:
        raise ReferenceSyntaxError(f"{raw}: '{name}' is reserved and cannot be referenced")
    if path[:1] != ("result",):
        raise ReferenceSyntaxError(f"{raw}: a step's output is written ${{{name}.result}}")
    return Reference(raw, "step", name, path[1:])


def _find_close(text: str, start: int) -> int:
    """Index of the ``}`` closing the reference whose body starts at ``start``, or -1.

    Quoted keys may contain ``}``. Another ``${`` before the close means this one
    is unterminated.
    """
    limit = min(len(text), start + MAX_REFERENCE_LENGTH)
    i = start
    quote = ""
    while i < limit:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "}":
            return i
        elif ch == "$" and text.startswith("${", i):
            return -1
        i += 1
    return -1


def tokenize(text: str, *, unescape: bool = True) -> Iterator[str | ReferenceMatch]:
    """Split ``text`` into literal pieces and matches.

    With ``unescape`` a ``$${`` becomes ``${`` in the literal pieces; without it the
    escape is kept as written (for a later rendering pass).
    """
    pos = 0
    literal_start = 0
    while True:
        k = text.find("$", pos)
        if k < 0:
            break
        if text.startswith("$${", k):
            yield text[literal_start:k] + ("${" if unescape else "$${")
            pos = literal_start = k + 3
            continue
        if not text.startswith("${", k):
            pos = k + 1
            continue
        if k > literal_start:
            yield text[literal_start:k]
        close = _find_close(text, k + 2)
        if close < 0:
            shown = text[k : k + 30]
            yield ReferenceMatch(k, k + 2, "${", error=f"unterminated reference {shown!r}")
            pos = literal_start = k + 2
            continue
        raw = text[k : close + 1]
        try:
            yield ReferenceMatch(k, close + 1, raw, reference=parse_reference(raw))
        except ReferenceSyntaxError as exc:
            yield ReferenceMatch(k, close + 1, raw, error=str(exc))
        pos = literal_start = close + 1
    if literal_start < len(text):
        yield text[literal_start:]


def scan_text(text: str) -> list[ReferenceMatch]:
    """Every ``${...}`` in ``text``, well-formed or not, in order."""
    if "${" not in text:
        return []
    return [t for t in tokenize(text) if isinstance(t, ReferenceMatch)]


# --------------------------------------------------------------------------- walking


def format_path(base: str, key: str | int) -> str:
    """Append a dict key or list index to a field path: ``a.b``, ``a[0]``, ``a["x.y"]``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _PLAIN_KEY.fullmatch(key):
        return f"{base}.{key}" if base else key
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


def iter_strings(value: Any, base: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(field_path, text)`` for every string value under ``value``.

    Walks dicts (values only) and lists depth-first in document order, without
    recursion, so deeply nested data cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [(base, value)]
    while stack:
        field, item = stack.pop()
        if isinstance(item, str):
            yield field, item
        elif isinstance(item, dict):
            children = [(format_path(field, str(k)), v) for k, v in item.items()]
            stack.extend(reversed(children))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(format_path(field, i), v) for i, v in enumerate(item)]))


def find_references(value: Any) -> list[Reference]:
    """All well-formed references in the strings under ``value``, in document order."""
    return [
        match.reference
        for _, text in iter_strings(value)
        for match in scan_text(text)
        if match.reference is not None
    ]


def iter_reference_errors(value: Any) -> list[str]:
    """A message for every malformed reference under ``value``."""
    return [
        match.error
        for _, text in iter_strings(value)
        for match in scan_text(text)
        if match.error is not None
    ]


# --------------------------------------------------------------------------- resolving


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def get_path(value: Any, path: tuple[PathSegment, ...], *, reference: str = "") -> Any:
    """Follow ``path`` into ``value``.

    Raises :class:`ReferenceResolutionError` naming ``reference`` and the missing
    key or index.
    """
    where = f"{reference}: " if reference else ""
    current = value
    for segment in path:
        if isinstance(current, dict):
            if segment in current:
                current = current[segment]
                continue
            keys = ", ".join(repr(k) for k in list(current)[:10]) or "none"
            raise ReferenceResolutionError(
                f"{where}no key {segment!r} (keys: {keys})", reference=reference
            )
        if isinstance(current, (list, tuple)):
            index = segment
            if isinstance(segment, str) and segment.lstrip("-").isdigit():
                index = int(segment)
            if not isinstance(index, int):
                raise ReferenceResolutionError(
                    f"{where}cannot read key {segment!r} of a list", reference=reference
                )
            if not -len(current) <= index < len(current):
                raise ReferenceResolutionError(
                    f"{where}index {index} is out of range (the list has {len(current)} items)",
                    reference=reference,
                )
            current = current[index]
            continue
        raise ReferenceResolutionError(
            f"{where}cannot read {segment!r} of {_describe(current)}", reference=reference
        )
    return current


def value_to_text(value: Any) -> str:
    """How a value reads when interpolated into a string (see module docstring)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _render_text(text: str, lookup: Callable[[Reference], Any]) -> Any:
    if "$" not in text:
        return text
    tokens = list(tokenize(text))
    if len(tokens) == 1 and isinstance(tokens[0], ReferenceMatch) and tokens[0].reference:
        return lookup(tokens[0].reference)
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            parts.append(token)
        elif token.reference is None:
            raise ReferenceSyntaxError(token.error or f"malformed reference {token.raw!r}")
        else:
            parts.append(value_to_text(lookup(token.reference)))
    return "".join(parts)


def render(value: Any, lookup: Callable[[Reference], Any]) -> Any:
    """Replace every reference under ``value`` using ``lookup``.

    Returns a new structure; ``value`` is not modified. ``lookup`` receives each
    :class:`Reference` and returns its value (it may raise
    :class:`ReferenceResolutionError`). A malformed reference raises
    :class:`ReferenceSyntaxError`.
    """
    if isinstance(value, str):
        return _render_text(value, lookup)
    if isinstance(value, dict):
        return {k: render(v, lookup) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, lookup) for v in value]
    return value
