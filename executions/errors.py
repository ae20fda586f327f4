"""The executions app's part of the error table (``workflows.errors``).

Errors of this app that derive from ``DomainError`` carry their own answer; these,
defined where they are raised, are mapped here. ``ExecutionsConfig.ready`` imports
this module, so the table is complete before the first request.
"""

from __future__ import annotations

from typing import Any

from executions.security import SecretInputError
from executions.selectors import ExecutionNotFound
from executions.services.lifecycle import ExecutionFinished, InputsInvalid
from workflows.errors import NOT_FOUND_MESSAGE, error_register


def _inputs_errors(exc: BaseException) -> dict[str, Any]:
    assert isinstance(exc, InputsInvalid)
    return {"errors": exc.errors}


def _secret_errors(exc: BaseException) -> dict[str, Any]:
    assert isinstance(exc, SecretInputError)
    return {"errors": [{"input": exc.field, "message": str(exc)}]}


error_register(
    InputsInvalid,
    status=400,
    code="inputs_invalid",
    message=lambda exc: f"Invalid inputs: {exc}",
    details=_inputs_errors,
)
error_register(SecretInputError, status=400, code="inputs_invalid", details=_secret_errors)
error_register(ExecutionFinished, status=409, code="conflict")
error_register(
    ExecutionNotFound, status=404, code="not_found", message=lambda exc: NOT_FOUND_MESSAGE
)
