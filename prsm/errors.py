"""Typed exceptions: one class per kind of failure the API reports.

Every error body from the server has the envelope ``{"error": code, "message": text}``
plus ``errors``/``warnings`` (definition problems) or ``fields`` (request fields).
"""

from __future__ import annotations

from typing import Any


class PRSMError(Exception):
    """Base of every error the SDK raises.

    ``status_code`` is the HTTP status (``None`` for network or websocket failures),
    ``code`` the server's ``error`` code and ``body`` the decoded error body.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.body = body


class AuthenticationError(PRSMError):
    """401: no API key, or a bad, expired or revoked one."""


class PermissionDeniedError(PRSMError):
    """403: you may read the object but not do this to it."""


class NotFoundError(PRSMError):
    """404: no such object, or you may not read it (the server gives the same answer)."""


class ValidationError(PRSMError):
    """400: the request or definition is invalid.

    ``errors`` lists every problem: for a definition, dicts with ``step``, ``field``,
    ``code`` and ``message``; for request fields, ``{"field": path, "message": text}``.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        warnings: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.errors: list[dict[str, Any]] = errors or []
        self.warnings: list[dict[str, Any]] = warnings or []


class ConflictError(PRSMError):
    """409: the object is not in a state that allows this (e.g. cancelling a finished run)."""


class RateLimitError(PRSMError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(PRSMError):
    """5xx: the server failed (after retries, for idempotent calls)."""


class NetworkError(PRSMError):
    """The server could not be reached (after retries, for idempotent calls)."""


class WaitTimeoutError(PRSMError, TimeoutError):
    """A wait (``Execution.wait``, ``Monitor.run``) ran out of time."""


def _validation_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors = body.get("errors")
    if isinstance(errors, list):
        return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    fields = body.get("fields")
    if isinstance(fields, dict):
        return [
            {"field": field, "message": message}
            for field, messages in fields.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    return []


def error_from_response(status_code: int, body: Any, headers: Any = None) -> PRSMError:
    """The typed exception for an HTTP error response."""
    data = body if isinstance(body, dict) else {}
    code = data.get("error") if isinstance(data.get("error"), str) else None
    message = str(data.get("message") or (body if isinstance(body, str) and body else ""))
    message = message or f"HTTP {status_code}"
    common: dict[str, Any] = {"status_code": status_code, "code": code, "body": body}
    if status_code == 400:
        return ValidationError(
            message, errors=_validation_errors(data), warnings=data.get("warnings"), **common
        )
    if status_code == 401:
        return AuthenticationError(message, **common)
    if status_code == 403:
        return PermissionDeniedError(message, **common)
    if status_code == 404:
        return NotFoundError(message, **common)
    if status_code == 409:
        return ConflictError(message, **common)
    if status_code == 429:
        retry_after = None
        raw = headers.get("Retry-After") if headers is not None else None
        if raw:
            try:
                retry_after = float(raw)
            except ValueError:
                retry_after = None
        return RateLimitError(message, retry_after=retry_after, **common)
    if status_code >= 500:
        return ServerError(message, **common)
    return PRSMError(message, **common)
