"""Request parsers with the limits and text checks a definition needs.

Everything that reaches a service has been checked here for size, nesting
depth and text PostgreSQL can store (no NUL characters, no lone surrogates),
so bad bytes become a 400 instead of a database error.
"""

from __future__ import annotations

import io
import json
import math
import sys
from typing import Any

import yaml
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, JSONParser

MAX_DEPTH = 64


class RequestTooLarge(APIException):
    """A body over a size limit: 413, in the API's JSON envelope like every error."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than the limit."


def _too_many_digits(digits: int) -> ParseError:
    limit = sys.get_int_max_str_digits()
    return ParseError(
        f"A number has {digits} digits; at most {limit} digits are allowed in an integer."
    )


def check_text(value: Any, path: str = "$", depth: int = 0) -> None:
    """Raise ``ParseError`` on text a database cannot store or absurd nesting."""
    if depth > MAX_DEPTH:
        raise ParseError(f"The document is nested more than {MAX_DEPTH} levels deep at {path}.")
    if isinstance(value, str):
        _check_string(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParseError(f"Keys must be strings; {path} has the key {key!r}.")
            _check_string(key, f"{path} (a key)")
            check_text(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, float) and value != value:  # NaN
        raise ParseError(f"{path} is NaN, which JSON does not allow.")
    elif isinstance(value, float) and math.isinf(value):
        raise ParseError(f"{path} is not a finite number.")


def _check_string(value: str, path: str) -> None:
    if "\x00" in value:
        raise ParseError(f"{path} contains a NUL character (\\u0000), which is not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            f"{path} contains an unpaired UTF-16 surrogate; send valid Unicode."
        ) from None


def _read_limited(stream: Any) -> bytes:
    limit = settings.PRSM_MAX_DEFINITION_BYTES
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise RequestTooLarge(f"The request body is larger than the {limit // 1024} KiB limit.")
    return body


class LimitedJSONParser(JSONParser):
    """JSON, at most PRSM_MAX_DEFINITION_BYTES, strict (no NaN), checked text."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = _read_limited(stream)
        if not body.strip():
            raise ParseError("The request body is empty; send a JSON object.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid UTF-8 (byte {exc.start}).") from None
        try:
            data = json.loads(
                text, parse_constant=_reject_constant, parse_int=_int, parse_float=_float
            )
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from None
        except RecursionError:
            raise ParseError("The JSON document is nested too deeply.") from None
        check_text(data)
        return data


def _reject_constant(name: str) -> Any:
    raise ParseError(f"{name} is not valid JSON.")


def _int(literal: str) -> int:
    # int() refuses past sys.get_int_max_str_digits() with a ValueError (a 500 if let through).
    digits = len(literal.lstrip("-"))
    if digits > sys.get_int_max_str_digits():
        raise _too_many_digits(digits)
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise ParseError(f"{literal[:40]} is not a finite number.")
    return value


class YAMLParser(BaseParser):
    """YAML documents (safe loader only), with the same limits as JSON."""

    media_type = "application/yaml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return parse_yaml(_read_limited(stream))


class YAMLTextParser(YAMLParser):
    media_type = "text/yaml"


class XYAMLParser(YAMLParser):
    media_type = "application/x-yaml"


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loading without anchors/aliases, which can expand a small file enormously."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not supported; write the value out")
        return super().compose_node(parent, index)


def parse_yaml(body: bytes) -> Any:
    try:
        data = yaml.load(body.decode("utf-8"), Loader=_NoAliasLoader)  # noqa: S506 - safe subclass
    except UnicodeDecodeError as exc:
        raise ParseError(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParseError(f"Malformed YAML{where}: {problem}.") from None
    except RecursionError:
        raise ParseError("The YAML document is nested too deeply.") from None
    except ValueError as exc:  # an integer past int()'s digit limit
        if "digits" in str(exc):
            raise ParseError(
                "A number has too many digits; at most "
                f"{sys.get_int_max_str_digits()} digits are allowed in an integer."
            ) from None
        raise
    # YAML dates and other non-JSON scalars would not survive storage as JSON.
    try:
        data = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ParseError(f"The YAML holds a value JSON cannot represent: {exc}.") from None
    check_text(data)
    return data


def parse_document(body: bytes, *, filename: str = "", content_type: str = "") -> Any:
    """Parse an uploaded definition file by its extension or content type."""
    if len(body) > settings.PRSM_MAX_DEFINITION_BYTES:
        raise RequestTooLarge(
            f"The file is larger than the {settings.PRSM_MAX_DEFINITION_BYTES // 1024} KiB limit."
        )
    if filename.endswith((".yaml", ".yml")) or "yaml" in content_type:
        return parse_yaml(body)
    return LimitedJSONParser().parse(io.BytesIO(body))
