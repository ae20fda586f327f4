"""Request parsers with the limits and text checks a definition needs.

Everything that reaches a service has been checked here for size, nesting
depth and text PostgreSQL can store (no NUL characters, no lone surrogates),
so bad bytes become a 400 instead of a database error.
"""

from __future__ import annotations

import io
import json
from typing import Any

import yaml
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

MAX_DEPTH = 64


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
        raise ParseError(f"The request body is larger than the {limit // 1024} KiB limit.")
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
            data = json.loads(text, parse_constant=_reject_constant)
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
        raise ParseError(
            f"The file is larger than the {settings.PRSM_MAX_DEFINITION_BYTES // 1024} KiB limit."
        )
    if filename.endswith((".yaml", ".yml")) or "yaml" in content_type:
        return parse_yaml(body)
    return LimitedJSONParser().parse(io.BytesIO(body))
