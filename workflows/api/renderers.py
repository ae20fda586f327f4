"""YAML output for exports, and a negotiation that calls an unknown format a 400."""

from __future__ import annotations

from typing import Any

import yaml
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer


class YAMLRenderer(BaseRenderer):
    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


class StrictFormatNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers: list[Any], format: str) -> list[Any]:
        matching = [r for r in renderers if r.format == format]
        if not matching:
            known = ", ".join(r.format for r in renderers)
            raise ValidationError({"format": [f"Unknown format {format!r}; use one of: {known}."]})
        return matching
