"""The OpenAPI schema documents every answer a view can give, errors included.

Every error has one shape (``ERROR_SCHEMA``, the envelope of
``workflows.api.errors``). Which statuses an operation may answer follows from what
every API request passes through, so it is derived here once rather than listed on
each view:

- 400: any query parameter may be refused (a NUL, a bad filter or page), any body;
- 401 and 429: a missing or wrong API key, too many wrong ones from one address —
  authentication runs on every view, even those that need no sign-in;
- 403: a signed-in caller who may read but not do this (or a CSRF failure);
- 404: an id in the path that the caller may not read;
- 405/409/413/415: another method than documented, a state that refuses the change,
  a body over the size limit, a body in a format the operation does not read.

A view adds what is particular to it with ``error_statuses`` (402 for a budget, 503
for the worker registry).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Text PostgreSQL can store: no NUL (``ApiErrorMiddleware`` refuses one with a 400).
NO_NUL = "^[^\\x00]*$"

EMPTY: dict[str, Any] = {"type": "string", "maxLength": 0}

#: A query parameter read by ``workflows.instants.parse_instant``.
DATE_OR_DATETIME: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]
}

LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1},
    description="Page size, 1 to 500 (larger asks get 500); default 50.",
)
OFFSET = OpenApiParameter(
    "offset", {"type": "integer", "minimum": 0}, description="How many to skip; default 0."
)


ERROR_REF = {"$ref": "#/components/schemas/Error"}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, with every error status an operation can answer."""

    def _error_statuses(self) -> list[int]:
        statuses = {400, 401, 429}
        permissions = getattr(self.view, "permission_classes", [])
        if not all(p is AllowAny for p in permissions) or not permissions:
            statuses.add(403)
        if "{" in self.path:
            statuses.add(404)
        if self.method not in SAFE_METHODS:
            statuses.update({409, 413, 415})
        statuses.update(getattr(self.view, "error_statuses", ()))
        return sorted(statuses)

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] != "query":
                continue
            schema = parameter.get("schema", {})
            free_text = "enum" not in schema and "format" not in schema
            if schema.get("type") == "string" and free_text:
                schema.setdefault("pattern", NO_NUL)
            if not parameter.get("required"):
                # An optional parameter sent empty (``?since=``, as an HTML form sends
                # it) counts as not sent: the views read ``params.get(name) or None``.
                parameter["schema"] = {"anyOf": [schema, EMPTY]}
        return operation

    def _get_request_body(self, *args: Any, **kwargs: Any) -> Any:
        body = super()._get_request_body(*args, **kwargs)
        # A body schema given as a dict (a multipart upload) with required fields needs
        # a body at all; drf-spectacular only infers that from serializers.
        for media in (body or {}).get("content", {}).values():
            if media.get("schema", {}).get("required"):
                body["required"] = True
        return body

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if str(status) not in responses:
                response = self._get_response_for_code(dict(ERROR_REF), str(status))
                response["description"] = HTTPStatus(status).phrase
                responses[str(status)] = response
        return responses


def paged(child: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of one page of a list (``views.Pagination``): count, links, results."""
    name = child.__name__.removesuffix("Serializer")
    page = type(
        f"Paged{name}List",
        (serializers.Serializer,),
        {
            "__doc__": f"One page of {name} objects (limit/offset).",
            "count": serializers.IntegerField(help_text="How many there are in all."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
            "previous": serializers.URLField(allow_null=True),
            "results": child(many=True),
        },
    )
    # A list action's answer is an array unless told otherwise; a page is one object.
    return extend_schema_serializer(many=False)(page)
