"""Conditions: CEL expressions over references.

A conditional step's ``condition`` is CEL (the Common Expression Language,
through the ``common-expression-language`` package) in which values are written
as references::

    ${sentiment.result.label} == 'POSITIVE' && ${sentiment.result.score} > 0.8

Each distinct reference is replaced by a generated variable (``_ref0``,
``_ref1``, …) and bound to its resolved value as plain data, so the text above
runs as ``_ref0 == 'POSITIVE' && _ref1 > 0.8``. Nothing a user types is run as
Python: CEL is a data-only language with no loops, no I/O and no way to define
functions.

How values reach CEL (checked by experiment with ``cel`` 0.10, and pinned by
tests): ``dict`` → map (``x.key`` and ``x['key']`` both work; a missing key
is an error), ``list``/``tuple`` → list, ``None`` → ``null``, ``bool`` → bool,
``int`` → int (values above 2**63-1 become uint, above 2**64-1 double),
``float`` and ``Decimal`` → double. CEL does not mix types in arithmetic
(``_ref0 + 1`` fails when ``_ref0`` is a double) but it does compare ints with
doubles (``${s.result.score} > 0`` works for 0.7). Any other Python object is
refused with a :class:`ConditionError`.

Limits. The library offers no time limit and holds the GIL while it evaluates,
so a thread or signal cannot interrupt it. CEL always terminates, and its cost
is bounded by the size of the expression and of the bound values, so the limits
are on those:

* the condition is at most ``MAX_CONDITION_LENGTH`` characters;
* comprehension macros (``all``, ``exists``, ``exists_one``, ``map``,
  ``filter``) nest at most ``MAX_COMPREHENSION_DEPTH`` deep;
* the bound values hold at most ``MAX_CONDITION_VALUE_ITEMS`` items (every
  dict, list and scalar counts one), nested at most ``MAX_VALUE_DEPTH`` deep;
* and ``items ** exponent`` must stay under ``MAX_CONDITION_COST``, where the
  exponent is the deepest chain of nested comprehensions, ``map`` and
  ``filter`` counting two each because this CEL build builds their result
  lists in quadratic time (3,000 items took 0.3 s, 100,000 items minutes).

Within these limits an evaluation takes well under a second.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import cel

from workflows.definition.references import (
    Reference,
    ReferenceMatch,
    ReferenceResolutionError,
    tokenize,
)

__all__ = [
    "MAX_COMPREHENSION_DEPTH",
    "MAX_CONDITION_COST",
    "MAX_CONDITION_LENGTH",
    "MAX_CONDITION_VALUE_ITEMS",
    "MAX_VALUE_DEPTH",
    "CompiledCondition",
    "ConditionError",
    "check_condition",
    "compile_condition",
    "evaluate_condition",
]

MAX_CONDITION_LENGTH = 2000
MAX_COMPREHENSION_DEPTH = 2
MAX_CONDITION_VALUE_ITEMS = 100_000
MAX_VALUE_DEPTH = 64
MAX_CONDITION_COST = 2_000_000

_MACRO_WEIGHTS = {"all": 1, "exists": 1, "exists_one": 1, "existsOne": 1, "map": 2, "filter": 2}
_MACRO_CALL = re.compile(r"\.\s*(" + "|".join(_MACRO_WEIGHTS) + r")\s*$")
_LOOP_VAR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")
#: Identifiers CEL reads as type names (``type(x) == string``), not variables.
_TYPE_NAMES = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"}
)
_VAR = re.compile(r"\b_ref(\d+)\b")


class ConditionError(ValueError):
    """A condition that cannot be compiled or evaluated; the message says why."""


@dataclass(frozen=True)
class CompiledCondition:
    """A condition ready to run: the CEL text and what each variable stands for."""

    source: str
    cel_source: str
    bindings: dict[str, Reference]
    program: Any = field(repr=False, compare=False)
    cost_exponent: int = 0


@dataclass
class _Scan:
    strings: list[tuple[int, int]]
    depth: int
    exponent: int
    loop_vars: set[str]


def _scan_cel(src: str) -> _Scan:
    """Find string literals, comprehension nesting and loop variables in CEL text."""
    strings: list[tuple[int, int]] = []
    stack: list[int] = []  # weight of each open paren (0: not a macro call)
    depth = exponent = 0
    loop_vars: set[str] = set()
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch in "'\"":
            raw = (i > 0 and src[i - 1] in "rR") or (
                i > 1 and src[i - 2] in "rR" and src[i - 1] in "bB"
            )
            quote = ch * 3 if src.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not src.startswith(quote, j):
                j += 2 if (src[j] == "\\" and not raw) else 1
            end = min(n, j + len(quote))
            strings.append((i, end))
            i = end
            continue
        if ch == "(":
            macro = _MACRO_CALL.search(src, 0, i)
            weight = _MACRO_WEIGHTS[macro.group(1)] if macro else 0
            stack.append(weight)
            if weight:
                depth = max(depth, sum(1 for w in stack if w))
                exponent = max(exponent, sum(stack))
                pos = i + 1
                for _ in range(2):  # one- and two-variable comprehensions
                    var = _LOOP_VAR.match(src, pos)
                    if var is None:
                        break
                    loop_vars.add(var.group(1))
                    pos = var.end()
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return _Scan(strings, depth, exponent, loop_vars)


def _restore_references(text: str, bindings: dict[str, Reference]) -> str:
    """Write ``_refN`` back as the reference it stands for, in messages."""

    def original(m: re.Match[str]) -> str:
        ref = bindings.get(m.group(0))
        return ref.raw if ref is not None else m.group(0)

    return _VAR.sub(original, text)


def _readable_cel_error(message: str, back: Callable[[str], str]) -> str:
    """Shorten a CEL parse error to its gist, in the user's own terms."""
    m = re.search(r"ERROR: <input>:\d+:\d+: (.*)", message)
    gist = m.group(1).strip() if m else message.splitlines()[0]
    if "'<EOF>'" in gist:
        return "the condition ends too early (is an operand or a bracket missing?)"
    gist = re.sub(r"\s*expecting \{.*?\}", "", gist)
    gist = re.sub(r"\s*expecting \S+", "", gist)
    return back(gist)


