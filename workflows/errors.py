"""Domain errors and the one table that turns them into HTTP answers.

A service or selector that refuses a request raises a :class:`DomainError`: the
class carries its HTTP status and error code, and :meth:`DomainError.details`
adds the fields of the body beyond ``{"error": code, "message": text}``
(``errors`` for definition problems, ``names`` for unknown principals…). The API's
exception handler (``workflows.api.errors``) asks :func:`error_answer` and nothing
else, so an app above this one (``executions``) adds its errors without this one
importing it: its own ``DomainError`` subclasses carry their status, and classes it
cannot derive from here are added with :func:`error_register`.

Python's ``PermissionError`` is an OS error (a file the server may not open), not a
refusal of the caller: it is never mapped here, and its message — which names a
server path — never reaches a response. Refusals raise :class:`ActionForbidden`.

Pure: no Django, so the definition core may raise these too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

NOT_FOUND_MESSAGE = "Not found, or you do not have access to it."

#: The JSON Schema of every API error body (the OpenAPI component ``Error``): a code,
#: a message, and details where they apply. Not a DRF serializer, which cannot have a
#: field named "fields"; settings.SPECTACULAR_SETTINGS["APPEND_COMPONENTS"] adds it.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every API error has this shape.",
    "properties": {
        "error": {"type": "string", "description": "A stable code: not_found, invalid_request…"},
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Request fields or query parameters, and what is wrong with each.",
        },
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Definition problems.",
        },
        "warnings": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["error", "message"],
}


class DomainError(Exception):
    """A request the domain refuses; the class says how the API answers it."""

    http_status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"

    @property
    def message(self) -> str:
        return str(self)

    def details(self) -> dict[str, Any]:
        """Fields of the answer's body besides ``error`` and ``message``."""
        return {}


class NotFound(DomainError):
    """The object does not exist or the caller may not read it (both read as 404)."""

    http_status = 404
    code = "not_found"

    @property
    def message(self) -> str:
        return NOT_FOUND_MESSAGE  # the same words whether it exists or not


class ActionForbidden(DomainError):
    """The caller may read the object but not do this to it (403)."""

    http_status = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The object's state does not allow the request now (409)."""

    http_status = 409
    code = "conflict"


@dataclass(frozen=True)
class ErrorMapping:
    """How the API answers an exception class that is not a ``DomainError``."""

    status: int
    code: str
    message: Callable[[BaseException], str]
    details: Callable[[BaseException], dict[str, Any]]


_REGISTERED: dict[type[BaseException], ErrorMapping] = {}


def error_register(
    cls: type[BaseException],
    *,
    status: int,
    code: str,
    message: Callable[[BaseException], str] | None = None,
    details: Callable[[BaseException], dict[str, Any]] | None = None,
) -> None:
    """Map an exception class (and its subclasses) to an HTTP answer."""
    if issubclass(cls, OSError) or issubclass(OSError, cls):
        raise ValueError(f"{cls.__name__}: an OS error is a server fault, not a refusal")
    _REGISTERED[cls] = ErrorMapping(
        status=status,
        code=code,
        message=message or str,
        details=details or (lambda exc: {}),
    )


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    body: dict[str, Any]


def error_answer(exc: BaseException) -> ErrorAnswer | None:
    """The HTTP status and body for ``exc``, or None if it is no domain error."""
    if isinstance(exc, DomainError):
        return ErrorAnswer(
            exc.http_status, {"error": exc.code, "message": exc.message, **exc.details()}
        )
    for klass in type(exc).__mro__:
        mapping = _REGISTERED.get(klass)
        if mapping is not None:
            body = {"error": mapping.code, "message": mapping.message(exc)}
            return ErrorAnswer(mapping.status, {**body, **mapping.details(exc)})
    return None
