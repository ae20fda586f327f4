"""One place that turns exceptions into HTTP answers.

Every error body has the same envelope: ``{"error": code, "message": text}``
plus ``errors``/``warnings`` (definition problems) or ``fields`` (request
fields) where they apply.

Two layers, both here: :func:`exception_handler` answers what DRF views raise;
:class:`ApiErrorMiddleware` answers, for every path under ``/api/``, what happens
before or around a view — a query parameter PostgreSQL cannot store, a body over
the size limits, Django's own refusals (``SuspiciousOperation``) and bugs (a JSON
500 that says nothing about the server) — and :func:`api_not_found` answers an API
path that matches no route. So no API answer is ever an HTML page, with or
without ``DEBUG``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from workflows.errors import NOT_FOUND_MESSAGE, error_answer, error_register

# Django's own 404 (``get_object_or_404``) reads like every other one.
error_register(Http404, status=404, code="not_found", message=lambda exc: NOT_FOUND_MESSAGE)


API_PREFIX = "/api/"
SERVER_ERROR_MESSAGE = "The server failed to answer this request; the error has been logged."


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def _json(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse(_body(code, message, **extra), status=status)


def _too_large(limit: int) -> JsonResponse:
    return _json(
        413,
        "request_too_large",
        f"The request body is larger than the {limit} byte limit (PRSM_MAX_REQUEST_BYTES).",
    )


@csrf_exempt  # answers 404 to every method; a CSRF refusal would be an HTML 403
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """An API path that matches no route (an unknown endpoint, a malformed id)."""
    return _json(404, "not_found", NOT_FOUND_MESSAGE)


def request_body_limit(request: HttpRequest) -> int:
    """The most bytes an API request body may have.

    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``PRSM_MAX_REQUEST_BYTES``) for every body but a
    file upload, whose file part may be up to ``PRSM_UPLOAD_MAX_BYTES`` more (the
    upload view then checks the file itself).
    """
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if request.content_type == "multipart/form-data":
        limit += int(settings.PRSM_UPLOAD_MAX_BYTES)
    return limit


class ApiErrorMiddleware:
    """JSON answers for what goes wrong on an API path outside a DRF view's handler."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> JsonResponse | None:
        try:
            query = request.GET.lists()
        except SuspiciousOperation:  # more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters
            return _json(400, "invalid_request", "The query has too many parameters.")
        for name, values in query:
            if "\x00" in name or any("\x00" in value for value in values):
                shown = name.replace("\x00", "\\u0000")
                message = "contains a NUL character (%00), which is not allowed."
                return _json(
                    400, "invalid_request", f"{shown}: {message}", fields={shown: [message]}
                )
        declared = request.META.get("CONTENT_LENGTH") or ""
        limit = request_body_limit(request)
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        return None

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        """What a view raised past DRF's handler: Django's refusals, or a bug (500)."""
        if not request.path_info.startswith(API_PREFIX):
            return None
        if isinstance(exc, RequestDataTooBig):
            return _too_large(request_body_limit(request))
        if isinstance(exc, SuspiciousOperation):
            return _json(400, "invalid_request", "The request was refused as malformed.")
        if isinstance(exc, Http404):
            return _json(404, "not_found", NOT_FOUND_MESSAGE)
        # As Django does for an uncaught exception: tell listeners (the test client
        # re-raises it), log it with its traceback, then answer without any detail.
        signals.got_request_exception.send(sender=None, request=request)
        response = _json(500, "server_error", SERVER_ERROR_MESSAGE)
        log_response(
            "%s: %s",
            response.reason_phrase,
            request.path,
            response=response,
            request=request,
            exception=exc,
        )
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


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
    """Domain errors by the table of ``workflows.errors``; DRF's own in one envelope.

    Anything else (a bug, an OS error) is left to Django: a 500 whose body says
    nothing about the server, its paths or its code.
    """
    answer = error_answer(exc)
    if answer is not None:
        return Response(answer.body, status=answer.status)

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
        codes = exc.get_codes()
        response.data = _body(codes if isinstance(codes, str) else exc.default_code, message)
    return response