def _compile(expr: str) -> CompiledCondition:
    if not isinstance(expr, str) or not expr.strip():
        raise ConditionError("the condition is empty")
    if len(expr) > MAX_CONDITION_LENGTH:
        raise ConditionError(f"the condition is longer than {MAX_CONDITION_LENGTH} characters")

    bindings: dict[str, Reference] = {}
    var_for: dict[Reference, str] = {}
    placeholders: list[tuple[int, int]] = []
    parts: list[str] = []
    length = 0
    for token in tokenize(expr):
        if isinstance(token, ReferenceMatch):
            if token.reference is None:
                raise ConditionError(token.error or f"malformed reference {token.raw!r}")
            var = var_for.get(token.reference)
            if var is None:
                var = var_for[token.reference] = f"_ref{len(var_for)}"
                bindings[var] = token.reference
            text = var
            placeholders.append((length, length + len(text)))
        else:
            text = token
        parts.append(text)
        length += len(text)
    cel_source = "".join(parts)

    def back(text: str) -> str:
        return _restore_references(text, bindings)

    scan = _scan_cel(cel_source)
    for start, end in placeholders:
        if any(s <= start and end <= e for s, e in scan.strings):
            raise ConditionError(
                "a reference inside a quoted string is not replaced; compare it "
                "directly, e.g. ${step.result} == 'text'"
            )
    if scan.depth > MAX_COMPREHENSION_DEPTH:
        raise ConditionError(
            f"comprehensions (all, exists, map, filter…) nest {scan.depth} deep; "
            f"at most {MAX_COMPREHENSION_DEPTH} are allowed"
        )
    try:
        program = cel.compile(cel_source)
    except ValueError as exc:
        raise ConditionError(
            "the condition does not parse: " + _readable_cel_error(str(exc), back)
        ) from None
    unknown = sorted(set(program.variables()) - set(bindings) - scan.loop_vars - _TYPE_NAMES)
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        what = "which is not a value" if len(unknown) == 1 else "which are not values"
        raise ConditionError(
            f"the condition uses {names}, {what}; write values as "
            "references, e.g. ${step_id.result.field} or ${workflow.input.NAME}"
        )
    return CompiledCondition(expr, cel_source, bindings, program, scan.exponent)


