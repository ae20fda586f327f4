"""Query parameters, read in one place: a value that is not what the parameter takes
is a 400 naming it (``ValidationError({name: [...]})``), never silently ignored.

A NUL character in any parameter is refused before a view runs
(``workflows.api.errors.ApiErrorMiddleware``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# "12", "-3", and "12.0" (JSON Schema's integers include integral decimals); at most
# 18 digits, so no int() of a huge literal.
WHOLE_NUMBER = re.compile(r"(-?[0-9]{1,18})(?:\.0+)?", re.ASCII)
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def query_choice(request: Request, name: str, choices: Iterable[str]) -> str | None:
    """The parameter if it is one of ``choices``; None when absent or empty."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    allowed = list(choices)
    if raw not in allowed:
        raise ValidationError({name: [f"One of {', '.join(allowed)}; not {raw[:50]!r}."]})
    return raw


def query_bool(request: Request, name: str) -> bool | None:
    """true/false (also 1/0, yes/no, on/off); None when absent or empty."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValidationError({name: ["true or false."]})


def query_int(request: Request, name: str, *, minimum: int) -> int | None:
    """A whole number of at least ``minimum``; None when absent or empty."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    match = WHOLE_NUMBER.fullmatch(raw)
    if match is None:
        raise ValidationError({name: ["A whole number."]})
    value = int(match.group(1))
    if value < minimum:
        raise ValidationError({name: [f"At least {minimum}."]})
    return value
