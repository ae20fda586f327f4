"""YAML output for exports, and a negotiation that calls an unknown format a 400."""

from __future__ import annotations

from collections.abc import Iterable
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
    """``?format=`` chooses the renderer outright (whatever ``Accept`` says); an
    unknown format is a 400."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        fmt = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if fmt:
            renderer = self.filter_renderers(renderers, fmt)[0]
            return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)

    def filter_renderers(
        self, renderers: Iterable[BaseRenderer], format: str
    ) -> list[BaseRenderer]:
        offered = list(renderers)
        matching = [r for r in offered if r.format == format]
        if not matching:
            known = ", ".join(r.format for r in offered)
            raise ValidationError({"format": [f"Unknown format {format!r}; use one of: {known}."]})
        return matching