_compile_cached = functools.lru_cache(maxsize=1024)(_compile)


def compile_condition(expr: str) -> CompiledCondition:
    """Compile ``expr`` (cached). Raises :class:`ConditionError`."""
    if not isinstance(expr, str):
        raise ConditionError("the condition must be a string")
    return _compile_cached(expr)


def check_condition(expr: str) -> str | None:
    """None when ``expr`` is a usable condition, else a message saying why not."""
    try:
        compile_condition(expr)
    except ConditionError as exc:
        return str(exc)
    return None


def _plain(value: Any, raw: str) -> tuple[Any, int]:
    """``value`` as CEL-ready plain data, and how many items it holds.

    Iterative, so deep data cannot exhaust the Python stack; too deep or too
    big raises :class:`ConditionError`.
    """
    count = 0
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        item, parent, key, depth = stack.pop()
        count += 1
        if count > MAX_CONDITION_VALUE_ITEMS:
            raise ConditionError(
                f"{raw} is too large to use in a condition "
                f"(more than {MAX_CONDITION_VALUE_ITEMS} items)"
            )
        if depth > MAX_VALUE_DEPTH:
            raise ConditionError(f"{raw} is nested too deeply to use in a condition")
        if item is None or isinstance(item, (bool, int, float, str)):
            parent[key] = item
        elif isinstance(item, Decimal):
            parent[key] = float(item)
        elif isinstance(item, dict):
            out: dict[Any, Any] = {}
            parent[key] = out
            for k, v in item.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise ConditionError(f"{raw} has a key of type {type(k).__name__}")
                stack.append((v, out, k, depth + 1))
        elif isinstance(item, (list, tuple)):
            items: list[Any] = [None] * len(item)
            parent[key] = items
            stack.extend((v, items, i, depth + 1) for i, v in enumerate(item))
        else:
            raise ConditionError(
                f"{raw} holds a value of type {type(item).__name__}, which a condition cannot use"
            )
    return root[0], count


def evaluate_condition(expr: str, lookup: Callable[[Reference], Any]) -> bool:
    """Evaluate ``expr`` with each reference resolved by ``lookup``.

    Returns the boolean result. Raises :class:`ConditionError` when the
    condition is invalid, a reference cannot be resolved, the values are too
    large, evaluation fails, or the result is not a boolean.
    """
    compiled = compile_condition(expr)
    context: dict[str, Any] = {}
    items = 0
    for var, ref in compiled.bindings.items():
        try:
            resolved = lookup(ref)
        except ReferenceResolutionError as exc:
            raise ConditionError(str(exc)) from None
        context[var], count = _plain(resolved, ref.raw)
        items += count
    if items > MAX_CONDITION_VALUE_ITEMS:
        raise ConditionError(
            f"the values in this condition are too large (more than "
            f"{MAX_CONDITION_VALUE_ITEMS} items together)"
        )
    if compiled.cost_exponent and max(items, 1) ** compiled.cost_exponent > MAX_CONDITION_COST:
        raise ConditionError(
            f"the values in this condition ({items} items) are too large for its "
            "nested comprehensions; simplify the condition or reduce the data first"
        )

    def back(text: str) -> str:
        return _restore_references(text, compiled.bindings)

    try:
        result = compiled.program.execute(context)
    except KeyError as exc:
        raise ConditionError(f"the condition reads a missing key {back(str(exc))}") from None
    except ZeroDivisionError:
        raise ConditionError("the condition divides by zero") from None
    except Exception as exc:  # the CEL binding raises several builtin types
        raise ConditionError(f"the condition failed: {back(str(exc))}") from None
    if not isinstance(result, bool):
        raise ConditionError(
            f"the condition must give true or false, not {type(result).__name__} "
            f"{back(repr(result))[:100]}"
        )
    return result
