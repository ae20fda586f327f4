"""One place that turns exceptions into HTTP answers.

Every error body has the same envelope: ``{"error": code, "message": text}``
plus ``errors``/``warnings`` (definition problems) or ``fields`` (request
fields) where they apply.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from executions.security import SecretInputError
from executions.selectors import ExecutionNotFound
from executions.services.lifecycle import ExecutionFinished, InputsInvalid
from workflows.definition.templating import TemplateParameterError
from workflows.definitions import DefinitionInvalid
from workflows.selectors import WorkflowNotFound
from workflows.services import PrincipalUnknown


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, (dict, list)) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(item) for item in items]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DefinitionInvalid):
        report = exc.report
        first = report.errors[0].message if report.errors else "The definition is invalid."
        return Response(
            _body(
                "definition_invalid",
                f"The workflow definition has {len(report.errors)} error(s). First: {first}",
                errors=[issue.to_dict() for issue in report.errors],
                warnings=[issue.to_dict() for issue in report.warnings],
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, TemplateParameterError):
        return Response(
            _body("template_parameters_invalid", str(exc), errors=exc.errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, PrincipalUnknown):
        return Response(
            _body("unknown_principal", str(exc), names=exc.names),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, InputsInvalid):
        return Response(
            _body("inputs_invalid", f"Invalid inputs: {exc}", errors=exc.errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SecretInputError):
        return Response(
            _body("inputs_invalid", str(exc), errors=[{"input": exc.field, "message": str(exc)}]),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ExecutionFinished):
        return Response(_body("conflict", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (WorkflowNotFound, ExecutionNotFound, Http404)):
        return Response(
            _body("not_found", "Not found, or you do not have access to it."),
            status=status.HTTP_404_NOT_FOUND,
        )
    if isinstance(exc, PermissionError):
        return Response(_body("permission_denied", str(exc)), status=status.HTTP_403_FORBIDDEN)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_field, messages = next(iter(fields.items()))
        response.data = _body("invalid_request", f"{first_field}: {messages[0]}", fields=fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else str(_flatten(detail))
        response.data = _body(
            exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code, message
        )
    return response
